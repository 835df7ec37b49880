"""Serving speed: in-process floor, HTTP service, and the constant-JSON ceiling, in one run.

The service is started the way `make run` starts it (`switchboard quickstart`, which trains on
the shipped sample when no model exists), in a fresh data directory, on 127.0.0.1 only. Every
load is bounded in requests and seconds (bench/loadgen.py) and the server is stopped at the
end, whatever happens.

Issue #14 targets on 2 cores (in-process: second opinion off): single-mention p50 <= 0.25 ms;
batch >= 20,000 mentions/s; HTTP >= 1,500 req/s at concurrency 64 and p99 < 5 ms at
concurrency 1; RSS < 600 MB.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import loadgen
from bench.common import REPO_ROOT, table, write_result

SAMPLE = REPO_ROOT / "datasets" / "sample" / "cases.csv"
ROSTER = REPO_ROOT / "datasets" / "sample" / "roster.json"
KEY = "bench-key-not-secret"
CONCURRENCY = (1, 8, 64)
# The previous release's figures (a copy of its bench/results/serving.json), printed beside
# this run's. Replace it with this run's file when a release is cut.
PREVIOUS = REPO_ROOT / "bench" / "results" / "serving.previous.json"
BATCH_SIZE = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mentions(n: int) -> list[dict[str, Any]]:
    """Realistic request bodies from the shipped sample: text, brand, channel, author."""
    frame = pd.read_csv(SAMPLE).tail(n)
    return [
        {
            "id": f"bench-{i}-{loadgen.UNIQUE.decode()}",  # unique per HTTP request
            "text": r.text,
            "brand": r.brand,
            "channel": r.channel,
            "author": {"id": r.author_id, "followers": int(r.author_followers)},
        }
        for i, r in enumerate(frame.itertuples())
    ]


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def in_process(data_dir: Path, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The floor: the service's own scoring function without HTTP or the database."""
    import msgspec

    from switchboard.ml.registry import CHAMPION, Registry
    from switchboard.routing.policy import load_policy
    from switchboard.routing.router import Router
    from switchboard.service.roster import load_roster
    from switchboard.service.schemas import MentionIn
    from switchboard.service.scoring import EXPLAIN_FEATURES, score_batch
    from switchboard.settings import Settings

    settings = Settings(data_dir=data_dir)
    bundle = Registry(settings.registry_path).load(CHAMPION)
    policy = load_policy(settings.policy_file)
    roster = [r.__class__(**{**_fields(r), "online": True}) for r in load_roster(ROSTER)]
    mentions = [msgspec.convert(b, MentionIn) for b in bodies]
    now = datetime.now(UTC)
    routers = {
        "on": Router(bundle, policy, explain=EXPLAIN_FEATURES),
        "off": Router(bundle, _without_second_opinion(policy), explain=EXPLAIN_FEATURES),
    }
    bundle.warm()
    for router in routers.values():
        for m in mentions[:50]:  # warm the expertise tables and the word memos too
            score_batch(router, [m], roster, now)
    gc.collect()
    gc.freeze()  # as the service does after loading a bundle (service/app.py)

    out: dict[str, Any] = {}
    for name, router in routers.items():
        single = [_once(lambda m=m, r=router: score_batch(r, [m], roster, now)) for m in mentions]
        batch_s = min(
            _once(lambda r=router: score_batch(r, mentions, roster, now)) for _ in range(3)
        )
        out[name] = {
            "single": _percentiles(single),
            "batch_mentions_per_s": round(len(mentions) / batch_s),
        }
    stage_us = _stages(routers["off"], roster, mentions, now)
    return {
        # The default policy (second opinion on) under the keys earlier results files use.
        **out["on"],
        "second_opinion_off": out["off"],
        "stages_us_p50": {k: round(v, 1) for k, v in stage_us.items()},
        "batch_size": len(mentions),
    }


