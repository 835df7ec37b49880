"""Diagnostic plots logged with every training run: confusion, per-class F1, calibration."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on CI or servers

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from switchboard.training.evaluate import HeadOutcome


def confusion_png(name: str, o: HeadOutcome, path: Path) -> None:
    labels = sorted(set(o.y_true) | set(o.y_pred))
    size = max(4.0, 0.5 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(
        o.y_true, o.y_pred, labels=labels, ax=ax, xticks_rotation="vertical", colorbar=False
    )
    ax.set_title(f"{name}: confusion on test")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def per_class_f1_png(name: str, per_class: dict[str, dict[str, float]], path: Path) -> None:
    labels = list(per_class)
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.3 * len(labels) + 1)))
    ax.barh(labels, [per_class[c]["f1"] for c in labels])
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(f"{name}: per-class F1 on test")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def calibration_png(name: str, o: HeadOutcome, path: Path, bins: int = 10) -> None:
    """Reliability diagram of the top-class confidence."""
    assert o.proba is not None
    conf = o.proba.max(axis=1)
    correct = np.array([a == b for a, b in zip(o.y_true, o.y_pred, strict=True)], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    xs, ys = [], []
    for b in range(bins):
        mask = which == b
        if mask.any():
            xs.append(conf[mask].mean())
            ys.append(correct[mask].mean())
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.plot(xs, ys, marker="o")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{name}: calibration on test")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_plots(outcomes: dict[str, HeadOutcome], report: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, o in outcomes.items():
        for suffix, draw in (
            ("confusion", lambda p, n=name, o=o: confusion_png(n, o, p)),
            ("calibration", lambda p, n=name, o=o: calibration_png(n, o, p)),
            ("f1", lambda p, n=name: per_class_f1_png(n, report["heads"][n]["per_class"], p)),
        ):
            path = directory / f"{name}-{suffix}.png"
            draw(path)
            written.append(path)
    return written
