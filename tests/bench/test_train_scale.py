"""bench/train_scale.py's memory sampling: the RSS of a process and its children."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench.train_scale import measure, tree_rss

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


def test_tree_rss_counts_this_process() -> None:
    """Check that the sampled RSS of this process is positive and plausible."""
    assert 10 * 2**20 < tree_rss(os.getpid()) < 64 * 2**30


def test_measure_includes_children_memory(tmp_path: Path) -> None:
    """Check that a child holding ~200 MB in a grandchild is measured at least that big."""
    grandchild = "import time; b = bytearray(200 * 2**20); time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    peak, wall, code = measure([sys.executable, "-c", child], tmp_path / "log")
    assert code == 0 and wall >= 1.5
    assert peak >= 200 * 2**20
