"""A real service process for tests that need one (crash, full disk, browser): 127.0.0.1 only,
a free port, and always stopped — with SIGKILL if it does not stop by itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import REPO_ROOT


def free_port() -> int:
    """A free port: any (the OS picks), or the first free one of SWITCHBOARD_TEST_PORTS=a-b."""
    low, _, high = os.environ.get("SWITCHBOARD_TEST_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in SWITCHBOARD_TEST_PORTS={low}-{high}")


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
