"""How long training takes: synthetic cases of growing size through the real pipeline.

Issue target: 100,000 synthetic cases train in well under a minute on 2 cores. Measured
here without MLflow logging (a fixed few seconds, reported separately by `switchboard train`).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

from bench.common import table, write_result
from switchboard.data.synth import generate
from switchboard.training.fit import fit_bundle

SIZES = (10_000, 100_000)


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        cases = generate(n, seed=1).cases
        gen_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        result = fit_bundle(cases)
        fit_s = time.perf_counter() - t1
        rows.append(
            {
                "n": n,
                "generate_s": round(gen_s, 2),
                "fit_s": round(fit_s, 2),
                "features_s": round(result.timings["features_s"], 2),
                "heads_s": round(result.timings["heads_s"], 2),
                "evaluate_s": round(result.timings.get("evaluate_s", 0.0), 2),
                "rows_per_s": round(n / fit_s),
                "intent_macro_f1": round(result.metrics["heads"]["intent"]["macro_f1"], 3),
            }
        )
        print(f"  trained {n:,} cases in {fit_s:.1f} s", file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    payload = {"rows": rows, "peak_rss_mb": round(peak_mb)}
    write_result("train_speed", payload)
    print("\nTraining speed (fit_bundle: vectorise, select C, fit and calibrate every head, test)")
    headers = list(rows[0])
    print(table(headers, [[r[h] for h in headers] for r in rows]))
    print(f"peak RSS {peak_mb:,.0f} MB")
    return payload


if __name__ == "__main__":
    run()
