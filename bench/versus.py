"""This checkout against an earlier release, over HTTP, in one run: what did a change cost?

`python -m bench.versus --base REV [--rounds N]` checks REV out into a temporary git worktree,
trains each side's default model (`switchboard quickstart --no-serve`, each in its own data
dir), then serves each in turn on 127.0.0.1 and drives the same bounded closed-loop load
(bench/loadgen.py) at concurrency 1, 8 and 64, alternating the two sides for N rounds so that
the machine's drift hits both alike. It prints median req/s and p99 per side and the ratio;
servers and the worktree are removed at the end, whatever happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median
from typing import Any

from bench import serving
from bench.common import REPO_ROOT, table, write_result

CONCURRENCY = (1, 8, 64)


def _quickstart(src: Path, data: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(src), "SWITCHBOARD_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "switchboard", "quickstart", "--no-serve"]
    subprocess.run(cmd, env=env, cwd=src.parent, check=True, capture_output=True)


def _measure(src: Path, data: Path, bodies: list[str], concurrency: int) -> dict[str, Any]:
    """One server of `src` on `data`, warmed up, then 10 s of load at `concurrency`."""
    port = serving._free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "SWITCHBOARD_DATA_DIR": str(data),
        "SWITCHBOARD_API_KEYS": f"{serving.KEY}:score,admin",
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "switchboard.service.app:create_app"]
    # INFO, as a deployment runs: both sides write their access (and scoring) lines, to a file.
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    with (data / "service.log").open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=src.parent, stdout=log, stderr=log)
    try:
        serving._wait_ready(port, proc)
        load = {"method": "POST", "path": "/v1/score", "bodies": bodies}
        serving._load(port, **load, concurrency=concurrency, max_requests=500, max_seconds=5)
        return serving._load(
            port, **load, concurrency=concurrency, max_requests=20_000, max_seconds=10
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(base: str, rounds: int = 3) -> dict[str, Any]:
    bodies = [json.dumps(b) for b in serving._mentions(1000)]
    with tempfile.TemporaryDirectory(prefix="switchboard-versus-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), base], check=True)
        try:
            sides = {"base": tree / "src", "this": REPO_ROOT / "src"}
            data = {name: Path(tmp) / f"data-{name}" for name in sides}
            for name, src in sides.items():
                _quickstart(src, data[name])
            found: dict[str, dict[int, list[dict[str, Any]]]] = {s: {} for s in sides}
            for _ in range(rounds):
                for c in CONCURRENCY:
                    for name, src in sides.items():
                        r = _measure(src, data[name], bodies, c)
                        found[name].setdefault(c, []).append(r)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], check=False)
    rows = []
    for c in CONCURRENCY:
        b = [r["rps"] for r in found["base"][c]]
        t = [r["rps"] for r in found["this"][c]]
        rows.append(
            {
                "concurrency": c,
                "base_rps": median(b),
                "this_rps": median(t),
                "ratio": round(median(t) / median(b), 3),
                "base_p99_ms": median(r["p99_ms"] for r in found["base"][c]),
                "this_p99_ms": median(r["p99_ms"] for r in found["this"][c]),
            }
        )
    payload = {"base": base, "rounds": rounds, "rows": rows, "runs": found}
    write_result("versus", payload)
    _print(payload)
    return payload


def _print(p: dict[str, Any]) -> None:
    print(
        f"\n/v1/score, this checkout against {p['base']} (median of {p['rounds']} alternating runs)"
    )
    headers = ["conc", "base req/s", "this req/s", "this/base", "base p99 ms", "this p99 ms"]
    rows = [
        [
            r["concurrency"],
            r["base_rps"],
            r["this_rps"],
            r["ratio"],
            r["base_p99_ms"],
            r["this_p99_ms"],
        ]
        for r in p["rows"]
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--base" not in args:
        sys.exit("usage: python -m bench.versus --base REV [--rounds N]")
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    run(args[args.index("--base") + 1], rounds)
