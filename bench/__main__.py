"""`python -m bench` / `make bench`: every benchmark in one run, each printing its table.

Order: decisions on real text, quality on real data, routing simulation, serving speed,
the soak (p99 drift and memory over minutes of traffic), the semantic block's cost, training
speed, batch scoring in-process against Spark, training beyond RAM (peak memory and quality of
the in-memory and streaming trainers at 100k and 1M cases: 30-60 minutes), then the
featurisation comparison (tf-idf against tf-idf + the full MiniLM, per head). `--quick`
shortens the load runs and the soak (2 minutes instead of 5) and measures training beyond RAM
at 100k cases only.
Benchmarks never run inside `make test`.
"""

from __future__ import annotations

import sys
import time

from bench import (
    batch_score,
    decision,
    featurisation,
    quality,
    routing_sim,
    semantic_cost,
    serving,
    soak,
    train_scale,
    train_speed,
)


def main() -> None:
    quick = "--quick" in sys.argv
    t0 = time.perf_counter()
    decision.run()  # skips with a message when ../shared is absent
    quality.run()  # skips each dataset with a message when ../shared is absent
    routing_sim.run()
    serving.run(quick=quick)
    soak.run(minutes=2 if quick else 5)
    semantic_cost.run(quick=quick)
    train_speed.run()
    batch_score.run()  # skips with a message without pyspark
    train_scale.run(sizes=(100_000,) if quick else train_scale.SIZES)
    featurisation.run()  # skips with a message without the MiniLM weights or ../shared
    print(f"\nmake bench finished in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
