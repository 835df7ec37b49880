"""A batch's rows checked as training data is (data/validate.py), plus what scoring needs.

Every row is scored or lands in the rejects file with a reason, the project's convention:
the mention columns are checked by `validate_cases` (empty or non-string text, bad
`created_at`, followers or flags, repeated `mention_id`: `duplicate`, the first is scored),
then the text length against `SWITCHBOARD_MAX_TEXT_CHARS` as the service checks it
(`bad_text`), and the context columns (`bad_value`: not a number, negative, a count that is
not whole). The text is scored exactly as given (validation trims only its copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from switchboard.batch.decisions import AUTHOR_COLUMNS, CONTEXT_COLUMNS, INPUT_COLUMNS
from switchboard.data.errors import DataError
from switchboard.data.schema import SOURCE_LINE
from switchboard.data.validate import rejects_frame, validate_cases


@dataclass(slots=True)
class Checked:
    accepted: pd.DataFrame  # mention_id, the mention columns and any context columns given
    rejects: pd.DataFrame
    n_in: int


def _context_problem(name: str, v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{name} is not a number: {v!r}"
    if not np.isfinite(x) or x < 0:
        return f"{name} must be a finite number >= 0, got {v!r}"
    if name in AUTHOR_COLUMNS and x != int(x):
        return f"{name} must be a whole number, got {v!r}"
    return None


def _scoring_problems(raw: pd.DataFrame, pos: int, max_chars: int) -> tuple[str, str] | None:
    text = raw["text"].iloc[pos]
    if isinstance(text, str) and len(text) > max_chars:
        return "bad_text", f"text is {len(text):,} characters; the limit is {max_chars:,}"
    for name in CONTEXT_COLUMNS:
        if name in raw:
            problem = _context_problem(name, raw[name].iloc[pos])
            if problem:
                return "bad_value", problem
    return None


def check_rows(raw: pd.DataFrame, source: str, max_chars: int) -> Checked:
    """Split `raw` into rows to score and rejects; refuse the whole file without `text`."""
    if "text" not in raw.columns:
        found = [c for c in raw.columns if c != SOURCE_LINE]
        raise DataError(f"{source}: required column 'text' is missing; columns found: {found}")
    raw = raw.reset_index(drop=True)
    lines = raw[SOURCE_LINE].to_numpy() if SOURCE_LINE in raw else None
    named = raw.drop(columns=["case_id"]) if "mention_id" in raw and "case_id" in raw else raw
    result = validate_cases(named.rename(columns={"mention_id": "case_id"}), source)
    bad_rows = set((result.rejects["row"] - 1).tolist()) if len(result.rejects) else set()
    kept = np.array([p for p in range(len(raw)) if p not in bad_rows], dtype=int)
    accepted = result.accepted.rename(columns={"case_id": "mention_id"})
    accepted["text"] = raw["text"].iloc[kept].astype(str).to_numpy()  # as given, untrimmed
    problems = [_scoring_problems(raw, int(p), max_chars) for p in kept]
    late = np.array([p is not None for p in problems], dtype=bool)
    rejects = result.rejects
    if late.any():
        more = rejects_frame(
            raw.drop(columns=[SOURCE_LINE], errors="ignore"),
            kept[late],
            [p for p in problems if p is not None],
            source,
            lines,
        )
        rejects = pd.concat([rejects, more]).sort_values("row", kind="stable")
        accepted = accepted[~late]
    for name in CONTEXT_COLUMNS:
        if name in accepted:
            accepted[name] = pd.to_numeric(accepted[name]).astype("float64")
    accepted = accepted[[c for c in INPUT_COLUMNS if c in accepted]]
    return Checked(accepted.reset_index(drop=True), rejects.reset_index(drop=True), len(raw))
