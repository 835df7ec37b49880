"""The review page's sign-in: server-side sessions in the service database, and CSRF tokens.

Why the database and not Litestar's FileStore or MemoryStore: the service may run as several
processes (or hosts) on one database, and a restart must not sign every reviewer out; the
database is the one thing they all share, so a small `Store` over the service's engine
(`review_sessions`, migration 0005) keeps sessions consistent at the cost of one indexed
statement per page view. Rows are keyed by the SHA-256 of the session id, so the table alone
cannot be replayed as cookies; they hold the identity, scopes and CSRF token, never a key.

Why a synchroniser token and not Litestar's `CSRFConfig`: that is a double-submit cookie, and a
page on another port of the same host can write cookies for this host (cookies ignore ports),
so it can plant a token it fetched itself. Here the token lives in the server-side session and
is only ever written into this service's own pages, which another origin cannot read.
`Sec-Fetch-Site: same-site | cross-site` (sent by current browsers) is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from switchboard.service.auth import Principal
from switchboard.service.db import review_sessions
from switchboard.service.errors import Forbidden
from switchboard.settings import Settings

STORE_NAME = "review_sessions"
COOKIE = "sb_session"
CSRF_FIELD = "_csrf"  # hidden field of every form
CSRF_HEADER = "x-csrf-token"  # header of the page's fetch() calls
NEW_SESSION = "_new"  # set by sign-in: the session gets a fresh id (no session fixation)
ANONYMOUS_TTL_S = 60 * 60  # a sign-in form's token (no identity yet) lives one hour at most
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _seconds(value: int | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _utc(when: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the service stores UTC."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


class SqlStore(Store):
    """Litestar's `Store` over the service's SQLAlchemy engine (sync calls run in a thread)."""

    __slots__ = ("engine",)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        await sync_to_thread(self._set, _hash(key), data, _seconds(expires_in))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await sync_to_thread(self._get, _hash(key), _seconds(renew_for))

    async def delete(self, key: str) -> None:
        await sync_to_thread(self._run, delete(review_sessions).where(_is(_hash(key))))

    async def delete_all(self) -> None:
        await sync_to_thread(self._run, delete(review_sessions))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await sync_to_thread(self._row, _hash(key))
        if row is None or row.expires_at is None:
            return None
        return int((_utc(row.expires_at) - datetime.now(UTC)).total_seconds())

    def _run(self, statement: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    def _row(self, id_hash: str) -> Any:
        """The live row, or None; an expired row is deleted on sight."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(select(review_sessions).where(_is(id_hash))).first()
            if row is not None and row.expires_at is not None and _utc(row.expires_at) <= now:
                conn.execute(delete(review_sessions).where(_is(id_hash)))
                return None
        return row

    def _get(self, id_hash: str, renew_for: float | None) -> bytes | None:
        row = self._row(id_hash)
        if row is None:
            return None
        if renew_for and row.expires_at is not None:
            when = datetime.now(UTC) + timedelta(seconds=renew_for)
            self._run(update(review_sessions).where(_is(id_hash)).values(expires_at=when))
        return bytes(row.data)

    def _set(self, id_hash: str, data: bytes, expires_in: float | None) -> None:
        """Upsert portably (update, else insert; a concurrent insert loses to the first), and
        sweep expired rows while at it, so abandoned sessions do not pile up."""
        now = datetime.now(UTC)
        when = now + timedelta(seconds=expires_in) if expires_in else None
        values = {"data": data, "expires_at": when}
        with self.engine.begin() as conn:
            conn.execute(delete(review_sessions).where(review_sessions.c.expires_at <= now))
            done = conn.execute(update(review_sessions).where(_is(id_hash)).values(**values))
            if done.rowcount:
                return
        try:
            self._run(insert(review_sessions).values(id_hash=id_hash, **values))
        except IntegrityError:
            self._run(update(review_sessions).where(_is(id_hash)).values(**values))


def _is(id_hash: str) -> Any:
    return review_sessions.c.id_hash == id_hash


class ReviewSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend with three changes: nothing is stored (and no cookie set)
    for a visitor without a session; sign-in gets a new session id, so an id planted before
    sign-in is worthless; a session without an identity lives at most an hour."""

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        old = connection.cookies.get(self.config.key)
        if scope_session is Empty or not scope_session:
            if old:  # signed out (or never really in): forget it on both sides
                await self.delete(old, store=store)
                headers.add("Set-Cookie", self._cookie("", max_age=0))
            return
        data = dict(scope_session)
        known = bool(old) and await store.exists(old)
        if "identity" in data and not known and not data.get(NEW_SESSION):
            # Signed out or expired while this request ran: do not bring the session back.
            headers.add("Set-Cookie", self._cookie("", max_age=0))
            return
        fresh = data.pop(NEW_SESSION, False) or not known
        session_id = self.generate_session_id() if fresh else old
        if fresh and old:
            await self.delete(old, store=store)
        ttl = self.config.max_age
        if "identity" not in data:
            ttl = min(ttl, ANONYMOUS_TTL_S)
        await store.set(session_id, self.serialize_data(data, connection.scope), expires_in=ttl)
        headers.add("Set-Cookie", self._cookie(session_id, max_age=ttl))

    def _cookie(self, value: str, max_age: int) -> str:
        c = self.config
        cookie = Cookie(
            key=c.key, value=value, max_age=max_age, path=c.path, domain=c.domain,
            secure=c.secure, httponly=True, samesite=c.samesite,
        )  # fmt: skip
        return cookie.to_header(header="")


class ReviewSessionConfig(ServerSideSessionConfig):
    _backend_class = ReviewSessionBackend


def session_config(settings: Settings) -> ReviewSessionConfig:
    """Cookie `sb_session` for `/review` only (the API never sees it), HttpOnly, SameSite=Strict,
    Secure when the service is served over HTTPS; idle expiry, renewed by every response
    (`store_in_message` stores the session again)."""
    return ReviewSessionConfig(
        key=COOKIE,
        path="/review",
        store=STORE_NAME,
        max_age=settings.review_session_idle_minutes * 60,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


# --- what a session holds ----------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(connection: ASGIConnection) -> str:
    """The session's CSRF token; a visitor without one (the sign-in form) gets one now."""
    session = connection.session
    if not session.get("csrf"):
        session["csrf"] = new_token()
    return session["csrf"]


def check_csrf(connection: ASGIConnection, presented: str | None) -> None:
    """403 unless an unsafe request comes from this origin's own page: the browser's
    `Sec-Fetch-Site` must not say another site or origin, and the token must be the session's."""
    if connection.scope["method"] in SAFE_METHODS:
        return
    if connection.headers.get("sec-fetch-site", "same-origin") in ("same-site", "cross-site"):
        raise Forbidden("requests from another origin are refused", "Sec-Fetch-Site")
    expected = connection.session.get("csrf") or ""
    if not (expected and presented and hmac.compare_digest(expected, presented)):
        raise Forbidden("missing or wrong CSRF token; reload the page", CSRF_FIELD)


def sign_in(connection: ASGIConnection, principal: Principal) -> None:
    """A new session (new id, new token) holding who signed in and their scopes: never the key,
    only a stored key's row id, so that `switchboard keys revoke` ends the session too."""
    connection.set_session(
        {
            "identity": principal.identity,
            "scopes": sorted(principal.scopes),
            "key_id": principal.key_id,
            "csrf": new_token(),
            "signed_in_at": datetime.now(UTC).isoformat(),
            NEW_SESSION: True,
        }
    )


def sign_out(connection: ASGIConnection) -> None:
    """The backend deletes the server-side session and expires the cookie."""
    connection.clear_session()


def signed_in(connection: ASGIConnection) -> Principal | None:
    """Who the session belongs to, or None (no session, expired, or signed out)."""
    session = connection.session
    if not session.get("identity"):
        return None
    scopes = frozenset(session.get("scopes", ()))
    return Principal(session["identity"], scopes, session.get("key_id"))
