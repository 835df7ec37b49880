"""Serving speed: in-process floor, HTTP service, and the constant-JSON ceiling, in one run.

The service is started the way `make run` starts it (`switchboard quickstart --no-serve` trains
on the shipped sample, then `switchboard serve`), in a fresh data directory, on 127.0.0.1 only
(a port of SWITCHBOARD_TEST_PORTS=a-b when set). Every load is bounded in requests and seconds
(bench/loadgen.py) and every server is stopped at the end, whatever happens. The HTTP rows are
measured with the cascade's second opinion on (the default policy) and off; `--workers N` adds
concurrency 64 with N uvicorn worker processes (`switchboard serve --workers N`).

Every figure is the default path, without `?explain=true` (no evidence words, no top features),
except the one in-process row "with ?explain=true", which shows what asking costs.

Issue #14 targets on 2 cores, each ratio from one run: in-process (second opinion off)
single-mention p50 <= 0.25 ms and batch >= 20,000 mentions/s; `/v1/score` >= 0.5 x the
constant-JSON `/health` ceiling at concurrency 64 on one process; p99 < 5 ms at concurrency 1;
RSS < 600 MB. Printed beside the previous release's figures, in-process and HTTP, from
`bench/results/serving.previous.json` (a copy of the last release's `serving.json`).
`python -m bench.serving [--quick] [--workers 2] [--registry DATA_DIR/registry]` (the last
reuses a trained model: no training).
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
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
from bench.common import REPO_ROOT, free_port, table, write_result

SAMPLE = REPO_ROOT / "datasets" / "sample" / "cases.csv"
ROSTER = REPO_ROOT / "datasets" / "sample" / "roster.json"
KEY = "bench-key-not-secret"
CONCURRENCY = (1, 8, 64)
# The previous release's figures (a copy of its bench/results/serving.json), printed beside
# this run's. Replace it with this run's file when a release is cut.
PREVIOUS_FILE = REPO_ROOT / "bench" / "results" / "serving.previous.json"
BATCH_SIZE = 100


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
    from switchboard.service.scoring import score_batch
    from switchboard.settings import Settings

    settings = Settings(data_dir=data_dir)
    bundle = Registry(settings.registry_path).load(CHAMPION)
    policy = load_policy(settings.policy_file)
    # The fast path alone, which is what issue #14's in-process targets are about.
    off_policy = load_policy(_policy_without_second_opinion(data_dir / "policy-off.toml"))
    roster = [r.__class__(**{**_fields(r), "online": True}) for r in load_roster(ROSTER)]
    mentions = [msgspec.convert(b, MentionIn) for b in bodies]
    now = datetime.now(UTC)
    # As the service builds them (service/routes/model.py): explaining nothing unless a
    # request asks (`?explain=true`), which the "explained" figures below do.
    routers = {"on": Router(bundle, policy), "off": Router(bundle, off_policy)}
    bundle.warm()
    for router in routers.values():
        for m in mentions[:50]:  # warm the expertise tables and the word memos too
            score_batch(router, [m], roster, now)
            score_batch(router, [m], roster, now, explain=True)
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
    off = routers["off"]
    explained = [
        _once(lambda m=m: score_batch(off, [m], roster, now, explain=True)) for m in mentions
    ]
    stage_us = _stages(off, roster, mentions, now)
    return {
        # The default policy (second opinion on) under the keys earlier results files use.
        **out["on"],
        "second_opinion_off": out["off"],
        # One mention with `?explain=true` (evidence words and top features), second opinion off.
        "explained_single": _percentiles(explained),
        "stages_us_p50": {k: round(v, 1) for k, v in stage_us.items()},
        "batch_size": len(mentions),
    }


def _stages(router: Any, roster: list[Any], mentions: list[Any], now: datetime) -> dict[str, float]:
    """Median microseconds per stage for one mention: the split of the floor.

    Each stage of `Router.recommend` is timed alone on inputs that a full recommendation made;
    the two `explain:` stages are paid only by requests with `?explain=true`.
    """
    import msgspec

    from switchboard.ml.text import normalise
    from switchboard.routing.evidence import evidence
    from switchboard.routing.policy import decide
    from switchboard.routing.types import Context
    from switchboard.service.scoring import EXPLAIN_FEATURES, to_mention, to_response

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
        "all heads": lambda i: bundle.predict_heads(i[1]),
        "explain: top features": lambda i: bundle.explain_heads(
            i[1], [i[2].heads], EXPLAIN_FEATURES
        ),
        "explain: evidence words": lambda i: evidence(bundle, i[1], [i[2].heads], [i[0]]),
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
def service(
    env: dict[str, str], port: int, log: Path, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """`switchboard serve` (what `make run` ends in) on 127.0.0.1:port; always stopped on exit."""
    cmd = [sys.executable, "-m", "switchboard", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--seed-roster", str(ROSTER), "--workers", str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
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


def _policy_without_second_opinion(path: Path) -> Path:
    """The default policy with the cascade's second opinion off (`second_opinion_below = 0`)."""
    from switchboard.settings import Settings

    text = Settings().policy_file.read_text()
    off, n = re.subn(r"(?m)^second_opinion_below\s*=.*$", "second_opinion_below = 0", text)
    if n != 1:
        raise RuntimeError("policy.toml has no `second_opinion_below` line to turn off")
    path.write_text(off)
    return path


