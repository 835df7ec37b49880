"""Evaluation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard.ml.heads import fit_temperature
from switchboard.training.metrics import classification_report, expected_calibration_error, hit_at_k


def test_perfectly_calibrated_confidences_have_zero_ece() -> None:
    """Check that ECE is 0 when every bin's accuracy equals its confidence."""
    conf = np.array([0.75] * 4)
    correct = np.array([1, 1, 1, 0], dtype=float)
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0)


def test_overconfidence_shows_in_ece() -> None:
    """Check that 0.99 confidence at 50 % accuracy gives ECE near 0.49."""
    assert expected_calibration_error(np.full(4, 0.99), np.array([1, 0, 1, 0.0])) == pytest.approx(
        0.49
    )


def test_report_has_per_class_figures_and_counts_unknown_labels_as_errors() -> None:
    """Check the report shape and that a label the model never saw is scored wrong."""
    report = classification_report(["a", "b", "z"], ["a", "b", "a"], None, ["a", "b"])
    assert report["n"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert set(report["per_class"]) == {"a", "b", "z"}
    assert report["per_class"]["z"]["recall"] == 0.0


def test_hit_at_k_counts_truth_in_top_k() -> None:
    """Check hit@1 and hit@3 on a hand-made ranking."""
    ranked = [["x", "y", "z"], ["y", "x", "z"], ["z", "y", "x"]]
    truth = ["x", "x", "x"]
    assert hit_at_k(ranked, truth, 1) == pytest.approx(1 / 3)
    assert hit_at_k(ranked, truth, 3) == 1.0


def test_temperature_softens_overconfident_logits() -> None:
    """Check that logits right only half the time get a temperature above 1."""
    logits = np.array([[5.0, 0.0], [5.0, 0.0], [0.0, 5.0], [0.0, 5.0]])
    y = np.array([0, 1, 1, 0])
    assert fit_temperature(logits, y) > 1.0
