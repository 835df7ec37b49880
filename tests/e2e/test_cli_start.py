"""What the command line says about itself and what a start prints: version, key, curl line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from joblib import Parallel, delayed

from switchboard import __version__
from switchboard.cli import main
from switchboard.cli.service import client_url, key_banner, prepare, stop_worker_processes
from switchboard.settings import Settings

URL = "http://127.0.0.1:8031"


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"switchboard {__version__}\n"
    assert __version__ != "0+unknown", "the package is installed, so it has a real version"


def test_first_start_prints_the_new_key_and_a_curl_for_the_served_port(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check `make run PORT=8031`'s first start: the demo key, how to set KEY, curl on :8031."""
    prepare(settings, None, URL)
    err = capsys.readouterr().err
    key = next(w for w in err.split() if w.startswith("sb_"))
    assert f"export KEY={key}" in err
    assert 'Authorization: Bearer $KEY"' in err and f"{URL}/v1/score" in err
    assert ":8000" not in err


def test_later_start_prints_no_old_key_but_how_to_make_one(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check a second start never prints a key (none is stored) and says how to get one."""
    prepare(settings, None, URL)
    first = capsys.readouterr().err
    prepare(settings, None, URL)
    again = capsys.readouterr().err
    assert "sb_" in first and "sb_" not in again
    assert "keys create --scopes score" in again and "keys list" in again
    assert f"{URL}/v1/score" in again


def test_banner_with_env_keys_points_at_the_variable() -> None:
    text = key_banner(URL, None, env_keys=True)
    assert "SWITCHBOARD_API_KEYS" in text and f"{URL}/v1/score" in text


def test_banner_names_the_command_that_runs_here() -> None:
    text = key_banner(URL, None, env_keys=False, command=".venv/bin/switchboard")
    assert "export KEY=$(.venv/bin/switchboard keys create --scopes score)" in text


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8031"),
        ("0.0.0.0", "http://127.0.0.1:8031"),
        ("::1", "http://[::1]:8031"),
        ("sb.internal", "http://sb.internal:8031"),
    ],
)
def test_curl_example_names_an_address_a_client_can_use(host: str, url: str) -> None:
    """Check a wildcard bind (the container's 0.0.0.0) prints the loopback, not 0.0.0.0."""
    assert client_url(host, 8031) == url


def _workers() -> set[int]:
    """This process's joblib worker processes, from /proc (Linux). Its resource trackers are
    left out: they end by themselves when their pipe closes, which an exec does."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    children = {int(p) for t in tasks.iterdir() for p in (t / "children").read_text().split()}
    return {p for p in children if b"LokyProcess" in Path(f"/proc/{p}/cmdline").read_bytes()}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_training_workers_are_stopped_before_the_server_starts() -> None:
    """Check quickstart's exec into the server leaves no joblib worker behind to outlive it."""
    assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]
    workers = _workers()
    assert workers, "joblib kept worker processes after the job (what quickstart must stop)"
    stop_worker_processes()
    assert not (_workers() & workers)
