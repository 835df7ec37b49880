"""Evaluation metrics, in the one JSON shape that `switchboard evaluate --json` prints.

    {"n", "accuracy", "macro_f1", "brier", "ece",
     "per_class": {label: {"precision", "recall", "f1", "support"}}}

Brier and expected calibration error say whether a confidence of 0.9 means right 9 times in
10: the policy abstains on confidence, so calibration is part of correctness here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total / len(confidence))


def multiclass_brier(proba: np.ndarray, y_index: np.ndarray) -> float:
    """Mean squared distance between the probability vector and the one-hot truth."""
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(y_index)), y_index] = 1.0
    return float(((proba - onehot) ** 2).sum(axis=1).mean())


def classification_report(
    y_true: Sequence[str], y_pred: Sequence[str], proba: np.ndarray | None, classes: Sequence[str]
) -> dict[str, Any]:
    """Per-head metrics; labels in `y_true` unknown to the model count as errors."""
    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    report: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)) if y_true else 0.0,
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))
        if y_true
        else 0.0,
        "per_class": {
            lab: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        },
    }
    if proba is not None and y_true:
        index = {c: i for i, c in enumerate(classes)}
        known = np.array([y in index for y in y_true])
        y_idx = np.array([index.get(y, 0) for y in y_true])
        conf = proba.max(axis=1)
        correct = np.array([a == b for a, b in zip(y_true, y_pred, strict=True)], dtype=float)
        report["brier"] = multiclass_brier(proba[known], y_idx[known]) if known.any() else None
        report["ece"] = expected_calibration_error(conf, correct)
    return report


def hit_at_k(ranked: Sequence[Sequence[str]], truth: Sequence[str], k: int) -> float:
    """Share of cases whose true responder is among the first k recommended."""
    if not truth:
        return 0.0
    return float(np.mean([t in r[:k] for r, t in zip(ranked, truth, strict=True)]))