def _without_second_opinion(policy: Any) -> Any:
    """The same policy with the cascade's second opinion off (`second_opinion_below = 0`):
    the fast path alone, which is what issue #14's in-process targets are about."""
    from switchboard.routing.policy import Policy

    confidence = {**policy.config["confidence"], "second_opinion_below": 0.0}
    return Policy(policy.version, {**policy.config, "confidence": confidence}, policy.words)


def _stages(router: Any, roster: list[Any], mentions: list[Any], now: datetime) -> dict[str, float]:
    """Median microseconds per stage for one mention: the split of the floor.

    Each stage of `Router.recommend` is timed alone on inputs that a full recommendation made.
    """
    import msgspec

    from switchboard.ml.text import normalise
    from switchboard.routing.evidence import evidence
    from switchboard.routing.policy import decide
    from switchboard.routing.types import Context
    from switchboard.service.scoring import to_mention, to_response

    bundle, policy, ctx = router.bundle, router.policy, Context(now=now)
    inputs = []
    for m in mentions:
        mention = to_mention(m)
        rec = router.recommend([mention], [ctx], roster)[0]
        inputs.append((mention, router.vectorise([mention]), rec))
    stages: dict[str, Callable[[tuple], object]] = {
        "normalise": lambda i: normalise(i[0].text),
        "vectorise": lambda i: router.vectorise([i[0]]),
        **{f"head:{n}": (lambda i, h=h: h.predict_proba(i[1])) for n, h in bundle.heads.items()},
        "all heads+explain": lambda i: bundle.predict_heads(i[1], explain=router.explain),
        "evidence words": lambda i: evidence(bundle, i[1], [i[2].heads], [i[0]]),
        "expertise": lambda i: router.expertise(i[1], [i[2].heads], roster),
        "policy": lambda i: decide(i[0], i[2].heads, ctx, roster, i[2].expertise, policy),
        "response": lambda i: msgspec.json.encode(to_response(i[2], router)),
    }
    out = {
        name: float(np.median([_once(partial(fn, i)) for i in inputs])) * 1e6
        for name, fn in stages.items()
    }
    out["vectorise"] -= out["normalise"]  # reported apart: vectorising includes normalising
    return {k: round(v, 1) for k, v in out.items()}


def _fields(obj: object) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in obj.__slots__}  # type: ignore[attr-defined]


