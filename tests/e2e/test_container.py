"""The container image (Dockerfile): builds, runs as its own user on a mounted data dir holding
a trained model, turns healthy and scores a mention. Needs a running Docker engine; skips
saying so without one (a docker client alone is not enough)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests.conftest import REPO_ROOT, make_cases
from tests.live import free_port

pytestmark = pytest.mark.slow

KEY = "container-test-key"
BUILD_TIMEOUT_S = 1200  # a cold build downloads the wheels of numpy, scipy, scikit-learn ...
HEALTHY_TIMEOUT_S = 180


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _engine_or_skip() -> None:
    if shutil.which("docker") is None:
        pytest.skip("docker engine unavailable: no docker client on PATH")
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("docker engine unavailable: `docker info` did not answer in 30 s")
    if info.returncode != 0 or not info.stdout.strip():
        reason = (info.stderr.strip().splitlines() or ["no server version"])[-1]
        pytest.skip(f"docker engine unavailable: `docker info` says: {reason}")


@pytest.fixture
def image() -> Iterator[str]:
    _engine_or_skip()
    tag = f"switchboard-test:{os.getpid()}"
    built = _docker("build", "--tag", tag, str(REPO_ROOT), timeout=BUILD_TIMEOUT_S)
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        yield tag
    finally:
        _docker("image", "rm", "--force", tag)


def _trained_data_dir(root: Path) -> Path:
    """A data dir with a champion, writable by the image's user (uid 10001)."""
    cases = root / "cases.csv"
    make_cases(300).to_csv(cases, index=False)
    data_dir = root / "data"
    train = ["train", "--data", str(cases), "--no-mlflow", "--no-second-opinion"]
    assert main([*train, "--no-benchmark", "--quiet"], Settings(data_dir=data_dir)) == 0
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    return data_dir


def _wait_healthy(name: str) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline:
        status = _docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        if status == "healthy":
            return
        if status in ("unhealthy", ""):
            logs = _docker("logs", "--tail", "50", name)
            pytest.fail(f"container {status or 'gone'}:\n{logs.stdout}{logs.stderr}")
        time.sleep(1)
    pytest.fail(f"container not healthy after {HEALTHY_TIMEOUT_S} s (last status {status!r})")


def test_container_serves_a_mounted_model(image: str, tmp_path: Path) -> None:
    data_dir = _trained_data_dir(tmp_path)
    port = free_port()
    name = f"switchboard-test-{os.getpid()}"
    run = _docker(
        "run", "--detach", "--name", name,
        "--publish", f"127.0.0.1:{port}:8000",
        "--volume", f"{data_dir}:/data",
        "--env", f"SWITCHBOARD_API_KEYS={KEY}:score",
        "--health-interval", "2s", "--health-start-period", "60s",
        image,
    )  # fmt: skip
    try:
        assert run.returncode == 0, run.stderr
        _wait_healthy(name)
        reply = httpx.post(
            f"http://127.0.0.1:{port}/v1/score",
            json={"id": "c1", "text": "where is my order #A123456 for the phone?"},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=30,
        )
        user = _docker("exec", name, "id", "-u").stdout.strip()
    finally:
        _docker("rm", "--force", name)
    assert reply.status_code == 200, reply.text
    assert reply.json()["model_version"] == "v1"
    assert user == "10001", "the service does not run as root"
