"""/metrics: HTTP traffic by route template, scored mentions by decision, process figures,
batches once each, and totals across worker processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from switchboard.ml.registry import CHAMPION, Registry
from tests.conftest import REPO_ROOT
from tests.live import free_port, stop_with_workers, wait_ready
from tests.service.conftest import SCORE_KEY

TEXT = "my phone broke again, so annoyed"
RESPONDER = "/v1/responders/{rid}"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text page: (name, labels) -> value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(page: dict, name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> dict:
    return samples(client.get("/metrics").text)


def test_http_metrics_count_status_by_route_template(client: TestClient) -> None:
    for rid in ("ana", "bo", "ana"):
        assert client.get(f"/v1/responders/{rid}").status_code == 200
    assert client.get("/v1/responders/nobody").status_code == 404
    client.get("/no/such/page")
    page = scrape(client)
    requests = "switchboard_http_requests_total"
    assert value(page, requests, method="GET", route=RESPONDER, status="200") == 3
    assert value(page, requests, method="GET", route=RESPONDER, status="404") == 1
    assert value(page, requests, method="GET", route="<unmatched>", status="404") == 1
    routes = {dict(labels).get("route") for name, labels in page if name == requests}
    assert not any("ana" in r or "nobody" in r or "/no/such" in r for r in routes)


def test_http_latency_histogram(client: TestClient) -> None:
    for _ in range(4):
        client.get("/health")
    page = scrape(client)
    labels = {"method": "GET", "route": "/health", "status": "200"}
    assert value(page, "switchboard_http_request_seconds_count", **labels) == 4
    assert value(page, "switchboard_http_request_seconds_bucket", **labels, le="+Inf") == 4
    assert 0 < value(page, "switchboard_http_request_seconds_sum", **labels) < 4 * 10


def test_scored_mentions_counted_by_intent_tier_reply(client: TestClient) -> None:
    body = client.post("/v1/score", json={"id": "s1", "text": TEXT}).json()
    client.post("/v1/score", json={"id": "s1", "text": TEXT})  # a replay is not scored again
    page = scrape(client)
    decision = {
        "intent": body["intent"]["label"],
        "reply_action": body["reply"]["action"],
        "tier": str(body["tier"]["level"]),
    }
    assert value(page, "switchboard_mentions_scored_total", **decision) == 1
    assert sum(v for (n, _), v in page.items() if n == "switchboard_mentions_scored_total") == 1


def test_process_metrics_exported(client: TestClient) -> None:
    page = scrape(client)
    names = {name for name, _ in page}
    if sys.platform == "linux":  # ProcessCollector reads /proc
        assert value(page, "process_resident_memory_bytes") > 0
        assert "process_cpu_seconds_total" in names and "process_open_fds" in names
    assert any(name == "python_info" for name in names)


def test_batch_time_recorded_once_per_batch(client: TestClient) -> None:
    mentions = [{"id": f"b{i}", "text": f"{TEXT} #{i}"} for i in range(5)]
    assert client.post("/v1/score/batch", json={"mentions": mentions}).status_code == 200
    page = scrape(client)
    assert value(page, "switchboard_batch_seconds_count") == 1
    assert value(page, "switchboard_batch_size_count") == 1
    assert value(page, "switchboard_batch_size_sum") == 5
    assert value(page, "switchboard_score_seconds_count") == 0  # single /v1/score only
    client.post("/v1/score", json={"id": "one", "text": TEXT})
    assert value(scrape(client), "switchboard_score_seconds_count") == 1


def _lines(stderr: Path) -> list[dict]:
    out = []
    for line in stderr.read_text(errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # only the demo-key hint is plain
            out.append(json.loads(line))
    return out


@pytest.mark.slow
def test_metrics_sum_across_processes(tmp_path: Path, trained_bundle) -> None:
    """`switchboard serve --workers 2` with SWITCHBOARD_METRICS_DIR: every scrape, whichever
    worker answers it, reports the requests both workers served."""
    data_dir = tmp_path / "var"
    registry = Registry(data_dir / "registry")
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"")  # an earlier run's: emptied at start
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_API_KEYS": f"{SCORE_KEY}:score",
        "SWITCHBOARD_METRICS_DIR": str(metrics_dir),
        "SWITCHBOARD_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    stderr = tmp_path / "stderr.log"
    cmd = [sys.executable, "-m", "switchboard", "serve", "--workers", "2"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    with stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stderr=err)
    try:
        wait_ready(base, proc)
        sent, pids = 0, set()
        with ThreadPoolExecutor(8) as pool:
            # Fresh connections, several at once, until both workers have answered some.
            for _ in range(20):
                codes = list(pool.map(lambda _: httpx.get(f"{base}/health").status_code, range(16)))
                assert codes == [200] * 16
                sent += 16
                time.sleep(0.2)  # access lines reach the file
                pids = {
                    line["pid"]
                    for line in _lines(stderr)
                    if line["logger"] == "uvicorn.access" and line.get("path") == "/health"
                }
                if len(pids) == 2:
                    break
        assert len(pids) == 2, "one worker answered every request"
        headers = {"Authorization": f"Bearer {SCORE_KEY}"}
        for i in range(3):
            r = httpx.post(f"{base}/v1/score", json={"id": f"w{i}", "text": TEXT}, headers=headers)
            assert r.status_code == 200, r.text
        for _ in range(4):  # fresh connections: the scrapes fall on either worker
            page = samples(httpx.get(f"{base}/metrics").text)
            health = {"method": "GET", "route": "/health", "status": "200"}
            assert value(page, "switchboard_http_requests_total", **health) == sent
            scored = [v for (n, _), v in page.items() if n == "switchboard_mentions_scored_total"]
            assert sum(scored) == 3
            assert "process_resident_memory_bytes" not in {n for n, _ in page}
        assert not (metrics_dir / "counter_1.db").exists()
        lines = _lines(stderr)
        assert any(line["logger"].startswith("alembic") for line in lines)
        assert any(line["logger"] == "uvicorn.error" for line in lines)
        access = [line for line in lines if line["logger"] == "uvicorn.access"]
        assert access and all(len(line["request_id"]) == 32 for line in access)
    finally:
        stop_with_workers(proc)
