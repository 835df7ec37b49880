"""Loading labelled cases from files: CSV, JSON Lines, Parquet, or a public dataset adapter.

    load_cases([path, ...], fmt="auto", mapping={"text": "body"}, rejects_path=...)

reads each file, renames columns (`--map target=source`), validates (datasets/validate.py),
concatenates the accepted rows, and writes every rejected row, with the file it came from, to
one rejects CSV. `LoadReport.summary()` states in = accepted + rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from switchboard.data.adapters import ADAPTERS
from switchboard.data.errors import DataError, NoRowsError
from switchboard.data.readers import (
    DEFAULT_ENCODING,
    check_encoding,
    read_csv_text,
    read_jsonl_text,
    read_text,
)
from switchboard.data.schema import COLUMN_NAMES, RENAMED_COLUMNS, SOURCE_LINE
from switchboard.data.validate import validate_cases, write_rejects

FORMATS: tuple[str, ...] = ("auto", *ADAPTERS)


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """`["text=body", ...]` -> {"text": "body"}; the target must be a schema column."""
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, source = item.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not target or not source:
            raise DataError(f"--map {item!r}: expected TARGET=SOURCE, e.g. text=tweet_body")
        if target not in COLUMN_NAMES:
            raise DataError(
                f"--map {item!r}: {target!r} is not a schema column {list(COLUMN_NAMES)}"
            )
        mapping[target] = source
    return mapping


def read_table(path: Path, encoding: str = DEFAULT_ENCODING) -> pd.DataFrame:
    """A table by its suffix; every value kept as read (strings for CSV, JSON types for JSONL).

    Text files are decoded with `encoding` and carry each row's line (readers.py).
    """
    name = path.name.lower()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if name.endswith((".csv", ".csv.gz")):
        return read_csv_text(path, read_text(path, encoding))
    if name.endswith(".tsv"):
        return read_csv_text(path, read_text(path, encoding), sep="\t")
    if name.endswith((".jsonl", ".ndjson")):
        return read_jsonl_text(path, read_text(path, encoding))
    if name.endswith(".parquet"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:  # pyarrow is in the `train` extra, not in `serve`
            raise DataError(
                f"{path}: reading .parquet needs pyarrow: pip install 'switchboard[train]'"
            ) from exc
        except (ValueError, OSError) as exc:
            raise DataError(f"{path}: cannot be read ({exc})") from exc
    raise DataError(f"{path}: unknown format; use .csv, .tsv, .jsonl, .ndjson or .parquet")


def load_raw(
    path: Path,
    fmt: str = "auto",
    mapping: Mapping[str, str] | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> pd.DataFrame:
    """The raw frame in schema column names, before validation.

    `encoding` applies to .csv/.tsv/.jsonl files; adapters know their datasets' encodings.
    """
    if fmt != "auto":
        if fmt not in ADAPTERS:
            raise DataError(f"unknown format {fmt!r}; choose from {list(FORMATS)}")
        return ADAPTERS[fmt](path)
    frame = read_table(path, encoding).rename(columns=RENAMED_COLUMNS)
    mapping = dict(mapping or {})
    missing = [src for src in mapping.values() if src not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: --map source column(s) {missing} not found; columns: "
            f"{[c for c in frame.columns if c != SOURCE_LINE]}"
        )
    # Drop a column that a mapping replaces, so `--map text=body` wins over an old `text`.
    replaced = [t for t in mapping if t in frame.columns and t not in mapping.values()]
    frame = frame.drop(columns=replaced)
    return frame.rename(columns={src: tgt for tgt, src in mapping.items()})


@dataclass(slots=True)
class LoadReport:
    accepted: pd.DataFrame
    rejects: pd.DataFrame
    n_in: int
    per_file: list[tuple[str, int, int, int]] = field(default_factory=list)
    rejects_path: Path | None = None

    def summary(self) -> str:
        where = (
            f" (rejects: {self.rejects_path})" if len(self.rejects) and self.rejects_path else ""
        )
        return (
            f"read {self.n_in:,} rows: {len(self.accepted):,} accepted + "
            f"{len(self.rejects):,} rejected{where}"
        )

    def reject_lines(self, limit: int = 10) -> list[str]:
        """`file:line: reason: detail` for the first rejects, as compilers and linters print.

        The rejects file has them all; these lines let a person see what is wrong at once.
        """
        shown = []
        for rec in self.rejects.head(limit).itertuples(index=False):
            line = getattr(rec, "line", "")
            where = f"{rec.source}:{line}" if str(line) else f"{rec.source}: row {rec.row}"
            shown.append(f"{where}: {rec.reason}: {rec.detail}")
        if len(self.rejects) > limit:
            more = f" in {self.rejects_path}" if self.rejects_path else ""
            shown.append(f"... and {len(self.rejects) - limit:,} more{more}")
        return shown

    def require_rows(self, purpose: str) -> None:
        """Refuse (exit 3) when no row survived: training or evaluating on nothing is no result.

        Checked here, before any model code, so the user gets the reason instead of whatever
        an empty frame breaks first.
        """
        if len(self.accepted):
            return
        files = ", ".join(name for name, *_ in self.per_file) or "the input"
        if self.n_in == 0:
            raise NoRowsError(f"{files}: no rows to {purpose}")
        where = f"; see {self.rejects_path}" if self.rejects_path else ""
        raise NoRowsError(
            f"{files}: all {self.n_in:,} rows were rejected, nothing to {purpose}{where}"
        )


def load_cases(
    paths: Sequence[Path],
    fmt: str = "auto",
    mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None,
    encoding: str = DEFAULT_ENCODING,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> LoadReport:
    """Read, validate and combine `paths`; rejected rows go to `rejects_path`.

    An old rejects file is removed first, so after a clean run no file is left claiming rows
    were rejected: the file exists exactly when this run rejected something. `progress`, if
    given, wraps the files as they are read (a progress bar).
    """
    check_encoding(encoding)
    if rejects_path is not None:
        rejects_path.unlink(missing_ok=True)
    accepted, rejects, per_file, n_in = [], [], [], 0
    for path in progress(paths, len(paths)) if progress else paths:
        raw = load_raw(Path(path), fmt, mapping, encoding)
        result = validate_cases(raw, source=str(path))
        accepted.append(result.accepted)
        rejects.append(result.rejects)
        per_file.append((str(path), result.n_in, len(result.accepted), len(result.rejects)))
        n_in += result.n_in
    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame()
    if rejects_path is not None and len(all_rejects):
        write_rejects(all_rejects, rejects_path)
    frame = pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame()
    return LoadReport(frame, all_rejects, n_in, per_file, rejects_path)
