"""The data the project ships in `datasets/`: what `make run` trains the default model on.

The default model learns from two sources on purpose: the synthetic sample (structure the
routing simulation needs: authors, responders, times, outcomes) and the curated corpus (real
phrasing across industries and languages, labelled by `datasets/RUBRIC.md`). Either alone
fails on real text in its own way; `bench/decision.py` measures each.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import SHIPPED_DATA

SAMPLE_CASES = SHIPPED_DATA / "sample" / "cases.csv"
SAMPLE_ROSTER = SHIPPED_DATA / "sample" / "roster.json"
CURATED_DIR = SHIPPED_DATA / "curated"


def curated_files() -> list[Path]:
    """The curated corpus, one CSV per industry, in a stable order."""
    return sorted(CURATED_DIR.glob("*.csv"))


def default_training_files() -> list[Path]:
    """What the default model (`make run`) is trained on."""
    return [SAMPLE_CASES, *curated_files()]
