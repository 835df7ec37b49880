"""`switchboard keys create | list | revoke` against a real service database and app."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from switchboard.cli import main
from switchboard.service.app import create_app
from switchboard.service.auth import hash_key
from switchboard.settings import Settings


@pytest.fixture
def app_logging() -> Iterator[None]:
    """Litestar points the root logger at the stderr of the test that started the app; put the
    handlers back, or later tests' log lines hit a closed capture stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _create(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["keys", "create", *args], settings) == 0
    return capsys.readouterr().out.strip()


def test_revoked_key_is_refused(
    settings: Settings, capsys: pytest.CaptureFixture[str], app_logging: None
) -> None:
    """Check a key revoked while the service runs gets 401 on its very next request."""
    key = _create(settings, capsys, "--scopes", "roster")
    with TestClient(app=create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/responders", headers=auth).status_code == 200
        assert main(["keys", "revoke", "1"], settings) == 0
        refused = client.get("/v1/responders", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["field"] == "Authorization"
    assert "key 1 revoked" in capsys.readouterr().out


def test_keys_list_never_shows_keys(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """Check `keys list` shows id, owner, scopes and state, at most 8 hex of a hash, no key."""
    alice = _create(settings, capsys, "--scopes", "review", "--name", "alice")
    anonymous = _create(settings, capsys, "--scopes", "score,roster")
    assert main(["keys", "revoke", "2"], settings) == 0
    env = Settings(data_dir=settings.data_dir, api_keys="env-secret-key:score:bob")
    capsys.readouterr()
    assert main(["keys", "list"], env) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert re.match(r"1\s+alice\s+review\s+\S+ \S+\s+active\s+" + hash_key(alice)[:8], lines[1])
    anon = hash_key(anonymous)[:8]
    assert re.match(rf"2\s+key:{anon}\s+roster,score\s+\S+ \S+\s+revoked ", lines[2])
    assert re.match(r"env\s+bob\s+score\s+-\s+active", lines[3])
    assert "cannot withdraw" in out and "SWITCHBOARD_API_KEYS" in out
    for key in (alice, anonymous, "env-secret-key"):
        assert key not in out
        assert hash_key(key)[:9] not in out, "no more than 8 hex of a key's hash"


def test_revoke_unknown_key_fails_clearly(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check revoking an id no key has exits 1 naming the id, without a traceback."""
    _create(settings, capsys, "--scopes", "score")
    assert main(["keys", "revoke", "42"], settings) == 1
    err = capsys.readouterr().err
    assert "switchboard keys revoke: error: no stored API key has id 42" in err
    assert "Traceback" not in err


def test_revoking_twice_keeps_the_first_time(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check a second revoke of the same key succeeds and reports the original time."""
    _create(settings, capsys, "--scopes", "score")
    assert main(["keys", "revoke", "1"], settings) == 0
    first = capsys.readouterr().out
    assert main(["keys", "revoke", "1"], settings) == 0
    assert capsys.readouterr().out == first
