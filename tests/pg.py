"""A throwaway PostgreSQL server for tests that need the real thing (advisory locks): its own
data dir under the test's tmp dir, 127.0.0.1 and a free port only, always stopped.

It needs PostgreSQL's server binaries (Debian's `postgresql` package, or `initdb`/`pg_ctl` on
PATH) and the psycopg driver (`pip install -e '.[postgres]'`); without them the test skips with
a message. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import live


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def server() -> Iterator[str]:
    """A running server; yields a SQLAlchemy URL of its empty `postgres` database. Its data dir
    is a new directory in /tmp (pytest's tmp dirs are private to the user running the tests,
    and the server may run as another), removed afterwards."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
    base.chmod(0o755)
    data, port = base / "pgdata", live.free_port()
    data.mkdir()
    if os.geteuid() == 0:
        os.chown(data, user.pw_uid, user.pw_gid)
    run = {"check": True, "capture_output": True, "timeout": 120}
    init = [initdb, "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run(_as_server_user(init), **run)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [pg_ctl, "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"]
    subprocess.run(_as_server_user(start), **run)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_server_user(stop), capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
