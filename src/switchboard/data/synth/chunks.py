"""Many synthetic cases as Parquet chunks, one chunk in memory at a time.

`generate(n)` builds the whole data set in memory, which is what a million cases must not do.
Here chunk k is `generate(rows, seed=seed_k, start=start + k * DAYS days)`: its own seed
derived from (seed, k), its own stretch of time after the previous chunk, and case ids
renumbered across chunks (`syn-00000001` ... in time order). Same (n, seed, chunk_rows) gives
the same files; a different `chunk_rows` gives different (equally valid) cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from switchboard.data.synth.generator import generate
from switchboard.data.synth.world import DAYS, DEFAULT_START


def chunk_seed(seed: int, k: int) -> int:
    """Independent, reproducible seed of chunk `k` (numpy's SeedSequence spawning)."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def synthetic_chunks(n: int, seed: int = 0, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """`n` cases as frames of at most `chunk_rows`, deterministic in (n, seed, chunk_rows)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if chunk_rows < 1:
        raise ValueError(f"chunk rows must be positive, got {chunk_rows!r}")
    done = 0
    for k in range((n + chunk_rows - 1) // chunk_rows):
        rows = min(chunk_rows, n - done)
        start = DEFAULT_START + timedelta(days=DAYS * k)
        cases = generate(rows, seed=chunk_seed(seed, k), start=start).cases
        cases["case_id"] = [f"syn-{done + i:08d}" for i in range(1, rows + 1)]
        done += rows
        yield cases


def write_chunks(n: int, out: Path, seed: int = 0, chunk_rows: int = 50_000) -> list[Path]:
    """`out/part-00000.parquet`, ... (the streaming trainer reads them in name order)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    old = sorted(out.glob("part-*.parquet"))
    if old:
        raise ValueError(f"{out}: already holds {len(old)} part-*.parquet files; use an empty dir")
    paths = []
    for k, cases in enumerate(synthetic_chunks(n, seed, chunk_rows)):
        path = out / f"part-{k:05d}.parquet"
        cases.to_parquet(path, index=False)
        paths.append(path)
    return paths
