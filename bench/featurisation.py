"""tf-idf word+char against tf-idf + MiniLM sentence embeddings, per head, on the same split.

Answers "does the stronger featurisation pay for its latency?": each candidate's held-out
figures beside the cost of featurising one mention. Needs the MiniLM weights (`make install`)
and ../shared/datasets/airline_sentiment; skips with a message otherwise.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from bench.common import SHARED, table, write_result
from switchboard.data.loaders import load_raw
from switchboard.data.validate import validate_cases
from switchboard.ml.minilm import MiniLMUnavailable, model_dir
from switchboard.training.fit import EMBED, TrainConfig, fit_bundle


def _per_mention_ms(bundle: Any, frame: Any, n: int = 200) -> float:
    rows = frame.head(n)
    times = []
    for i in range(len(rows)):
        t = time.perf_counter()
        bundle.vectorise(rows.iloc[i : i + 1])
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def run() -> dict[str, Any] | None:
    path = SHARED / "airline_sentiment"
    if not path.exists():
        print(f"featurisation: skipped, {path} not present", file=sys.stderr)
        return None
    try:
        model_dir()
    except MiniLMUnavailable as exc:
        print(f"featurisation: skipped, {exc}", file=sys.stderr)
        return None
    frame = validate_cases(load_raw(path, "airline_sentiment")).accepted
    rows = []
    for name, config in (
        ("tfidf", TrainConfig()),
        (EMBED, TrainConfig(featurisations=("tfidf", EMBED), latency_budget_ms=float("inf"))),
    ):
        t0 = time.perf_counter()
        result = fit_bundle(frame, config)
        fit_s = time.perf_counter() - t0
        ms = _per_mention_ms(result.bundle, frame)
        for head, r in result.metrics["heads"].items():
            rows.append([name, head, r["accuracy"], r["macro_f1"], r.get("ece"), ms, fit_s])
    headers = ["featurisation", "head", "accuracy", "macro_f1", "ece", "ms/mention", "train_s"]
    print("\nFeaturisation (airline_sentiment, SPLIT_RULE test split)")
    print(table(headers, rows))
    payload = {"rows": [dict(zip(headers, r, strict=True)) for r in rows]}
    write_result("featurisation", payload)
    return payload


if __name__ == "__main__":
    run()