def _serve_and_load(
    env: dict[str, str],
    log: Path,
    single: list[str],
    batches: list[str],
    concurrency: tuple[int, ...],
    quick: bool,
    workers: int = 1,
) -> dict[str, Any]:
    """One server; per concurrency the ceiling and /v1/score back to back; then batches."""
    port = free_port()
    n, secs = (600, 4.0) if quick else (6000, 10.0)
    with service(env, port, log, workers) as proc:
        cold_s = _wait_ready(port, proc)
        rows = []
        for c in concurrency:
            common = {"concurrency": c, "max_requests": n, "max_seconds": secs}
            ceiling = _load(port, method="GET", path="/health", bodies=[], **common)
            score = _load(port, method="POST", path="/v1/score", bodies=single, **common)
            rows.append({"concurrency": c, "ceiling": ceiling, "score": score})
        batch = None
        if batches:
            batch = _load(
                port,
                method="POST",
                path="/v1/score/batch",
                bodies=batches,
                concurrency=2,
                max_requests=max(n // 50, 20),
                max_seconds=secs,
            )
            batch = {**batch, "mentions_per_s": round(batch["rps"] * BATCH_SIZE)}
        rss = _rss_mb(proc.pid)
    return {
        "workers": workers,
        "cold_start_to_ready_s": round(cold_s, 2),
        "rss_mb_after_load": round(rss),
        "single": rows,
        "batch": batch,
    }


def http(
    env: dict[str, str], data_dir: Path, bodies: list[dict[str, Any]], quick: bool, workers: int
) -> dict[str, Any]:
    """The service with the default policy (the cascade's second opinion on), then with it off;
    with `workers` > 1, both again at concurrency 64 with that many worker processes."""
    single = [json.dumps(b) for b in bodies]
    batches = [
        json.dumps({"mentions": bodies[i : i + BATCH_SIZE]})
        for i in range(0, len(bodies) - BATCH_SIZE + 1, BATCH_SIZE)
    ]
    off_env = {**env, "SWITCHBOARD_POLICY_PATH": str(_policy_without_second_opinion(
        data_dir / "policy-no-second-opinion.toml"
    ))}  # fmt: skip
    log = data_dir / "service.log"
    out = {
        "second_opinion_on": _serve_and_load(env, log, single, batches, CONCURRENCY, quick),
        "second_opinion_off": _serve_and_load(off_env, log, single, batches, CONCURRENCY, quick),
    }
    if workers > 1:
        many = {**env, "SWITCHBOARD_METRICS_DIR": str(data_dir / "metrics")}
        many_off = {**off_env, "SWITCHBOARD_METRICS_DIR": str(data_dir / "metrics")}
        out["workers_on"] = _serve_and_load(many, log, single, [], (64,), quick, workers)
        out["workers_off"] = _serve_and_load(many_off, log, single, [], (64,), quick, workers)
    return out


def run(quick: bool = False, workers: int = 1, registry: Path | None = None) -> dict[str, Any]:
    """`registry`: a trained model registry (a data dir's `registry/`) to copy instead of
    training one (minutes on a busy machine); the first-run training time is then not measured."""
    bodies = _mentions(1000)
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        data_dir = Path(tmp)
        if registry is not None:
            shutil.copytree(registry, data_dir / "registry")
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
        train_s = time.perf_counter() - t0 if registry is None else float("nan")
        floor = in_process(data_dir, bodies)
        served = http(env, data_dir, bodies, quick, workers)
    payload = {"first_run_train_s": round(train_s, 1), "in_process": floor, "http": served}
    write_result("serving", payload)
    _print(payload)
    return payload


TARGET_RATIO = 0.5  # /v1/score >= 0.5 x the constant-JSON ceiling at concurrency 64, 1 process
TARGET_P99_MS = 5.0  # at concurrency 1
TARGET_RSS_MB = 600


def _row(run: dict[str, Any], c: int) -> dict[str, Any]:
    return next(r for r in run["single"] if r["concurrency"] == c)


def _ratio(run: dict[str, Any], c: int = 64) -> float:
    r = _row(run, c)
    return round(r["score"]["rps"] / r["ceiling"]["rps"], 3)


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _previous(part: str) -> dict[str, Any]:
    """The previous release's figures (`in_process` or `http`), or {} when none are kept."""
    try:
        return dict(json.loads(PREVIOUS_FILE.read_text())[part])
    except (OSError, ValueError, KeyError):
        return {}


def in_process_table(now: dict[str, Any], before: dict[str, Any]) -> str:
    """This run's in-process rows beside the previous release's, second opinion off and on."""

    def single(f: dict[str, Any] | None) -> str:
        return "-" if not f else f"{f['single']['p50_ms']:.3f} / {f['single']['p99_ms']:.3f} ms"

    def explained(f: dict[str, Any] | None) -> str:
        return "-" if not f else f"{f['p50_ms']:.3f} / {f['p99_ms']:.3f} ms"

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
        [
            "same, second opinion off, with ?explain=true",
            explained(now.get("explained_single")),
            explained(before.get("explained_single")),
            "",
        ],
        [f"batch of {n:,} (second opinion off)", batch(off_now), batch(off_before), ">= 20,000"],
        [f"batch of {n:,}, second opinion on", batch(now), batch(on_before), ""],
    ]
    return table(["in-process", "this run", "previous release", "target"], rows)


