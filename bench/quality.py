"""Model quality on real public data, through the same commands a data scientist runs.

Each dataset is trained with `switchboard train` and scored with `switchboard evaluate` on its
documented split (`../shared/datasets/SPLIT_RULE.md` or the official one), in a fresh data
directory, with the production code path and default settings: no per-dataset tuning. Each
dataset is trained twice: tf-idf alone (`--featurisations tfidf`) and with the semantic block
as a per-head candidate (the default), so the block's gain is measured on every dataset. A
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
    previous: float | None = None  # the previous release's figure (README of commit 6928692)


FIGURES = (
    Figure("airline_sentiment", "sentiment accuracy", ("heads", "sentiment", "accuracy"),
           "majority 0.627; informal published SVC 0.788", 0.829),
    Figure("airline_sentiment", "sentiment macro-F1", ("heads", "sentiment", "macro_f1"), "-",
           0.781),
    Figure("airline_sentiment", "negative reason (intent) macro-F1",
           ("heads", "intent", "macro_f1"), "-", 0.538),
    Figure("complaints", "actionable macro-F1 (5-fold CV)", ("heads", "actionable", "macro_f1"),
           "79 F1 (Preotiuc-Pietro et al. 2019); 87 macro-F1 transformers (Jin & Aletras 2020)",
           0.812),
    Figure("banking77", "intent accuracy", ("heads", "intent", "accuracy"),
           "fine-tuned BERT ~0.937", 0.910),
    Figure("clinc150", "in-scope accuracy", ("abstention", "in_scope_accuracy"),
           "BERT 0.962 / SVM 0.910 (paper Table 2, full)", 0.899),
    Figure("clinc150", "out-of-scope recall", ("abstention", "out_of_scope_recall"),
           "BERT 0.523 (threshold) / SVM 0.145", 0.755),
    Figure("clinc150", "intent accuracy, in-scope only", ("heads", "intent", "accuracy"), "-",
           0.928),
    Figure("twcs_head5k", "responder hit@1", ("heads", "responder", "hit_at_1"), "most-active",
           0.327),
    Figure("twcs_head5k", "responder hit@3", ("heads", "responder", "hit_at_3"), "most-active",
           0.469),
)  # fmt: skip
# The featurisations compared: tf-idf alone, and with the semantic block as a candidate.
VARIANTS = {"tf-idf": "tfidf", "tf-idf + semantic": "tfidf,tfidf+static"}
FORMATS = {"twcs_head5k": "twcs"}
CV_FOLDS = {"complaints": 5}


def _switchboard(args: list[str], data_dir: Path) -> str:
    exe = str(Path(sys.executable).with_name("switchboard"))
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir)}
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"switchboard {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def measure(dataset: str, featurisations: str) -> dict[str, Any]:
    """Train and evaluate one dataset; returns the evaluate JSON (or the CV JSON)."""
    source = SHARED / dataset
    data = ["--data", str(source), "--format", FORMATS.get(dataset, dataset)]
    # --no-benchmark: the real-text decision benchmark is bench/decision.py's job, not timed here;
    # --no-second-opinion: `evaluate` scores the heads every mention gets, not the cascade's.
    train = ["train", *data, "--no-mlflow", "--no-benchmark", "--no-second-opinion"]
    train += ["--featurisations", featurisations]
    with tempfile.TemporaryDirectory(prefix=f"switchboard-{dataset}-") as tmp:
        t0 = time.perf_counter()
        if dataset in CV_FOLDS:
            cv = Path(tmp) / "cv.json"
            args = [*train, "--cv", str(CV_FOLDS[dataset])]
            _switchboard([*args, "--cv-json", str(cv)], Path(tmp))
            report = json.loads(cv.read_text())
        else:
            _switchboard(train, Path(tmp))
            report = json.loads(
                # v1, not champion: a dataset whose labels the routing policy does not know
                # (airline reasons, banking77) is registered but never promoted (issue #12).
                _switchboard(["evaluate", "--model", "v1", *data, "--json"], Path(tmp))
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
    reports: dict[str, dict[str, Any]] = {v: {} for v in VARIANTS}
    for dataset in dict.fromkeys(f.dataset for f in FIGURES):
        if not (SHARED / dataset).is_dir():
            print(f"  quality: skipping {dataset}: {SHARED / dataset} is absent", file=sys.stderr)
            continue
        for variant, featurisations in VARIANTS.items():
            print(f"  quality: {dataset}, {variant} ...", file=sys.stderr)
            reports[variant][dataset] = measure(dataset, featurisations)
    rows = []
    for f in FIGURES:
        if f.dataset not in reports["tf-idf"]:
            continue
        values = [_dig(reports[v][f.dataset], f.path) for v in VARIANTS]
        anchor = f.anchors
        if f.anchors == "most-active":
            base_path = (*f.path[:-1], f"baseline_most_active_{f.path[-1]}")
            base = _dig(reports["tf-idf"][f.dataset], base_path)
            anchor = f"most-active-agent baseline {base:.3f}" if base is not None else "-"
        shown = [v if v is not None else "n/a" for v in values]
        rows.append([f.dataset, f.metric, f.previous or "-", *shown, anchor])
    seconds = [[d, *(reports[v][d].get("seconds") for v in VARIANTS)] for d in reports["tf-idf"]]
    write_result("quality", {"figures": rows, "reports": reports, "seconds": seconds})
    print("\nModel quality on real public data (switchboard train + evaluate, documented splits)")
    headers = ["dataset", "metric", "previous release", *VARIANTS, "anchors"]
    print(table(headers, rows))
    print(table(["dataset", *(f"{v} train+evaluate s" for v in VARIANTS)], seconds))
    return {"figures": rows}


if __name__ == "__main__":
    run()