@contextmanager
def service(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`switchboard quickstart` on 127.0.0.1:port; always stopped on exit."""
    cmd = [str(Path(sys.executable).with_name("switchboard")), "quickstart"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], limit_s: float = 120) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the service was not ready within {limit_s:.0f} s")


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (uvicorn workers)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        total += sum(_rss_mb(int(c)) for c in children.read_text().split())
    return total


def _load(port: int, **kw: Any) -> dict[str, Any]:
    spec = loadgen.Load(port=port, headers={"Authorization": f"Bearer {KEY}"}, **kw)
    r = loadgen.run(spec)
    return {**asdict(r), "little_bound_ms": round(1000 * spec.concurrency / r.rps, 3)}


def http(env: dict[str, str], log: Path, bodies: list[dict[str, Any]], quick: bool) -> dict:
    port = _free_port()
    n, secs = (600, 4.0) if quick else (6000, 10.0)
    single = [json.dumps(b) for b in bodies]
    batches = [
        json.dumps({"mentions": bodies[i : i + BATCH_SIZE]})
        for i in range(0, len(bodies) - BATCH_SIZE + 1, BATCH_SIZE)
    ]
    with service(env, port, log) as proc:
        cold_s = _wait_ready(port, proc)
        rows = []
        for c in CONCURRENCY:
            common = {"concurrency": c, "max_requests": n, "max_seconds": secs}
            ceiling = _load(port, method="GET", path="/health", bodies=[], **common)
            score = _load(port, method="POST", path="/v1/score", bodies=single, **common)
            rows.append({"concurrency": c, "ceiling": ceiling, "score": score})
        batch = _load(
            port,
            method="POST",
            path="/v1/score/batch",
            bodies=batches,
            concurrency=2,
            max_requests=max(n // 50, 20),
            max_seconds=secs,
        )
        rss = _rss_mb(proc.pid)
    return {
        "cold_start_to_ready_s": round(cold_s, 2),
        "rss_mb_after_load": round(rss),
        "single": rows,
        "batch": {**batch, "mentions_per_s": round(batch["rps"] * BATCH_SIZE)},
    }


def run(quick: bool = False) -> dict[str, Any]:
    bodies = _mentions(1000)
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        data_dir = Path(tmp)
        env = {
            **os.environ,
            "SWITCHBOARD_DATA_DIR": str(data_dir),
            "SWITCHBOARD_API_KEYS": f"{KEY}:score,admin",
        }
        t0 = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("switchboard")), "quickstart", "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
        )
        train_s = time.perf_counter() - t0
        floor = in_process(data_dir, bodies)
        served = http(env, data_dir / "service.log", bodies, quick)
    payload = {"first_run_train_s": round(train_s, 1), "in_process": floor, "http": served}
    write_result("serving", payload)
    _print(payload)
    return payload


def _previous() -> dict[str, Any]:
    """The previous release's in-process figures, or {} when no such file is kept."""
    try:
        return dict(json.loads(PREVIOUS.read_text())["in_process"])
    except (OSError, ValueError, KeyError):
        return {}


def in_process_table(now: dict[str, Any], before: dict[str, Any]) -> str:
    """This run's in-process rows beside the previous release's, second opinion off and on."""

    def single(f: dict[str, Any] | None) -> str:
        return "-" if not f else f"{f['single']['p50_ms']:.3f} / {f['single']['p99_ms']:.3f} ms"

    def batch(f: dict[str, Any] | None) -> str:
        return "-" if not f else f"{f['batch_mentions_per_s']:,} mentions/s"

    off_now, off_before = now.get("second_opinion_off"), before.get("second_opinion_off")
    on_before = before or None
    n = now["batch_size"]
    rows = [
        [
            "one mention, all heads + policy, p50 / p99 (second opinion off)",
            single(off_now),
            single(off_before),
            "p50 <= 0.25 ms",
        ],
        ["same, second opinion on (policy default)", single(now), single(on_before), ""],
        [f"batch of {n:,} (second opinion off)", batch(off_now), batch(off_before), ">= 20,000"],
        [f"batch of {n:,}, second opinion on", batch(now), batch(on_before), ""],
    ]
    return table(["in-process", "this run", "previous release", "target"], rows)


def _print(p: dict[str, Any]) -> None:
    f, h = p["in_process"], p["http"]
    print("\nServing speed: in-process floor (no HTTP, no database), one mention at a time")
    stage_rows = [[k, v] for k, v in f["stages_us_p50"].items()]
    print(table(["stage (p50, one mention, second opinion off)", "us"], stage_rows))
    print(in_process_table(f, _previous()))
    print("\nServing speed over HTTP (loopback; ceiling = constant-JSON GET /health, same server)")
    rows = []
    for r in h["single"]:
        s, c = r["score"], r["ceiling"]
        rows.append(
            [
                r["concurrency"],
                s["rps"],
                s["p50_ms"],
                s["p99_ms"],
                s["little_bound_ms"],
                s["errors"],
                c["rps"],
                c["p99_ms"],
                round(s["rps"] / c["rps"], 3),
            ]
        )
    headers = ["conc", "score req/s", "p50 ms", "p99 ms", "c/X ms", "errors"]
    headers += ["ceiling req/s", "ceiling p99", "score/ceiling"]
    print(table(headers, rows))
    print("c/X = concurrency / throughput: the latency Little's law implies at that load.")
    b = h["batch"]
    print(
        f"/v1/score/batch ({BATCH_SIZE} per request, 2 clients) "
        f"{b['mentions_per_s']:,} mentions/s, p50 {b['p50_ms']:.1f} ms; cold start to ready "
        f"{h['cold_start_to_ready_s']} s; RSS after load {h['rss_mb_after_load']} MB (target < 600)"
    )


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
