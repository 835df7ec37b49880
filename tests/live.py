"""A real service process for tests that need one (crash, full disk, browser): 127.0.0.1 only,
a free port, and always stopped — with SIGKILL if it does not stop by itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import free_port
from tests.conftest import REPO_ROOT


def start(data_dir: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """uvicorn over the app factory, as `switchboard serve` runs it."""
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "switchboard.service.app:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    full_env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), **env}
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the service did not become ready")


@contextmanager
def service(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A ready service and its base URL; stopped on exit whatever happened."""
    port = free_port()
    proc = start(data_dir, env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc)
        yield base, proc
    finally:
        stop(proc)


def _children(parent: int) -> dict[int, str]:
    """The processes whose parent is `parent` (Linux /proc), e.g. uvicorn's workers, with their
    start time: a pid with another start time is another process that got the number later."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found[int(stat.parent.name)] = fields[19]
    return found


def stop_with_workers(proc: subprocess.Popen[bytes]) -> None:
    """Stop the supervisor; a worker it could not take down with it is killed by its pid."""
    workers = _children(proc.pid)
    stop(proc)
    for pid, started in workers.items():
        with contextlib.suppress(OSError, IndexError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19] == started:
                os.kill(pid, signal.SIGKILL)


@contextmanager
def serve(
    data_dir: Path, env: dict[str, str], workers: int, stderr: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`switchboard serve --workers N` (migrates, then N uvicorn workers), ready; its log lines
    go to `stderr`. Stopped on exit, workers included, whatever happened."""
    port = free_port()
    cmd = [sys.executable, "-m", "switchboard", "serve", "--workers", str(workers)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    full_env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), **env}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stderr=err)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc)
        _wait_started(stderr, workers, proc)
        yield base, proc
    finally:
        stop_with_workers(proc)


def _wait_started(stderr: Path, workers: int, proc: subprocess.Popen[bytes]) -> None:
    """Until every worker has started (the first ready one answers /ready before the others)."""
    deadline = time.monotonic() + 60
    while stderr.read_bytes().count(b"Application startup complete") < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"not all {workers} workers started; see {stderr}")
        time.sleep(0.1)
