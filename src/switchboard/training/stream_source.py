"""Labelled cases read from Parquet in fixed-size chunks, validated chunk by chunk.

The streaming trainer (training/stream.py) reads its input twice and never holds it whole:
this module yields the same validated chunks, in the same order, on every pass. Parquet only:
it can be read a row group at a time with its row count known up front; a CSV would have to be
parsed whole to be split safely (quoted newlines), so it is refused with the command to convert.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from switchboard.data.errors import DataError
from switchboard.data.schema import RENAMED_COLUMNS
from switchboard.data.validate import validate_cases


def parquet_files(paths: Sequence[Path]) -> list[Path]:
    """Every .parquet file named, or inside a named directory (sorted by name: a fixed order).

    Anything else is a clear error: the streaming path reads Parquet only.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.lower().endswith(".parquet"))
            if not found:
                raise DataError(f"{path}: a directory without .parquet files")
            files += found
        elif not path.is_file():
            raise DataError(f"{path}: no such file")
        elif path.name.lower().endswith(".parquet"):
            files.append(path)
        else:
            raise DataError(
                f"{path}: streaming training reads Parquet (a .parquet file or a directory of "
                'them); convert it first, e.g. python -c "import pandas as pd; '
                f"pd.read_csv('{path}').to_parquet('{path.with_suffix('.parquet')}')\", "
                "or train in memory without --streaming"
            )
    return files


def count_rows(paths: Sequence[Path]) -> int | None:
    """Rows in the inputs from Parquet metadata alone, or None if any input is not Parquet."""
    try:
        files = parquet_files(paths)
    except DataError:
        return None
    import pyarrow.parquet as pq

    try:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (OSError, ValueError) as exc:
        raise DataError(f"{paths[0]}: cannot be read as Parquet ({exc})") from exc


@dataclass(slots=True)
class ChunkStats:
    """What one pass read: rows in, accepted, rejected (per pass; every pass sees the same)."""

    n_in: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    rejects: list[pd.DataFrame] = field(default_factory=list)


@dataclass(slots=True)
class ParquetSource:
    """The inputs as a sequence of validated chunks; iterate it once per pass."""

    paths: Sequence[Path]
    chunk_rows: int = 50_000
    mapping: Mapping[str, str] = field(default_factory=dict)
    # Rejected rows kept for the rejects file (the first ones; the count is always exact).
    keep_rejects: int = 10_000

    def __post_init__(self) -> None:
        if self.chunk_rows < 1:
            raise DataError(f"chunk rows must be positive, got {self.chunk_rows}")
        self.paths = parquet_files(self.paths)

    def chunks(self, stats: ChunkStats | None = None) -> Iterator[pd.DataFrame]:
        """Accepted rows, `chunk_rows` at a time per file, always in the same order."""
        import pyarrow.parquet as pq

        for path in self.paths:
            try:
                batches = pq.ParquetFile(path).iter_batches(batch_size=self.chunk_rows)
                for batch in batches:
                    yield from self._validated(batch.to_pandas(), str(path), stats)
            except (OSError, ValueError) as exc:
                if isinstance(exc, DataError):
                    raise
                raise DataError(f"{path}: cannot be read as Parquet ({exc})") from exc

    def _validated(
        self, raw: pd.DataFrame, source: str, stats: ChunkStats | None
    ) -> Iterator[pd.DataFrame]:
        raw = raw.rename(columns=RENAMED_COLUMNS)
        missing = [s for s in self.mapping.values() if s not in raw.columns]
        if missing:
            raise DataError(f"{source}: --map source column(s) {missing} not found")
        replaced = [t for t in self.mapping if t in raw.columns and t not in self.mapping.values()]
        raw = raw.drop(columns=replaced).rename(columns={s: t for t, s in self.mapping.items()})
        result = validate_cases(raw, source=source)
        if stats is not None:
            stats.n_in += result.n_in
            stats.n_accepted += len(result.accepted)
            stats.n_rejected += len(result.rejects)
            kept = sum(len(r) for r in stats.rejects)
            if len(result.rejects) and kept < self.keep_rejects:
                stats.rejects.append(result.rejects.head(self.keep_rejects - kept))
        if len(result.accepted):
            yield result.accepted
