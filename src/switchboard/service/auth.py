"""API keys: `Authorization: Bearer <key>`, each key with scopes and an owner; only SHA-256
hashes are kept.

Keys come from `SWITCHBOARD_API_KEYS` (`key:scope,scope[:name];key2:scope`) and from the database
(`switchboard keys create --scopes review --name alice`). `admin` implies every scope. The key's
owner name is the identity verdicts are recorded under; a key without one is `key:<first 8 hex of
its SHA-256>`. The API reads keys from the header only: a cookie never authorises `/v1` (the
review page signs in once and keeps a server-side session instead, service/sessions.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Engine, insert, select

from switchboard.service.db import api_keys
from switchboard.service.errors import Forbidden, Unauthorized

SCOPES = ("score", "roster", "review", "admin")
ANONYMOUS_PREFIX = "key:"
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a key belongs to and what it may do; what a review session keeps instead of the key."""

    identity: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def identity_of(digest: str, name: str | None) -> str:
    """The owner's name, else `key:<first 8 hex>`: stable, and not enough to guess the key."""
    return name or ANONYMOUS_PREFIX + digest[:8]


def check_name(name: str) -> str:
    """A key owner's name: 1-100 printable characters, not `key:...` (that prefix is how keys
    without a name show, so a name must not pass for another key)."""
    name = name.strip()
    printable = all(unicodedata.category(c)[0] != "C" for c in name)
    if not name or len(name) > MAX_NAME or not printable or name.startswith(ANONYMOUS_PREFIX):
        raise ValueError(
            f"a key's name must be 1-{MAX_NAME} printable characters and not start with "
            f"{ANONYMOUS_PREFIX!r}, got {name!r}"
        )
    return name


def _scopes(text: str, key: str) -> frozenset[str]:
    names = frozenset(s.strip() for s in text.split(",") if s.strip())
    if not names or names - set(SCOPES):
        raise ValueError(
            f"SWITCHBOARD_API_KEYS entry for key {key[:4]}…: scopes {sorted(names)} "
            f"must be a non-empty subset of {list(SCOPES)}"
        )
    return names


def parse_keys(spec: str) -> dict[str, Principal]:
    """`key:scope,scope[:name];key2:scope` -> {sha256(key): Principal}.

    A key and its scopes cannot contain `:` or `;`, so the text after the second `:` is the
    owner's name (it may contain `:`, not `;`). Unknown scopes or a bad name are an error.
    """
    out: dict[str, Principal] = {}
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        key, _, rest = item.partition(":")
        scopes, named, name = rest.partition(":")
        if not key:
            raise ValueError("SWITCHBOARD_API_KEYS has an entry without a key")
        digest = hash_key(key)
        owner = check_name(name) if named else None
        out[digest] = Principal(identity_of(digest, owner), _scopes(scopes, key))
    return out


def create_key(engine: Engine, scopes: frozenset[str], name: str | None = None) -> str:
    """A new random key stored as its hash, with its owner's name; the clear key is returned
    once, never stored."""
    if not scopes or scopes - set(SCOPES):
        raise ValueError(f"scopes must be a non-empty subset of {list(SCOPES)}")
    owner = check_name(name) if name is not None else None
    key = "sb_" + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_hash=hash_key(key),
                scopes=",".join(sorted(scopes)),
                created_at=datetime.now(UTC),
                name=owner,
            )
        )
    return key


def any_db_keys(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_keys.c.id).limit(1)).first() is not None


def principal_of(key: str, env_keys: dict[str, Principal], engine: Engine) -> Principal | None:
    """The key's owner and scopes, or None for a key the service does not know."""
    digest = hash_key(key)
    for known, principal in env_keys.items():
        if hmac.compare_digest(known, digest):
            return principal
    query = select(api_keys.c.scopes, api_keys.c.name).where(api_keys.c.key_hash == digest)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return Principal(identity_of(digest, row.name), frozenset(row.scopes.split(",")))


def presented_key(connection: ASGIConnection) -> str | None:
    """The bearer key; nothing else. A cookie is sent by the browser on its own, to any page
    of the host that asks, so it must never stand in for a key."""
    header = connection.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    return None


def check(connection: ASGIConnection, scope: str) -> Principal:
    """Who presented the key if it has `scope` (admin has all); 401 / 403 otherwise."""
    key = presented_key(connection)
    if key is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", "Authorization")
    return authorise(key, scope, connection.app.state)


def authorise(key: str, scope: str, state: State) -> Principal:
    principal = principal_of(key, state.env_keys, state.engine)
    if principal is None:
        raise Unauthorized("unknown API key", "Authorization")
    if not principal.may(scope):
        raise Forbidden(f"this key lacks the '{scope}' scope", "Authorization")
    return principal


def require(scope: str):
    """Guard: 401 without a valid key, 403 when the key lacks `scope`."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        check(connection, scope)

    return guard
