"""A small closed-loop HTTP/1.1 load generator for loopback benchmarks.

Why not an HTTP client library: at thousands of requests per second on a 2-core machine the
client's own overhead decides the result, and the client shares the cores with the server.
Pre-encoded requests over persistent asyncio connections keep the client cheap; it runs in its
own process (`python -m bench.loadgen`), so the benchmark process does not steal its GIL.

Safety: it only connects to 127.0.0.1, and every run is bounded by both a request count and a
wall-clock limit, after which it stops by itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

HOST = "127.0.0.1"  # the only address this tool will talk to
# In a body, replaced by a value unique to each request (same length, so Content-Length
# holds): the service answers a mention id it has seen from its log, so a benchmark that
# cycles through the same bodies must not send the same id twice.
UNIQUE = b"%%UNIQUE-ID%%"


@dataclass(frozen=True, slots=True)
class Load:
    port: int
    method: str
    path: str
    bodies: list[str]  # cycled through; empty for GET
    headers: dict[str, str]
    concurrency: int
    max_requests: int
    max_seconds: float
    warmup: int = 50


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    errors: int
    status_counts: dict[str, int]
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float


def _encode(load: Load, body: str) -> bytes:
    data = body.encode()
    head = [f"{load.method} {load.path} HTTP/1.1", f"Host: {HOST}:{load.port}"]
    head += [f"{k}: {v}" for k, v in load.headers.items()]
    if data:
        head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


_RUN = os.urandom(3).hex()[:5]  # this process's prefix: loads in other processes differ
_SEQ = itertools.count()


def _unique_id() -> bytes:
    return f"{_RUN}{next(_SEQ):08d}".encode()


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(
    load: Load,
    requests: list[bytes],
    budget: list[int],
    deadline: float,
    latencies: list[float],
    statuses: dict[str, int],
    offset: int,
) -> None:
    reader, writer = await asyncio.open_connection(HOST, load.port)
    i = offset
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            t0 = time.perf_counter()
            request = requests[i % len(requests)]
            if UNIQUE in request:
                request = request.replace(UNIQUE, _unique_id())
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - t0)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            i += load.concurrency
    finally:
        writer.close()


async def run_async(load: Load) -> LoadResult:
    if load.concurrency < 1 or load.max_requests < 1 or load.max_seconds <= 0:
        raise ValueError("concurrency, max_requests and max_seconds must be positive")
    requests = [_encode(load, b) for b in (load.bodies or [""])]
    warm = Load(**{**asdict(load), "max_requests": load.warmup, "concurrency": 1})
    await _run(warm, requests, [], {})
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    t0 = time.perf_counter()
    await _run(load, requests, latencies, statuses)
    seconds = time.perf_counter() - t0
    lat = np.array(latencies) * 1000 if latencies else np.zeros(1)
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    return LoadResult(
        requests=len(latencies),
        errors=len(latencies) - ok,
        status_counts=statuses,
        seconds=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(float(np.percentile(lat, 50)), 3),
        p90_ms=round(float(np.percentile(lat, 90)), 3),
        p99_ms=round(float(np.percentile(lat, 99)), 3),
        mean_ms=round(float(lat.mean()), 3),
    )


async def _run(
    load: Load, requests: list[bytes], latencies: list[float], statuses: dict[str, int]
) -> None:
    budget = [load.max_requests]
    deadline = time.perf_counter() + load.max_seconds
    await asyncio.gather(
        *(
            _worker(load, requests, budget, deadline, latencies, statuses, k)
            for k in range(load.concurrency)
        )
    )


def run(load: Load) -> LoadResult:
    """Run `load` in a separate process (so it has its own interpreter) and return its result."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(asdict(load)),
        capture_output=True,
        text=True,
        timeout=load.max_seconds + 60,
        check=True,
    )
    return LoadResult(**json.loads(out.stdout))


def main() -> None:
    load = Load(**json.loads(sys.stdin.read()))
    print(json.dumps(asdict(asyncio.run(run_async(load)))))


if __name__ == "__main__":
    main()
