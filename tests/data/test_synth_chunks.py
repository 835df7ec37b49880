"""Synthetic cases as Parquet chunks: deterministic, unique ids, never all in memory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from switchboard.cli import main
from switchboard.data.synth.chunks import synthetic_chunks, write_chunks
from switchboard.settings import Settings


def test_chunks_are_deterministic_by_seed(tmp_path: Path) -> None:
    """Check that one (n, seed, chunk_rows) writes byte-identical files, another seed not."""
    a = write_chunks(250, tmp_path / "a", seed=3, chunk_rows=100)
    b = write_chunks(250, tmp_path / "b", seed=3, chunk_rows=100)
    c = write_chunks(250, tmp_path / "c", seed=4, chunk_rows=100)
    assert [p.name for p in a] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[0].read_bytes() != c[0].read_bytes()


def test_chunks_number_cases_across_chunks_in_time_order() -> None:
    """Check that case ids are unique over all chunks and later chunks are later in time."""
    chunks = list(synthetic_chunks(250, seed=1, chunk_rows=100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    ids = pd.concat([c["case_id"] for c in chunks])
    assert ids.is_unique and ids.iloc[0] == "syn-00000001" and ids.iloc[-1] == "syn-00000250"
    assert chunks[0]["created_at"].max() < chunks[1]["created_at"].min()


def test_synth_command_writes_chunks_to_a_directory(tmp_path: Path) -> None:
    """Check that `switchboard synth --chunk-rows` writes Parquet parts and the roster."""
    out, roster = tmp_path / "cases", tmp_path / "roster.json"
    argv = ["synth", "--n", "120", "--chunk-rows", "50", "--out", str(out)]
    assert main([*argv, "--roster", str(roster)], settings=Settings(data_dir=tmp_path)) == 0
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 3 and sum(len(pd.read_parquet(p)) for p in parts) == 120
    assert roster.is_file()


def test_synth_chunks_refuse_a_directory_that_already_holds_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that writing into a directory with old parts exits 2 instead of mixing data."""
    write_chunks(10, tmp_path / "cases", chunk_rows=5)
    argv = ["synth", "--n", "10", "--chunk-rows", "5", "--out", str(tmp_path / "cases")]
    assert main(argv, settings=Settings(data_dir=tmp_path)) == 2
    assert "already holds 2 part-*.parquet files" in capsys.readouterr().err
