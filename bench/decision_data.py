"""Loader for the real-text decision benchmark (``bench/decision/labels.csv``).

The benchmark stores only ids and labels, never tweet texts: the texts stay in the shared
datasets (``/work/shared/datasets``) under their own licences, and this module joins them back
at load time. That keeps the repository free of third-party text and makes every label
traceable to exactly one row of a public file.

Labels follow ``datasets/RUBRIC.md``: each row carries a ``primary`` action (what the per-class
report groups by), the *set* of acceptable reply actions and an inclusive tier range, because
real mentions are sometimes genuinely ambiguous (see the rubric's "Acceptable sets" section).

Only the standard library and pandas are used so the benchmark can be loaded without
the service or training code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Default location of the shared datasets: the repo lives at /work/main, the data at /work/shared.
SHARED_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets"

#: The label file, kept next to this module so the benchmark travels with the code.
LABELS_PATH = Path(__file__).parent / "decision" / "labels.csv"
# 320 more random tweets labelled after the cue lexicons and the policy were tuned on
# labels.csv: never looked at while developing, so the honest figure (see its README).
HOLDOUT_PATH = Path(__file__).parent / "decision" / "holdout.csv"

SOURCES = ("airline", "complaints", "twcs", "tweeteval")
PRIMARIES = ("none", "public", "private", "crisis")
ACTIONS = ("none", "public", "private")
SELECTIONS = ("random", "targeted")
COLUMNS = [
    "source",
    "id",
    "text",
    "primary",
    "actions",
    "tier_min",
    "tier_max",
    "rule",
    "selection",
]


def _require(path: Path) -> Path:
    """Fail loudly, naming the file, when a shared dataset is missing.

    The benchmark is useless without its texts; a silent empty frame would make a model
    look perfect, so a missing file is an error that says exactly what is absent.
    """
    if not path.is_file():
        raise FileNotFoundError(f"decision benchmark needs {path} (shared datasets missing?)")
    return path


def _read_labels(path: Path) -> pd.DataFrame:
    """Read labels.csv with every id kept as a string.

    Ids are 18-digit tweet ids or "<split>:<line>" keys; reading them as numbers would lose
    precision (the Excel-style 5.7e17 problem the airline SOURCE.md warns about).
    """
    labels = pd.read_csv(_require(path), dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c != "text" and c not in labels.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    labels["tier_min"] = labels["tier_min"].astype(int)
    labels["tier_max"] = labels["tier_max"].astype(int)
    return labels


def _text_index(shared: Path) -> dict[str, dict[str, list[str]]]:
    """Build, per source, a map from the benchmark's id string to all matching texts.

    Lists (not single values) are kept so that an id which occurs more than once in its
    file is detected and rejected instead of silently taking the first row.
    The dtypes follow each dataset's SOURCE.md: airline ids parse as int64, complaint ids
    must stay decimal strings, twcs ids are ints, tweeteval rows are keyed by ``line``.
    """
    airline = pd.read_csv(_require(shared / "airline_sentiment" / "Tweets.csv"))
    complaints = pd.read_csv(
        _require(shared / "complaints" / "complaints_train.csv"), dtype={"id": str}
    )
    twcs = pd.read_csv(
        _require(shared / "twcs_head5k" / "twcs_head5k.csv"),
        dtype={"author_id": str, "response_tweet_id": str},
    )
    twcs = twcs[twcs["inbound"] == True]  # noqa: E712 - only customer tweets are benchmark rows
    tweeteval = {
        split: pd.read_csv(_require(shared / "tweeteval_sentiment" / f"{split}.csv"))
        for split in ("val", "test")
    }

    def collect(keys: pd.Series, texts: pd.Series) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, text in zip(keys, texts, strict=True):
            out.setdefault(str(key), []).append(text)
        return out

    index = {
        "airline": collect(airline["tweet_id"].astype("int64"), airline["text"]),
        "complaints": collect(complaints["id"], complaints["text"]),
        "twcs": collect(twcs["tweet_id"].astype("int64"), twcs["text"]),
        "tweeteval": {},
    }
    for split, frame in tweeteval.items():
        index["tweeteval"].update(
            collect(split + ":" + frame["line"].astype(int).astype(str), frame["text"])
        )
    return index


def _validate_row(row: pd.Series) -> None:
    """Reject labels that break the rubric's invariants, naming the offending row.

    These are the checks a labelling slip most often violates: unknown vocabulary, a tier
    range out of order, "no reply" outside tier 1 (or a reply at tier 1), and crisis rows
    that are not tier 5.
    """
    where = f"{row['source']} id {row['id']}"
    actions = row["actions"]
    if row["source"] not in SOURCES:
        raise ValueError(f"{where}: unknown source {row['source']!r}")
    if row["primary"] not in PRIMARIES:
        raise ValueError(f"{where}: unknown primary {row['primary']!r}")
    if row["selection"] not in SELECTIONS:
        raise ValueError(f"{where}: unknown selection {row['selection']!r}")
    if not actions or any(a not in ACTIONS for a in actions) or len(set(actions)) != len(actions):
        raise ValueError(f"{where}: bad actions {'|'.join(actions)!r}")
    lo, hi = row["tier_min"], row["tier_max"]
    if not 1 <= lo <= hi <= 5:
        raise ValueError(f"{where}: bad tier range {lo}..{hi}")
    if actions == ("none",) and (lo, hi) != (1, 1):
        raise ValueError(f"{where}: no-reply must be tier 1, got {lo}..{hi}")
    if "none" not in actions and lo == 1:
        raise ValueError(f"{where}: a reply is never tier 1")
    if row["primary"] == "crisis":
        if (lo, hi) != (5, 5) or not row["rule"].startswith("R1"):
            raise ValueError(f"{where}: crisis rows are R1 at tier 5..5")
    elif row["primary"] not in actions:
        raise ValueError(f"{where}: primary {row['primary']!r} not among actions")
    if row["rule"][:2] not in {"R1", "R2", "R3", "R4", "R5", "R6"}:
        raise ValueError(f"{where}: unknown rule {row['rule']!r}")


def load_decision_benchmark(
    shared: Path = SHARED_DEFAULT, labels_path: Path = LABELS_PATH
) -> pd.DataFrame:
    """Return the labelled benchmark with texts resolved from the shared datasets.

    Columns: source, id, text, primary, actions (tuple of str), tier_min, tier_max, rule,
    selection. Raises FileNotFoundError naming the missing file when the shared datasets
    are absent, and ValueError naming the source and id when an id does not resolve to
    exactly one row (or a label breaks the rubric's invariants), so a broken benchmark
    can never be scored silently.
    """
    shared = Path(shared)
    labels = _read_labels(labels_path)
    index = _text_index(shared)

    texts: list[str] = []
    for source, key in zip(labels["source"], labels["id"], strict=True):
        if source not in index:
            raise ValueError(f"unknown source {source!r} for id {key}")
        hits = index[source].get(key, [])
        if len(hits) != 1:
            raise ValueError(f"{source} id {key} resolves to {len(hits)} rows, expected exactly 1")
        texts.append(hits[0])

    out = labels.assign(text=texts)
    out["actions"] = out["actions"].map(lambda s: tuple(s.split("|")))
    for _, row in out.iterrows():
        _validate_row(row)
    dupes = out.duplicated(["source", "id"], keep=False)
    if dupes.any():
        first = out[dupes].iloc[0]
        raise ValueError(f"{first['source']} id {first['id']} is labelled more than once")
    return out[COLUMNS].reset_index(drop=True)


if __name__ == "__main__":  # pragma: no cover - a quick summary for humans
    bench = load_decision_benchmark()
    print(f"{len(bench)} rows")
    for col in ("source", "primary", "rule", "selection"):
        print(bench[col].value_counts().to_string(), end="\n\n")
