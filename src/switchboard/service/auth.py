"""API keys: `Authorization: Bearer <key>`, each key with scopes; only SHA-256 hashes are kept.

Keys come from `SWITCHBOARD_API_KEYS` (`key:scope,scope;key2:scope`) and from the database
(`python -m service keys create --scopes score,roster`). `admin` implies every scope.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Engine, insert, select

from switchboard.service.db import api_keys
from switchboard.service.errors import Forbidden, Unauthorized

SCOPES = ("score", "roster", "review", "admin")
KEY_COOKIE = "sb_key"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_keys(spec: str) -> dict[str, frozenset[str]]:
    """`key:scope,scope;key2:scope` -> {sha256(key): scopes}; unknown scopes are an error."""
    out: dict[str, frozenset[str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        key, _, scopes = item.partition(":")
        names = frozenset(s.strip() for s in scopes.split(",") if s.strip())
        if not key or not names or names - set(SCOPES):
            raise ValueError(
                f"SWITCHBOARD_API_KEYS entry for key {key[:4]}…: scopes {sorted(names)} "
                f"must be a non-empty subset of {list(SCOPES)}"
            )
        out[hash_key(key)] = names
    return out


def create_key(engine: Engine, scopes: frozenset[str]) -> str:
    """A new random key stored as its hash; the clear key is returned once, never stored."""
    if not scopes or scopes - set(SCOPES):
        raise ValueError(f"scopes must be a non-empty subset of {list(SCOPES)}")
    key = "sb_" + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_hash=hash_key(key),
                scopes=",".join(sorted(scopes)),
                created_at=datetime.now(UTC),
            )
        )
    return key


def any_db_keys(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_keys.c.id).limit(1)).first() is not None


def scopes_of(
    key: str, env_keys: dict[str, frozenset[str]], engine: Engine
) -> frozenset[str] | None:
    digest = hash_key(key)
    for known, scopes in env_keys.items():
        if hmac.compare_digest(known, digest):
            return scopes
    with engine.connect() as conn:
        row = conn.execute(select(api_keys.c.scopes).where(api_keys.c.key_hash == digest)).first()
    return frozenset(row.scopes.split(",")) if row else None


def presented_key(connection: ASGIConnection) -> str | None:
    """The bearer key, or the review page's session cookie (HttpOnly, SameSite=Strict)."""
    header = connection.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    return connection.cookies.get(KEY_COOKIE) or None


def check(connection: ASGIConnection, scope: str) -> str:
    """The presented key if it has `scope` (admin has all); 401 / 403 otherwise."""
    key = presented_key(connection)
    if key is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", "Authorization")
    authorise(key, scope, connection.app.state)
    return key


def authorise(key: str, scope: str, state: State) -> None:
    scopes = scopes_of(key, state.env_keys, state.engine)
    if scopes is None:
        raise Unauthorized("unknown API key", "Authorization")
    if scope not in scopes and "admin" not in scopes:
        raise Forbidden(f"this key lacks the '{scope}' scope", "Authorization")


def require(scope: str):
    """Guard: 401 without a valid key, 403 when the key lacks `scope`."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        check(connection, scope)

    return guard
