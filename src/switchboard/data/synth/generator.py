"""`generate(n, seed)`: the whole synthetic data set, written to files by `write`; `python -m
switchboard.data.synth`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from switchboard.data.schema import CARE_INTENTS, COLUMN_NAMES
from switchboard.data.synth.labels import Labels, add_label_noise, assign_outcomes, practice_labels
from switchboard.data.synth.mentions import (
    Row,
    _draw_authors,
    _draw_categorical,
    _draw_offsets,
    _draw_sentiments,
    compose,
)
from switchboard.data.synth.world import (
    BRAND_WEIGHTS,
    BRANDS,
    CASE_FORMATS,
    CHANNELS,
    DEFAULT_START,
    INTENT_WEIGHTS,
    LANGUAGES,
    SyntheticData,
    build_roster,
)


def _check_args(n: int, seed: int, start: datetime | None) -> datetime:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware (e.g. ...+00:00), got {start!r}")
    return start.astimezone(UTC)


def _texts(rng: np.random.Generator, rows: list[Row]) -> tuple[list[str], np.ndarray, np.ndarray]:
    rnd = random.Random(int(rng.integers(0, 2**63)))
    composed = [compose(rnd, row) for row in rows]
    texts = [c[0] for c in composed]
    return (
        texts,
        np.array([c[1] for c in composed], dtype=bool),
        np.array([c[2] for c in composed], dtype=bool),
    )


def _frame(
    columns: dict[str, np.ndarray], labels: Labels, outcomes: dict, start: datetime
) -> pd.DataFrame:
    """Schema dtypes, time order, then ids in that order (syn-000001 is the oldest)."""
    n = len(labels.intent)
    text = {
        k: pd.Series(columns[k], dtype="str")
        for k in ("text", "channel", "brand", "author_id", "language")
    }
    frame = pd.DataFrame(
        {
            "case_id": "",
            "text": text["text"],
            "created_at": pd.to_datetime(
                int(start.timestamp()) + columns["offset"], unit="s", utc=True
            ),
            "channel": text["channel"],
            "brand": text["brand"],
            "author_id": text["author_id"],
            "author_followers": columns["author_followers"].astype(np.int64),
            "author_verified": columns["author_verified"].astype(bool),
            "language": text["language"],
            "split": pd.Series([None] * n, dtype="str"),  # let the split rule decide
            "intent": pd.Series(labels.intent, dtype="str"),
            "sentiment": pd.Series(labels.sentiment, dtype="str"),
            "actionable": labels.actionable.astype(bool),
            "reply_action": pd.Series(labels.reply_action, dtype="str"),
            "tier": labels.tier.astype(np.int64),
            **outcomes,
        }
    )
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    frame["case_id"] = pd.Series([f"syn-{i:06d}" for i in range(1, n + 1)], dtype="str")
    return frame[list(COLUMN_NAMES)]


def generate(n: int, seed: int = 0, start: datetime | None = None) -> SyntheticData:
    """`n` labelled cases in time order, deterministic in (n, seed, start)."""
    start = _check_args(n, seed, start)
    rng = np.random.default_rng(seed)
    intents = _draw_categorical(rng, INTENT_WEIGHTS, n)
    brands = rng.choice(len(BRANDS), size=n, p=BRAND_WEIGHTS)
    offsets = _draw_offsets(rng, intents, brands, start)  # may move mentions to the spike brand
    authors = _draw_authors(rng, intents)
    sentiments = _draw_sentiments(rng, intents, authors.rager)
    languages = _draw_categorical(rng, LANGUAGES, n)
    channels = _draw_categorical(rng, CHANNELS, n)
    rows = [
        Row(i, lang, s, BRANDS[b], r)
        for i, lang, s, b, r in zip(
            intents, languages, sentiments, brands.tolist(), authors.rager.tolist(), strict=True
        )
    ]
    texts, has_number, venting = _texts(rng, rows)
    labels = practice_labels(intents, sentiments, has_number, venting)
    add_label_noise(rng, labels)
    roster = build_roster()
    outcomes = assign_outcomes(rng, labels, languages, offsets // 3_600, roster, start)
    columns = {
        "text": np.array(texts, dtype=object),
        "offset": offsets,
        "channel": channels,
        "brand": np.array([BRANDS[b].name for b in brands.tolist()], dtype=object),
        "author_id": np.array(authors.ids, dtype=object),
        "author_followers": authors.followers,
        "author_verified": authors.verified,
        "language": languages,
    }
    return SyntheticData(cases=_frame(columns, labels, outcomes, start), roster=roster)


def write(data: SyntheticData, cases_path: Path, roster_path: Path | None) -> None:
    """Cases as .csv, .jsonl or .parquet (by suffix); the roster as a JSON list."""
    cases_path, suffix = Path(cases_path), Path(cases_path).suffix.lower()
    if suffix not in CASE_FORMATS:
        raise ValueError(
            f"cases path {cases_path}: unsupported suffix {suffix!r}, use one of {CASE_FORMATS}"
        )
    cases_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        data.cases.to_csv(cases_path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif suffix == ".jsonl":
        data.cases.to_json(
            cases_path, orient="records", lines=True, date_format="iso", force_ascii=False
        )
    else:
        data.cases.to_parquet(cases_path, index=False)
    if roster_path is not None:
        roster_path = Path(roster_path)
        roster_path.parent.mkdir(parents=True, exist_ok=True)
        roster_path.write_text(json.dumps(data.roster, indent=2, ensure_ascii=False) + "\n")


def summary(cases: pd.DataFrame) -> str:
    """One line per intent with counts, and the shares that matter for routing."""
    counts = cases["intent"].value_counts()
    lines = [f"{len(cases)} cases, {int(cases['actionable'].sum())} actionable"]
    lines += [f"  {intent:<16}{counts.get(intent, 0):>8}" for intent in CARE_INTENTS]
    lines.append(
        "  reply_action: " + ", ".join(f"{k}={v}" for k, v in _counts(cases, "reply_action"))
    )
    lines.append("  tier:       " + ", ".join(f"{k}={v}" for k, v in _counts(cases, "tier")))
    return "\n".join(lines)


def _counts(cases: pd.DataFrame, column: str) -> list[tuple[object, int]]:
    return sorted(cases[column].value_counts().items(), key=lambda kv: str(kv[0]))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m switchboard.data.synth --n 1000 --seed 1 --out cases.csv [--roster FILE]`."""
    prog = "python -m switchboard.data.synth"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--n", type=int, required=True, help="number of cases")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, required=True, help="cases file: .csv/.jsonl/.parquet")
    parser.add_argument("--roster", type=Path, help="also write the roster JSON here")
    args = parser.parse_args(argv)
    try:
        data = generate(args.n, seed=args.seed)
        write(data, args.out, args.roster)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(data.cases))
    print(
        f"wrote {args.out}"
        + (f" and {args.roster} ({len(data.roster)} responders)" if args.roster else "")
    )
    return 0
