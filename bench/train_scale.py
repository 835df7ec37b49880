"""Training beyond RAM: peak memory, wall time and quality of the in-memory and streaming
trainers on synthetic cases (issue #13; target: 1M cases under 4 GB peak RSS).

Every run is a child process (`python -m bench.train_scale --worker ...`), so its memory is
its own; the parent samples the RSS of the child and all its descendants (joblib workers)
every 0.2 s from /proc and keeps the peak of the sum. RSS sums count pages shared between
processes once per process, so the in-memory trainer's figure is an upper bound.

Data: `switchboard.data.synth.chunks` writes the training cases as Parquet chunks (never all
in memory); the quality figures are per-head macro-F1 on one fixed held-out set (20,000
cases of another seed), scored the same way for every run. The in-memory trainer runs with
`switchboard train`'s defaults minus the second opinion (TrainConfig()); at 1M it would need
~15 GB, so it runs only with --include-inmemory-1m.

    python -m bench.train_scale [--sizes 100000,1000000] [--include-inmemory-1m] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, table, write_result

SIZES = (100_000, 1_000_000)
TEST_ROWS = 20_000
TEST_SEED = 999
TRAIN_SEED = 1
SAMPLE_S = 0.2
TARGET_GB = 4.0


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(k) for k in fh.read().split()]
    except OSError:
        pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """RSS of `pid` and every descendant, in bytes (0 once it has exited)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_bytes(p)
        todo += _children(p)
    return total


def measure(cmd: list[str], log: Path) -> tuple[int, float, int]:
    """Run `cmd`, sampling its process tree's RSS; (peak bytes, wall seconds, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src") + os.pathsep + str(REPO_ROOT)}
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(SAMPLE_S)
    return peak, time.perf_counter() - t0, proc.returncode


def _data(work: Path, n: int) -> Path:
    """Training chunks for `n` cases (made once, reused by every run of that size)."""
    from switchboard.data.synth.chunks import write_chunks

    out = work / f"train-{n}"
    done = out / "DONE"
    if not done.exists():
        shutil.rmtree(out, ignore_errors=True)
        write_chunks(n, out, seed=TRAIN_SEED)
        done.write_text("ok\n")
    return out


def _test_set(work: Path) -> Path:
    from switchboard.data.synth import generate

    path = work / f"test-{TEST_ROWS}.parquet"
    if not path.exists():
        generate(TEST_ROWS, seed=TEST_SEED).cases.to_parquet(path, index=False)
    return path


def _worker(kind: str, data: Path, test: Path, out: Path) -> None:
    """One training run (inside the measured process), then scoring of the fixed test set."""
    import pandas as pd

    from switchboard.training.evaluate import head_outcomes
    from switchboard.training.metrics import classification_report

    t0 = time.perf_counter()
    if kind == "inmemory":
        from switchboard.data.loaders import load_cases
        from switchboard.training.fit import fit_bundle

        files = sorted(data.glob("*.parquet"))
        frame = load_cases(files).accepted
        bundle = fit_bundle(frame, evaluate=False).bundle
        del frame
    else:
        from switchboard.training.stream import fit_stream
        from switchboard.training.stream_source import ParquetSource

        bundle = fit_stream(ParquetSource([data]), evaluate=False).bundle
    fit_s = time.perf_counter() - t0
    cases = pd.read_parquet(test)
    outcomes = head_outcomes(bundle, bundle.vectorise(cases), cases)
    f1 = {
        name: round(classification_report(o.y_true, o.y_pred, None, [])["macro_f1"], 4)
        for name, o in outcomes.items()
    }
    out.write_text(json.dumps({"fit_s": round(fit_s, 1), "macro_f1": f1}))


def run(
    sizes: tuple[int, ...] = SIZES,
    include_inmemory_1m: bool = False,
    work: Path | None = None,
    reuse: bool = False,
    note: str = "",
) -> dict[str, Any]:
    """Measure every (trainer, size); with `reuse`, a run already measured in `work` (its
    `<trainer>-<n>.row.json`) is read back instead of repeated."""
    work = work or Path("/tmp") / f"switchboard-train-scale-{os.getuid()}"
    work.mkdir(parents=True, exist_ok=True)
    test = _test_set(work)
    rows: list[dict[str, Any]] = []
    for n in sizes:
        data = _data(work, n)
        kinds = ["streaming"]
        if n < 1_000_000 or include_inmemory_1m:
            kinds.insert(0, "inmemory")
        for kind in kinds:
            saved = work / f"{kind}-{n}.row.json"
            if reuse and saved.exists():
                rows.append(json.loads(saved.read_text()))
                continue
            out = work / f"{kind}-{n}.json"
            out.unlink(missing_ok=True)
            cmd = [sys.executable, "-m", "bench.train_scale", "--worker", kind]
            cmd += ["--data", str(data), "--test", str(test), "--out", str(out)]
            log = work / f"{kind}-{n}.log"
            print(f"  {kind} trainer, {n:,} cases ...", file=sys.stderr, flush=True)
            peak, wall, code = measure(cmd, log)
            row: dict[str, Any] = {
                "trainer": kind,
                "n": n,
                "peak_rss_gb": round(peak / 2**30, 2),
                "wall_s": round(wall, 1),
                # Wall time depends on what else runs: the 1-minute load average at the end.
                "load_avg_end": round(os.getloadavg()[0], 1),
            }
            if code == 0 and out.exists():
                row.update(json.loads(out.read_text()))
            else:
                row["error"] = f"exit {code}; see {log}"
            saved.write_text(json.dumps(row))
            rows.append(row)
            print(f"    {row}", file=sys.stderr, flush=True)
    big = [r for r in rows if r["trainer"] == "streaming" and r["n"] >= 1_000_000]
    payload = {
        "rows": rows,
        "test_set": {"rows": TEST_ROWS, "seed": TEST_SEED},
        "target": f"1M cases under {TARGET_GB} GB peak RSS",
        "target_met": bool(big) and all(r["peak_rss_gb"] < TARGET_GB for r in big),
        "note": note,
    }
    write_result("train_scale", payload)
    heads = sorted({h for r in rows for h in r.get("macro_f1", {})})
    headers = ["trainer", "cases", "peak RSS GB", "wall s", *(f"{h} F1" for h in heads)]
    body = [
        [r["trainer"], r["n"], r["peak_rss_gb"], r["wall_s"]]
        + [r.get("macro_f1", {}).get(h, "-") for h in heads]
        for r in rows
    ]
    print("\nTraining beyond RAM (peak RSS of the process tree; macro-F1 on a fixed test set)")
    print(table(headers, body))
    print(f"target {payload['target']}: {'met' if payload['target_met'] else 'NOT met'}")
    return payload


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.train_scale", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--include-inmemory-1m", action="store_true")
    parser.add_argument("--work", type=Path, help="data and logs (default: /tmp/...)")
    parser.add_argument(
        "--reuse", action="store_true", help="read back runs already measured in --work"
    )
    parser.add_argument("--note", default="", help="stored with the results (e.g. the load)")
    parser.add_argument("--worker", choices=("inmemory", "streaming"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--test", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.data, args.test, args.out)
        return
    sizes = tuple(int(s) for s in args.sizes.split(","))
    run(sizes, args.include_inmemory_1m, args.work, args.reuse, args.note)


if __name__ == "__main__":
    main()