def _print(p: dict[str, Any]) -> None:
    f, h = p["in_process"], p["http"]
    print("\nServing speed: in-process floor (no HTTP, no database), one mention at a time")
    stage_rows = [[k, v] for k, v in f["stages_us_p50"].items()]
    print(table(["stage (p50, one mention, second opinion off)", "us"], stage_rows))
    print(in_process_table(f, _previous("in_process")))
    titles = {
        "second_opinion_on": "second opinion on (the default policy)",
        "second_opinion_off": "second opinion off (second_opinion_below = 0)",
        "workers_on": "second opinion on",
        "workers_off": "second opinion off",
    }
    for key, title in titles.items():
        if key not in h:
            continue
        run = h[key]
        print(
            f"\nHTTP, {run['workers']} process(es), {title} "
            "(loopback; ceiling = constant-JSON GET /health, same server, same run)"
        )
        rows = []
        for r in run["single"]:
            s, c = r["score"], r["ceiling"]
            rows.append(
                [r["concurrency"], s["rps"], s["p50_ms"], s["p99_ms"], s["little_bound_ms"],
                 s["errors"], c["rps"], c["p99_ms"], round(s["rps"] / c["rps"], 3)]
            )  # fmt: skip
        headers = ["conc", "score req/s", "p50 ms", "p99 ms", "c/X ms", "errors"]
        headers += ["ceiling req/s", "ceiling p99", "score/ceiling"]
        print(table(headers, rows))
    on, off = h["second_opinion_on"], h["second_opinion_off"]
    print("c/X = concurrency / throughput: the latency Little's law implies at that load.")
    print("\nAgainst the previous release and the targets (issue #14)")

    def c1(run: dict[str, Any]) -> str:
        s = _row(run, 1)["score"]
        return f"{s['rps']:,.0f} req/s, p50 {s['p50_ms']:.1f}, p99 {s['p99_ms']:.1f} ms"

    def ratio(run: dict[str, Any]) -> str:
        r = _row(run, 64)
        return f"{r['score']['rps']:,.0f} / {r['ceiling']['rps']:,.0f} = {_ratio(run):.3f}"

    def p99(run: dict[str, Any]) -> str:
        ok = _row(run, 1)["score"]["p99_ms"] < TARGET_P99_MS
        return f"p99 < {TARGET_P99_MS:g} ms: {_verdict(ok)}"

    before = _previous("http")
    was_on, was_off = before.get("second_opinion_on"), before.get("second_opinion_off")

    def then(show: Callable[[dict[str, Any]], str], run: dict[str, Any] | None) -> str:
        return show(run) if run else "-"

    def c8_c64(run: dict[str, Any]) -> str:
        return f"{_row(run, 8)['score']['rps']:,.0f} / {_row(run, 64)['score']['rps']:,.0f} req/s"

    def batches(run: dict[str, Any]) -> str:
        return f"{run['batch']['mentions_per_s']:,} mentions/s"

    def rss(run: dict[str, Any]) -> str:
        return f"{run['rss_mb_after_load']} MB"

    def cold(run: dict[str, Any]) -> str:
        return f"{run['cold_start_to_ready_s']} s"

    rows = [
        ["/v1/score c=1, second opinion on", c1(on), then(c1, was_on), p99(on)],
        ["/v1/score c=1, second opinion off", c1(off), then(c1, was_off), p99(off)],
        ["/v1/score c=8 / c=64, second opinion on", c8_c64(on), then(c8_c64, was_on), ""],
        ["/v1/score c=8 / c=64, second opinion off", c8_c64(off), then(c8_c64, was_off), ""],
        ["score / ceiling at c=64, second opinion on", ratio(on), then(ratio, was_on),
         f">= {TARGET_RATIO}: {_verdict(_ratio(on) >= TARGET_RATIO)}"],
        ["score / ceiling at c=64, second opinion off", ratio(off), then(ratio, was_off),
         f">= {TARGET_RATIO}: {_verdict(_ratio(off) >= TARGET_RATIO)}"],
        [f"/v1/score/batch ({BATCH_SIZE} per request, 2 clients), second opinion on",
         batches(on), then(batches, was_on), ""],
        [f"/v1/score/batch ({BATCH_SIZE} per request, 2 clients), second opinion off",
         batches(off), then(batches, was_off), ""],
        ["RSS after load, 1 process (on)", rss(on), then(rss, was_on),
         f"< {TARGET_RSS_MB} MB: {_verdict(on['rss_mb_after_load'] < TARGET_RSS_MB)}"],
        ["cold start to ready (on)", cold(on), then(cold, was_on), ""],
    ]  # fmt: skip
    for key, title in (("workers_on", "on"), ("workers_off", "off")):
        if key in h:
            w, one = h[key], on if key == "workers_on" else off
            rows.append(
                [f"{w['workers']} workers c=64, second opinion {title}: req/s (1 process)",
                 f"{_row(w, 64)['score']['rps']:,.0f} ({_row(one, 64)['score']['rps']:,.0f}); "
                 f"score/ceiling {_ratio(w):.3f}; RSS {w['rss_mb_after_load']} MB", "-", ""]
            )  # fmt: skip
    print(table(["figure", "this run", "previous release", "target"], rows))


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


if __name__ == "__main__":
    registry = _option(sys.argv, "--registry")
    run(
        quick="--quick" in sys.argv,
        workers=int(_option(sys.argv, "--workers") or 1),
        registry=Path(registry) if registry else None,
    )
