"""Soak: does the service stay as fast and as small after minutes of traffic as at the start?

Two parts, one run:
1. Context cost vs data volume. Author history and brand volume are read on every score
   request; they must cost the same whether a brand had 10k or 500k mentions today (they once
   grew linearly: 8 / 57 / 315 ms). Predictions are logged straight into a fresh SQLite
   database through the prediction log's own insert, then both reads are timed.
2. Soak over HTTP. `switchboard quickstart` on 127.0.0.1, then one-minute windows of closed-loop
   load at 8 in flight (bench/loadgen.py: bounded in requests and seconds). Every request is a
   new mention id; half come from a new author each time, so the author cache fills past its
   bound and must evict cheaply. Reports p99 per window and RSS after each; target: last-minute
   p99 within 20 % of the first minute's, and RSS growth bounded.

`python -m bench.soak [--minutes N]` (default 5; `make bench` runs it with 5).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench import serving
from bench.common import table, write_result

CONCURRENCY = 8
VOLUMES = (10_000, 100_000, 500_000)
P99_DRIFT_TARGET = 0.20


def _row(i: int, now: datetime) -> dict[str, Any]:
    return {
        "mention_id": f"soak-{i}",
        "author_id": f"author-{i % 50_000}",
        "brand": "acme",
        "created_at": now - timedelta(seconds=(i * 7) % 86_000),
        "model_version": "v1",
        "policy_version": "p",
        "intent": "complaint",
        "sentiment": "negative",
        "reply_action": "public",
        "tier": 3,
        "abstain": False,
        "text": "my order never arrived",
        "output": {},
        "latency_ms": 0.5,
    }


def _timed_ms(read: Any, repeat: int = 200) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        read()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def log_cost(engine: Any, journal: Path, now: datetime) -> dict[str, float]:
    """What the durable log adds per mention, in µs: the id look-up on the request path
    (an unseen id, so the database is asked), the journal append, and the writer's copy into
    the database with the counters (batches of 500, wall time per row)."""
    from switchboard.service import store
    from switchboard.service.prediction_log import PredictionLog

    log = PredictionLog(engine, journal, interval_s=3600)  # the writer stays idle meanwhile
    n = iter(range(10**9, 2 * 10**9))
    lookup = _timed_ms(lambda: log.lookup([f"unseen-{next(n)}"])) * 1000
    append = _timed_ms(lambda: log.append([_row(next(n), now)])) * 1000
    log.close()
    batches = [[_row(next(n), now) for _ in range(500)] for _ in range(10)]
    t0 = time.perf_counter()
    for batch in batches:
        store.log_predictions(engine, batch)
    copy = (time.perf_counter() - t0) / 5000 * 1e6
    return {"lookup_us": round(lookup, 1), "append_us": round(append, 1), "copy_us": round(copy, 1)}


def context_cost() -> list[dict[str, Any]]:
    """Median read time of one author's history and one brand's volume per day volume, and
    the durable log's costs at that volume."""
    from switchboard.service import activity, store
    from switchboard.service.db import make_engine, migrate

    rows, now = [], datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="switchboard-soak-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/soak.db")
        migrate(engine)
        logged = 0
        for volume in VOLUMES:
            for start in range(logged, volume, 10_000):
                store.log_predictions(engine, [_row(i, now) for i in range(start, start + 10_000)])
            logged = volume
            rows.append(
                {
                    **log_cost(engine, Path(tmp) / f"journal-{volume}", now),
                    "predictions_today": volume,
                    "brand_volume_ms": round(
                        _timed_ms(lambda: activity.volume_ratio(engine, ["acme"], now)), 3
                    ),
                    "author_history_ms": round(
                        _timed_ms(lambda: activity.author_history(engine, ["author-7"], now)), 3
                    ),
                }
            )
        engine.dispose()
    return rows


def _bodies() -> list[str]:
    """Realistic mentions; every other one from an author never seen before."""
    import json

    bodies = serving._mentions(1000)
    for i, b in enumerate(bodies):
        if i % 2:
            b["author"]["id"] = f"new-{serving.loadgen.UNIQUE.decode()}"
    return [json.dumps(b) for b in bodies]


def soak(minutes: int) -> dict[str, Any]:
    bodies = _bodies()
    with tempfile.TemporaryDirectory(prefix="switchboard-soak-") as tmp:
        data_dir = Path(tmp)
        env = {
            **os.environ,
            "SWITCHBOARD_DATA_DIR": str(data_dir),
            "SWITCHBOARD_API_KEYS": f"{serving.KEY}:score,admin",
        }
        quickstart = [str(Path(sys.executable).with_name("switchboard")), "quickstart"]
        subprocess.run([*quickstart, "--no-serve"], env=env, check=True, capture_output=True)
        port = serving._free_port()
        windows = []
        with serving.service(env, port, data_dir / "service.log") as proc:
            serving._wait_ready(port, proc)
            rss_start = serving._rss_mb(proc.pid)
            for minute in range(1, minutes + 1):
                r = serving._load(
                    port,
                    method="POST",
                    path="/v1/score",
                    bodies=bodies,
                    concurrency=CONCURRENCY,
                    max_requests=60 * 5_000,
                    max_seconds=60.0,
                )
                windows.append({"minute": minute, **r, "rss_mb": round(serving._rss_mb(proc.pid))})
    first, last = windows[0], windows[-1]
    return {
        "minutes": minutes,
        "concurrency": CONCURRENCY,
        "rss_mb_at_start": round(rss_start),
        "windows": windows,
        "p99_drift": round(last["p99_ms"] / first["p99_ms"] - 1, 3),
        "rss_growth_mb": round(last["rss_mb"] - rss_start),
    }


def run(minutes: int = 5) -> dict[str, Any]:
    payload = {"context_cost": context_cost(), "soak": soak(minutes)}
    write_result("soak", payload)
    _print(payload)
    return payload


def _print(p: dict[str, Any]) -> None:
    print("\nContext reads and log costs vs data volume (one brand, medians, SQLite)")
    rows = [
        [
            r["predictions_today"], r["brand_volume_ms"], r["author_history_ms"],
            r["lookup_us"], r["append_us"], r["copy_us"],
        ]
        for r in p["context_cost"]
    ]  # fmt: skip
    headers = ["predictions today", "brand volume ms", "author history ms"]
    headers += ["id look-up µs", "journal append µs", "writer copy µs/row"]
    print(table(headers, rows))
    s = p["soak"]
    print(f"\nSoak: /v1/score at {s['concurrency']} in flight, one row per minute (loopback)")
    rows = [
        [w["minute"], w["requests"], w["rps"], w["p50_ms"], w["p99_ms"], w["errors"], w["rss_mb"]]
        for w in s["windows"]
    ]
    print(table(["minute", "requests", "req/s", "p50 ms", "p99 ms", "errors", "RSS MB"], rows))
    verdict = "met" if s["p99_drift"] < P99_DRIFT_TARGET else "NOT met"
    print(
        f"p99 last minute vs first: {s['p99_drift']:+.0%} (target: under +20 %, {verdict}); "
        f"RSS {s['rss_mb_at_start']} MB at start, {s['rss_growth_mb']:+} MB by the end"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    run(int(args[args.index("--minutes") + 1]) if "--minutes" in args else 5)
