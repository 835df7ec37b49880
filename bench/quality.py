"""Model quality on real public data, through the same commands a data scientist runs.

Each dataset is trained with `switchboard train` and scored with `switchboard evaluate` on its
documented split (`../shared/datasets/SPLIT_RULE.md` or the official one), in a fresh data
directory, with the production code path and default settings: no per-dataset tuning. A
dataset whose folder is absent is skipped with a message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import SHARED, table, write_result


@dataclass(frozen=True, slots=True)
class Figure:
    dataset: str
    metric: str
    path: tuple[str, ...]  # where the number sits in the evaluate/CV JSON
    anchors: str


FIGURES = (
    Figure("airline_sentiment", "sentiment accuracy", ("heads", "sentiment", "accuracy"),
           "majority 0.627; informal published SVC 0.788"),
    Figure("airline_sentiment", "sentiment macro-F1", ("heads", "sentiment", "macro_f1"), "-"),
    Figure("airline_sentiment", "negative reason (intent) macro-F1",
           ("heads", "intent", "macro_f1"), "-"),
    Figure("complaints", "actionable macro-F1 (5-fold CV)", ("heads", "actionable", "macro_f1"),
           "79 F1 (Preotiuc-Pietro et al. 2019); 87 macro-F1 transformers (Jin & Aletras 2020)"),
    Figure("banking77", "intent accuracy", ("heads", "intent", "accuracy"),
           "fine-tuned BERT ~0.937"),
    Figure("clinc150", "in-scope accuracy", ("abstention", "in_scope_accuracy"),
           "BERT 0.962 / SVM 0.910 (paper Table 2, full)"),
    Figure("clinc150", "out-of-scope recall", ("abstention", "out_of_scope_recall"),
           "BERT 0.523 (threshold) / SVM 0.145"),
    Figure("clinc150", "intent accuracy, in-scope only", ("heads", "intent", "accuracy"), "-"),
    Figure("twcs_head5k", "responder hit@1", ("heads", "responder", "hit_at_1"), "most-active"),
    Figure("twcs_head5k", "responder hit@3", ("heads", "responder", "hit_at_3"), "most-active"),
)  # fmt: skip
FORMATS = {"twcs_head5k": "twcs"}
CV_FOLDS = {"complaints": 5}


def _switchboard(args: list[str], data_dir: Path) -> str:
    exe = str(Path(sys.executable).with_name("switchboard"))
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir)}
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"switchboard {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def measure(dataset: str) -> dict[str, Any]:
    """Train and evaluate one dataset; returns the evaluate JSON (or the CV JSON)."""
    source = SHARED / dataset
    data = ["--data", str(source), "--format", FORMATS.get(dataset, dataset)]
    with tempfile.TemporaryDirectory(prefix=f"switchboard-{dataset}-") as tmp:
        t0 = time.perf_counter()
        if dataset in CV_FOLDS:
            cv = Path(tmp) / "cv.json"
            args = ["train", *data, "--no-mlflow", "--cv", str(CV_FOLDS[dataset])]
            _switchboard([*args, "--cv-json", str(cv)], Path(tmp))
            report = json.loads(cv.read_text())
        else:
            _switchboard(["train", *data, "--no-mlflow"], Path(tmp))
            report = json.loads(
                _switchboard(["evaluate", "--model", "champion", *data, "--json"], Path(tmp))
            )
        report["seconds"] = round(time.perf_counter() - t0, 1)
    return report


def _dig(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(report, dict) or key not in report:
            return None
        report = report[key]
    return report


def run() -> dict[str, Any]:
    reports: dict[str, Any] = {}
    for dataset in dict.fromkeys(f.dataset for f in FIGURES):
        if not (SHARED / dataset).is_dir():
            print(f"  quality: skipping {dataset}: {SHARED / dataset} is absent", file=sys.stderr)
            continue
        print(f"  quality: training and evaluating {dataset} ...", file=sys.stderr)
        reports[dataset] = measure(dataset)
    rows = []
    for f in FIGURES:
        if f.dataset not in reports:
            continue
        value = _dig(reports[f.dataset], f.path)
        anchor = f.anchors
        if f.anchors == "most-active":
            base = _dig(reports[f.dataset], (*f.path[:-1], f"baseline_most_active_{f.path[-1]}"))
            anchor = f"most-active-agent baseline {base:.3f}" if base is not None else "-"
        rows.append([f.dataset, f.metric, value if value is not None else "n/a", anchor])
    summary = [[d, r.get("seconds")] for d, r in reports.items()]
    write_result("quality", {"figures": rows, "reports": reports})
    print("\nModel quality on real public data (switchboard train + evaluate, documented splits)")
    print(table(["dataset", "metric", "Switchboard", "anchors"], rows))
    print(table(["dataset", "train+evaluate s"], summary))
    return {"figures": rows}


if __name__ == "__main__":
    run()
