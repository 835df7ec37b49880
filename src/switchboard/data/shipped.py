"""The data the project ships in `datasets/`: what `make run` trains the default model on.

The default model learns from two sources, each for what it is good at. The curated corpus
(real phrasing across industries and languages, labelled by `datasets/RUBRIC.md`) teaches the
text heads. The synthetic sample teaches responder expertise (who handled what, how fast, how
well), which the corpus has no record of; its text labels are left out because templates
planted them. With them the decisions on real tweets are no better within noise
(`python -m bench.decision`, 2026-11-24, fast heads: 0.716 with them and 0.714 without on the
development set, 0.675 and 0.666 held out), and they would only slow the second opinion's
training down.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.data.loaders import LoadReport, load_cases
from switchboard.data.schema import CLASSIFIER_HEADS
from switchboard.settings import SHIPPED_DATA

SAMPLE_CASES = SHIPPED_DATA / "sample" / "cases.csv"
SAMPLE_ROSTER = SHIPPED_DATA / "sample" / "roster.json"
CURATED_DIR = SHIPPED_DATA / "curated"


def curated_files() -> list[Path]:
    """The curated corpus (one CSV per industry, plus `listening_*` files of the general
    social-listening stream), in a stable order."""
    return sorted(CURATED_DIR.glob("*.csv"))


def default_training_files() -> list[Path]:
    """What the default model (`make run`) is trained on."""
    return [SAMPLE_CASES, *curated_files()]


def load_default_training(rejects_path: Path | None = None) -> LoadReport:
    """The default model's training cases: the curated corpus with all its labels, and the
    synthetic sample for responder expertise only (its text labels blanked)."""
    report = load_cases(default_training_files(), "auto", {}, rejects_path=rejects_path)
    frame = report.accepted
    # The sample is the first file, so its accepted rows come first in the frame.
    synthetic = frame.index < report.per_file[0][2]
    report.accepted = frame.assign(
        **{h: frame[h].where(~synthetic) for h in CLASSIFIER_HEADS if h in frame}
    )
    return report
