"""Batch scoring speed: `switchboard batch-score` in-process (local) against Spark (spark_udf).

Both engines score the same synthetic mentions (data/synth, two months of a few brands) with
the same MLflow decision model, context computed from the data in time order (so rows whose
author has recent history are scored twice, batch/context.py). Each run is the command as a
user starts it, in a fresh process: wall time from start to the Parquet file written, and CPU
seconds of that process and every child it waited for (Spark's JVM and its Python workers),
from `resource.getrusage(RUSAGE_CHILDREN)`. "rows per CPU-second" is what a cluster bills.

Spark here is local mode on this machine's cores (`--master local[2]`); its start-up (the
JVM, ~20 s) is part of the wall time, as it is of every job.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, table, write_result
from switchboard.batch.decisions import MENTION_COLUMNS
from switchboard.data.synth import generate
from switchboard.ml.bundle import save_bundle
from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle
from switchboard.training.pyfunc import save_decision_model

ROWS = 20_000
TRAIN_ROWS = 5_000


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(engine: str, model: Path, data: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    """One `switchboard batch-score` process: wall and CPU seconds, rows scored."""
    cmd = [sys.executable, "-m", "switchboard", "batch-score", "--engine", engine]
    cmd += ["--input", str(data), "--output", str(out), "--model", str(model), *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    env["SWITCHBOARD_DATA_DIR"] = str(out.parent / "var")
    cpu0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode != 0:
        raise RuntimeError(f"{engine}: exit {done.returncode}: {done.stderr[-6000:]}")
    found = re.search(r"scored ([\d,]+) rows in ([\d.]+) s", done.stderr)
    rows = int(found.group(1).replace(",", "")) if found else 0
    again = re.search(r"; ([\d,]+) again", done.stderr)
    return {
        "engine": engine,
        "rows": rows,
        "wall_s": round(wall, 1),
        "rescored": int(again.group(1).replace(",", "")) if again else None,
        "scoring_s": float(found.group(2)) if found else None,
        "cpu_s": round(cpu, 1),
        "rows_per_s": round(rows / wall),
        "rows_per_cpu_s": round(rows / cpu),
    }


def _spark_ports() -> list[str]:
    """Driver and block manager inside SWITCHBOARD_TEST_PORTS=a-b when set (shared machines);
    otherwise Spark's own choice. Either way they listen on 127.0.0.1 only."""
    low, _, high = os.environ.get("SWITCHBOARD_TEST_PORTS", "").partition("-")
    if not low:
        return []
    port = int(low) + 50 if int(high or low) - int(low) > 60 else int(low)
    return [
        "--spark-conf",
        f"spark.driver.port={port}",
        "--spark-conf",
        f"spark.blockManager.port={port + 1}",
    ]


def run(rows: int = ROWS) -> dict[str, Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("\nbatch_score: skipped (pip install 'switchboard[spark]')")
        return {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        cases = generate(rows + TRAIN_ROWS, seed=11).cases
        bundle = fit_bundle(cases.iloc[:TRAIN_ROWS]).bundle
        bundle.metadata["version"] = "bench"
        save_bundle(bundle, root / "bundle")
        model = save_decision_model(root / "bundle", Settings().policy_file, root / "model")
        data = root / "mentions.parquet"
        mentions = cases.iloc[TRAIN_ROWS:].rename(columns={"case_id": "mention_id"})
        mentions = mentions[["text", *MENTION_COLUMNS]]
        mentions.to_parquet(data)
        print(
            f"  batch_score: {rows:,} mentions, {mentions['author_id'].nunique():,} authors",
            file=sys.stderr,
        )
        spark = ["--master", "local[2]", *_spark_ports()]
        results = [
            _run("local", model, data, root / "local.parquet", []),
            _run("spark", model, data, root / "spark.parquet", spark),
        ]
    payload = {"rows": rows, "results": results}
    write_result("batch_score", payload)
    print(f"\nBatch scoring, {rows:,} mentions (context from the data; one process per run)")
    headers = list(results[0])
    print(table(headers, [[r[h] for h in headers] for r in results]))
    return payload


if __name__ == "__main__":
    run()
