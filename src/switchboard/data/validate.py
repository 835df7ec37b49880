"""Validation of labelled cases: every input row is either accepted or rejected with a reason.

Nothing is dropped silently. The rejects frame keeps the 1-based data row number of the
source file, a machine-readable `reason`, a human `detail` naming the column and value, and
the raw fields, so a person can fix the row and load it again.

Values are type-checked per row, not coerced: a JSON Lines `text` that is a number, array or
object is a `bad_text` reject (a number is not a mention, and `str([..])` would train on
Python's repr), and an array or object in any other column is a `bad_value` reject. Numbers
stay acceptable in the other text columns, where ids and numeric label codes are common.

Reason codes: empty_text, bad_text, bad_created_at, unknown_label, bad_value, duplicate,
conflicting_duplicate (see datasets/README.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from switchboard.data.errors import DataError
from switchboard.data.readers import json_type
from switchboard.data.schema import (
    COLUMNS,
    LABEL_COLUMNS,
    REPLY_ACTIONS,
    SENTIMENTS,
    SOURCE_LINE,
    SPLITS,
    TIERS,
)

TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f"}
BOOL_COLUMNS = ("author_verified", "actionable", "resolved")
CLOSED = {"sentiment": SENTIMENTS, "reply_action": REPLY_ACTIONS, "split": SPLITS}
STRING_COLUMNS = tuple(c.name for c in COLUMNS if c.kind in ("str", "category"))


@dataclass(slots=True)
class ValidationResult:
    accepted: pd.DataFrame
    rejects: pd.DataFrame
    n_in: int


class _Rejects:
    """Collects the first failing reason per row (row position -> (reason, detail))."""

    def __init__(self) -> None:
        self.by_row: dict[int, tuple[str, str]] = {}

    def add(self, mask: np.ndarray, reason: str, detail: pd.Series | str) -> None:
        for pos in np.flatnonzero(mask):
            if pos not in self.by_row:
                text = detail if isinstance(detail, str) else str(detail.iloc[pos])
                self.by_row[int(pos)] = (reason, text)


def _clean_value(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return str(v).strip() or None


def _strings(col: pd.Series) -> pd.Series:
    """Trimmed strings with None (never NaN) for missing/blank values."""
    return pd.Series([_clean_value(v) for v in col.tolist()], index=col.index, dtype=object)


def _parse_bool(col: pd.Series, name: str, rejects: _Rejects) -> pd.Series:
    text = [None if v is None else v.lower() for v in _strings(col)]
    known = TRUE | FALSE
    bad = np.array([v is not None and v not in known for v in text])
    detail = pd.Series([f"{name} must be true/false, got {v!r}" for v in text])
    rejects.add(bad, "bad_value", detail)
    values = [None if v is None or v not in known else v in TRUE for v in text]
    return pd.Series(values, index=col.index, dtype="boolean")


def _parse_number(
    col: pd.Series, name: str, rejects: _Rejects, low: float | None, high: float | None
) -> pd.Series:
    raw = _strings(col)
    num = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & num.isna()
    rejects.add(bad.to_numpy(), "bad_value", name + " is not a number: " + raw.astype(str))
    if low is not None:
        rejects.add((num < low).fillna(False).to_numpy(), "bad_value", f"{name} below {low}")
    if high is not None:
        rejects.add((num > high).fillna(False).to_numpy(), "bad_value", f"{name} above {high}")
    return num.astype("float64")


def _parse_dates(col: pd.Series, rejects: _Rejects) -> pd.Series:
    """Any ISO-like timestamp; naive ones are taken as UTC, offsets are converted."""
    raw = _strings(col)
    parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="mixed")
    bad = raw.notna() & parsed.isna()
    rejects.add(bad.to_numpy(), "bad_created_at", "created_at unparseable: " + raw.astype(str))
    return parsed.astype("datetime64[ns, UTC]")


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _type_problem(name: str, v: object) -> str | None:
    """Why a raw value cannot stand in a text column, or None when it can."""
    if _is_missing(v) or isinstance(v, str):
        return None
    if name == "text":
        return f"text must be a string, got {json_type(v)} {_short(v)}"
    if isinstance(v, list | tuple | dict | np.ndarray):
        return f"{name} must be a single value, got {json_type(v)} {_short(v)}"
    return None


def _short(v: object, limit: int = 40) -> str:
    """The value as JSON (as the user wrote it), cut to `limit` characters."""
    text = _as_json(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_json(v: object) -> str:
    return json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, default=str)


def _check_types(raw: pd.DataFrame, rejects: _Rejects) -> None:
    """Reject, per row, values whose type the column cannot hold (before they are coerced)."""
    for name in STRING_COLUMNS:
        if name not in raw:
            continue
        problems = [_type_problem(name, v) for v in raw[name].tolist()]
        bad = np.array([p is not None for p in problems], dtype=bool)
        reason = "bad_text" if name == "text" else "bad_value"
        rejects.add(bad, reason, pd.Series(problems, dtype=object))


# A lone surrogate cannot be encoded as UTF-8 (the rejects file, the database, an HTTP response
# all fail on it) and a NUL ends C strings: a value with either is rejected, never passed on.
UNSAFE_CHAR = re.compile("[\x00\ud800-\udfff]")


def _unsafe_char(v: str | None) -> str | None:
    """The first lone surrogate or NUL in a string, named with its position, or None."""
    found = UNSAFE_CHAR.search(v) if v is not None else None
    if found is None:
        return None
    ch, pos = found.group(), found.start() + 1
    what = "a NUL byte" if ch == "\x00" else f"a lone surrogate \\u{ord(ch):04x}"
    return f"{what} at character {pos}"


def _check_text(out: pd.DataFrame, rejects: _Rejects) -> None:
    text = out["text"]
    rejects.add(text.isna().to_numpy(), "empty_text", "text is empty")
    for name in STRING_COLUMNS:
        found = [_unsafe_char(v) for v in out[name].tolist()]
        bad = np.array([f is not None for f in found], dtype=bool)
        if bad.any():
            detail = pd.Series([f"{name} has {f}" for f in found], dtype=object)
            rejects.add(bad, "bad_text" if name == "text" else "bad_value", detail)


def _check_closed(out: pd.DataFrame, rejects: _Rejects) -> None:
    for name, allowed in CLOSED.items():
        vals = out[name]
        bad = vals.notna() & ~vals.isin(allowed)
        detail = f"{name} " + vals.astype(str).map(repr) + f" not in {list(allowed)}"
        rejects.add(bad.to_numpy(), "unknown_label", detail)
    tier = out["tier"]
    bad = tier.notna() & ~tier.isin([float(t) for t in TIERS])
    rejects.add(
        bad.to_numpy(), "unknown_label", "tier " + tier.astype(str) + f" not in {list(TIERS)}"
    )


def _check_duplicates(out: pd.DataFrame, rejects: _Rejects, rows: np.ndarray) -> None:
    """Same id + same labels: keep the first. Same id + different labels: reject them all."""
    ids = out["case_id"]
    dup = ids.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    signature = pd.util.hash_pandas_object(out[list(LABEL_COLUMNS)].astype(object), index=False)
    for _, group in out[dup].groupby("case_id", sort=False):
        positions = [out.index.get_loc(i) for i in group.index]
        if signature.iloc[positions].nunique() > 1:
            mask = np.zeros(len(out), dtype=bool)
            mask[positions] = True
            rows_txt = ", ".join(str(rows[p]) for p in positions)
            rejects.add(
                mask,
                "conflicting_duplicate",
                f"case_id {group['case_id'].iloc[0]!r} has different labels on rows {rows_txt}",
            )
        else:
            mask = np.zeros(len(out), dtype=bool)
            mask[positions[1:]] = True
            rejects.add(mask, "duplicate", f"same case and labels as row {rows[positions[0]]}")


def _coerce(raw: pd.DataFrame, source: str, rejects: _Rejects) -> pd.DataFrame:
    n = len(raw)
    out = pd.DataFrame(index=raw.index)
    for name in STRING_COLUMNS:
        out[name] = (
            _strings(raw[name])
            if name in raw
            else pd.Series([None] * n, index=raw.index, dtype=object)
        )
    stem = Path(source).stem or "row"
    rows = np.arange(1, n + 1)
    out["case_id"] = out["case_id"].where(
        out["case_id"].notna(), pd.Series([f"{stem}-{r}" for r in rows], index=raw.index)
    )
    out["created_at"] = (
        _parse_dates(raw["created_at"], rejects)
        if "created_at" in raw
        else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    )
    for name in BOOL_COLUMNS:
        out[name] = (
            _parse_bool(raw[name], name, rejects)
            if name in raw
            else pd.Series(pd.NA, index=raw.index, dtype="boolean")
        )
    numeric = {
        "author_followers": (0, None),
        "tier": (None, None),
        "first_response_s": (0, None),
        "csat": (1, 5),
    }
    for name, (low, high) in numeric.items():
        if name in raw:
            out[name] = _parse_number(raw[name], name, rejects, low, high)
        else:
            out[name] = pd.Series(np.nan, index=raw.index, dtype="float64")
    frac = out["author_followers"].notna() & (out["author_followers"] % 1 != 0)
    rejects.add(frac.to_numpy(), "bad_value", "author_followers must be a whole number")
    return out


def validate_cases(raw: pd.DataFrame, source: str = "") -> ValidationResult:
    """Split `raw` (schema column names) into typed accepted rows and rejects."""
    if "text" not in raw.columns:
        raise DataError(
            f"{source or 'input'}: required column 'text' is missing; columns found: "
            f"{[c for c in raw.columns if c != SOURCE_LINE]} (rename with --map text=<column>)"
        )
    raw = raw.reset_index(drop=True)
    lines = raw.pop(SOURCE_LINE).to_numpy() if SOURCE_LINE in raw else None
    rejects = _Rejects()
    _check_types(raw, rejects)
    out = _coerce(raw, source, rejects)
    _check_text(out, rejects)
    _check_closed(out, rejects)
    rows = np.arange(1, len(raw) + 1)
    _check_duplicates(out, rejects, rows)
    bad = np.zeros(len(raw), dtype=bool)
    bad[list(rejects.by_row)] = True
    for name in ("author_followers", "tier"):
        out[name] = out[name].round().astype("Int64")
    ordered = [c.name for c in COLUMNS]
    extra = [c for c in raw.columns if c not in ordered]
    accepted = pd.concat([out[ordered], raw[extra]], axis=1)[~bad].reset_index(drop=True)
    positions = np.flatnonzero(bad)
    rej = rejects_frame(raw, positions, [rejects.by_row[p] for p in positions], source, lines)
    return ValidationResult(accepted, rej, len(raw))


def rejects_frame(
    raw: pd.DataFrame,
    positions: np.ndarray,
    why: list[tuple[str, str]],
    source: str,
    lines: np.ndarray | None = None,
) -> pd.DataFrame:
    """The rejects file's rows for `raw`'s rows at `positions`: row (1-based), line, reason,
    detail, source, then the raw fields. Shared with the checks other commands add
    (`batch-score`'s context columns), so every rejects file reads the same."""
    rej = _raw_fields(raw.iloc[positions])
    # allow_duplicates: a data file may have its own `source` or `line` column.
    rej.insert(0, "source", source, allow_duplicates=True)
    rej.insert(0, "detail", [d for _, d in why], allow_duplicates=True)
    rej.insert(0, "reason", [r for r, _ in why], allow_duplicates=True)
    where = lines[positions] if lines is not None else [""] * len(positions)
    rej.insert(0, "line", where, allow_duplicates=True)
    rej.insert(0, "row", np.asarray(positions, dtype=int) + 1, allow_duplicates=True)
    return rej.reset_index(drop=True)


def _raw_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as written, as plain Python strings ("" for missing).

    Object dtype on purpose: pandas' inferred string dtype (Arrow) cannot hold the lone
    surrogates that some of these rows are rejected for.
    """
    cells = np.empty(frame.shape, dtype=object)
    for j in range(frame.shape[1]):
        cells[:, j] = [_field(v) for v in frame.iloc[:, j].tolist()]
    return pd.DataFrame(cells, index=frame.index, columns=frame.columns, dtype=object)


def _field(v: object) -> str:
    """One raw value as text; arrays and objects as JSON, so a fixed row can be loaded again."""
    if isinstance(v, list | tuple | dict | np.ndarray):
        return _as_json(v)
    return "" if _is_missing(v) else str(v)


def write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    """Write the rejects CSV; characters UTF-8 cannot hold (lone surrogates) as `\\udxxx`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rejects.to_csv(path, index=False, errors="backslashreplace")
