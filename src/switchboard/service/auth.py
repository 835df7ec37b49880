"""API keys: `Authorization: Bearer <key>`, each key with scopes and an owner; only SHA-256
hashes are kept.

Keys come from `SWITCHBOARD_API_KEYS` (`key:scope,scope[:name];key2:scope`) and from the database
(`switchboard keys create --scopes review --name alice`; `keys list`, `keys revoke ID`). `admin`
implies every scope. A revoked key is refused from the next request on: every request reads its
key's row (no cache), so revocation needs no restart. The key's
owner name is the identity verdicts are recorded under; a key without one is `key:<first 8 hex of
its SHA-256>`. The API reads keys from the header only: a cookie never authorises `/v1` (the
review page signs in once and keeps a server-side session instead, service/sessions.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Engine, insert, select, update

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
    # The api_keys row of a stored key (None for SWITCHBOARD_API_KEYS): a review session keeps
    # it, never the key or its hash, so that revoking the key also ends the session.
    key_id: int | None = field(default=None, compare=False)

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


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What `switchboard keys list` shows of a key: never the key, at most 8 hex of its hash.

    `id` is None for a key from SWITCHBOARD_API_KEYS: it lives in the environment, not in the
    database, so only removing it there (and restarting) withdraws it."""

    id: int | None
    identity: str
    scopes: frozenset[str]
    hash_prefix: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None


def list_keys(engine: Engine, env_keys: dict[str, Principal]) -> list[KeyInfo]:
    """The database's keys (oldest first), then the environment's."""
    query = select(api_keys).order_by(api_keys.c.id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    stored = [
        KeyInfo(
            id=row.id,
            identity=identity_of(row.key_hash, row.name),
            scopes=frozenset(row.scopes.split(",")),
            hash_prefix=row.key_hash[:8],
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]
    from_env = [KeyInfo(None, p.identity, p.scopes, digest[:8]) for digest, p in env_keys.items()]
    return stored + from_env


def revoke_key(engine: Engine, key_id: int) -> datetime | None:
    """Mark a database key revoked (the row stays, for `list` and audits); returns when it was
    revoked, the earlier time if it already was, or None when no key has this id."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(api_keys.c.revoked_at).where(api_keys.c.id == key_id)).first()
        if row is None:
            return None
        if row.revoked_at is not None:
            return row.revoked_at
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
    return now


def any_db_keys(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_keys.c.id).limit(1)).first() is not None


def principal_of(key: str, env_keys: dict[str, Principal], engine: Engine) -> Principal | None:
    """The key's owner and scopes, or None for a key the service does not know (or that was
    revoked: read on every request, so a revocation holds from the next one on)."""
    return env_principal(key, env_keys) or stored_principal(key, engine)


def env_principal(key: str, env_keys: dict[str, Principal]) -> Principal | None:
    """The owner of a key given in `SWITCHBOARD_API_KEYS`: a hash and a compare, no I/O."""
    digest = hash_key(key)
    for known, principal in env_keys.items():
        if hmac.compare_digest(known, digest):
            return principal
    return None


def stored_principal(key: str, engine: Engine) -> Principal | None:
    """The owner of an unrevoked key stored in the database (`switchboard keys create`)."""
    digest = hash_key(key)
    query = select(api_keys.c.id, api_keys.c.scopes, api_keys.c.name).where(
        api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return Principal(identity_of(digest, row.name), frozenset(row.scopes.split(",")), row.id)


def key_active(engine: Engine, key_id: int) -> bool:
    """Whether the stored key with this id still exists unrevoked (a review session's check)."""
    query = select(api_keys.c.id).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


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
    return authorise(required_key(connection), scope, connection.app.state)


def required_key(connection: ASGIConnection) -> str:
    """The bearer key; 401 when there is none."""
    key = presented_key(connection)
    if key is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", "Authorization")
    return key


def authorise(key: str, scope: str, state: State) -> Principal:
    return permitted(principal_of(key, state.env_keys, state.engine), scope)


def permitted(principal: Principal | None, scope: str) -> Principal:
    """The principal if it may act in `scope`; 401 for an unknown key, 403 without the scope."""
    if principal is None:
        raise Unauthorized("unknown API key", "Authorization")
    if not principal.may(scope):
        raise Forbidden(f"this key lacks the '{scope}' scope", "Authorization")
    return principal


def require(scope: str):
    """Guard: 401 without a valid key, 403 when the key lacks `scope`.

    Async, so that a key from `SWITCHBOARD_API_KEYS` is checked on the event loop: Litestar
    runs a sync guard on a worker thread, and that hop was ~5 % of a `/v1/score` request at
    concurrency 64 (py-spy under `bench.serving`'s load). A stored key still needs its row
    read (revocation holds from the next request), which happens on a worker thread."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        key = required_key(connection)
        state = connection.app.state
        principal = env_principal(key, state.env_keys)
        if principal is None:
            principal = await sync_to_thread(stored_principal, key, state.engine)
        permitted(principal, scope)

    return guard
