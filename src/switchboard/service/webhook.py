"""Crisis webhook: every newly scored tier-5 mention is POSTed, signed, to one URL.

A crisis should page someone even when nobody watches the SMMS queue. The request path only
appends the event to a bounded in-memory list (`CrisisWebhook.submit`: a lock and an append);
one background thread, started and stopped in the app's lifespan, first RECORDS each event in
`webhook_deliveries` and only then sends it, so a restart (or another replica) resends whatever
was pending. Delivery never blocks or fails scoring: a full list drops the event (logged,
counted), a receiver that is down costs retries, not requests.

Each attempt is a POST of the JSON event with
`X-Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's
scheme: the timestamp is signed with the body, so a captured request cannot be replayed later)
and `X-Switchboard-Delivery: <delivery id>`, the same id on every attempt, for the receiver to
deduplicate. A 2xx answer is delivered; anything else (redirects included) is retried with
exponential backoff until `crisis_webhook_attempts` attempts were made, then the row is failed
and listed by `GET /v1/webhooks/deliveries?status=failed`. Receivers check signatures with
`switchboard.client.verify_signature`.

The event carries the decision, not the mention's text: the receiver (a pager, a chat channel)
is another system with other retention and access rules, and the text is the customer's
personal data, often sensitive in a crisis (health, threats, legal). `mention_id` finds the
text in the SMMS, where access is already controlled.

Replicas share the table: a row is claimed by a conditional UPDATE of its attempt count, so
two replicas never send the same attempt, and `mention_id` is unique, so no mention is recorded
twice. What is lost: events still in memory when the process is killed (between scoring and
the worker's insert, normally milliseconds); a graceful stop records them first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import Connection, Engine, and_, delete, select, update

from switchboard import __version__
from switchboard.service.db import upsert_insert, webhook_deliveries
from switchboard.service.metrics import Metrics
from switchboard.service.schemas import DeliveryOut, ScoreOut
from switchboard.settings import Settings

log = logging.getLogger("switchboard.webhook")

EVENT = "crisis_escalation"
SIGNATURE_HEADER = "X-Switchboard-Signature"
DELIVERY_HEADER = "X-Switchboard-Delivery"
CRISIS_TIER = 5
MAX_BACKOFF_S = 3600.0  # the longest wait between two attempts
POLL_S = 30.0  # how often the worker looks for rows other replicas left pending
BATCH = 50  # due rows read per pass
_d = webhook_deliveries.c


class WebhookConfigError(ValueError):
    """The webhook settings cannot work; the service refuses to start."""


def check_config(settings: Settings) -> None:
    """Refuse settings that would silently send nothing or send unsigned events."""
    url = settings.crisis_webhook_url
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookConfigError(
            f"SWITCHBOARD_CRISIS_WEBHOOK_URL must be an http(s) URL, got {url!r}"
        )
    if not settings.crisis_webhook_secret:
        raise WebhookConfigError(
            "SWITCHBOARD_CRISIS_WEBHOOK_URL is set but SWITCHBOARD_CRISIS_WEBHOOK_SECRET is "
            "empty: crisis events are only sent signed. Set a secret shared with the receiver "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`) or unset the URL."
        )
    if settings.crisis_webhook_attempts < 1:
        raise WebhookConfigError("SWITCHBOARD_CRISIS_WEBHOOK_ATTEMPTS must be at least 1")
    if settings.crisis_webhook_backoff_s < 0 or settings.crisis_webhook_timeout_s <= 0:
        raise WebhookConfigError(
            "SWITCHBOARD_CRISIS_WEBHOOK_BACKOFF_S must be >= 0 and "
            "SWITCHBOARD_CRISIS_WEBHOOK_TIMEOUT_S > 0"
        )
    if settings.crisis_webhook_queue < 1:
        raise WebhookConfigError("SWITCHBOARD_CRISIS_WEBHOOK_QUEUE must be at least 1")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value: `t=<timestamp>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def crisis_event(result: ScoreOut, scored_at: datetime) -> dict[str, Any]:
    """The event of one tier-5 result, with a fresh delivery id; no text, no keys (see above)."""
    return {
        "event": EVENT,
        "id": str(uuid.uuid4()),
        "mention_id": result.id,
        "tier": result.tier.level,
        "reply": result.reply.action,
        "intent": result.intent.label if result.intent else None,
        "priority": result.priority,
        "sla_seconds": result.sla_seconds,
        "reasons": list(result.reply.reasons),
        "model_version": result.model_version,
        "policy_version": result.policy_version,
        "scored_at": scored_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to fix, not to follow: urllib would re-send a POST as a GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class CrisisWebhook:
    """The bounded list of new events and the one thread that records and sends them."""

    def __init__(self, engine: Engine, settings: Settings, metrics: Metrics | None = None) -> None:
        check_config(settings)
        self.engine = engine
        self.metrics = metrics
        self.url = settings.crisis_webhook_url
        self._secret = settings.crisis_webhook_secret
        self.max_attempts = settings.crisis_webhook_attempts
        self.backoff_s = settings.crisis_webhook_backoff_s
        self.timeout_s = settings.crisis_webhook_timeout_s
        self.max_queued = settings.crisis_webhook_queue
        self.dropped = 0  # events refused because the list was full (or the worker stopped)
        self._events: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._thread = threading.Thread(
            target=self._run, name="switchboard-crisis-webhook", daemon=True
        )
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, results: Sequence[ScoreOut], scored_at: datetime) -> int:
        """Queue an event per tier-5 result (fresh ones only: the caller never passes replays);
        never blocks on the database or the network. Returns how many were queued."""
        events = [crisis_event(r, scored_at) for r in results if r.tier.level == CRISIS_TIER]
        if not events:
            return 0
        with self._lock:
            room = 0 if self._stop.is_set() else self.max_queued - len(self._events)
            kept, lost = events[: max(room, 0)], events[max(room, 0) :]
            self._events.extend(kept)
            self.dropped += len(lost)
        if lost:
            self._count("dropped", len(lost))
        for event in lost:
            log.error(
                "crisis webhook queue full: event for mention %s dropped", event["mention_id"]
            )
        self._wake.set()
        return len(kept)

    def _count(self, outcome: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.webhook.labels(outcome).inc(n)

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread after the attempt in hand; queued events are recorded first, so
        the next start sends them."""
        self._stop.set()
        self._wake.set()
        self._thread.join(self.timeout_s + 10 if timeout is None else timeout)
        if self._thread.is_alive():
            log.warning("crisis webhook thread did not stop within the timeout")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a submit from here on wakes the wait below
            wait = POLL_S
            try:
                self._record()
                wait = self._deliver_due()
            except Exception:  # the database away costs a pass, never the thread
                log.exception("crisis webhook pass failed; retrying in %.0f s", POLL_S)
            self._wake.wait(wait)
        try:
            self._record()
        except Exception:
            log.exception("crisis webhook events not recorded at shutdown: they are lost")

    def _record(self) -> None:
        """Insert the queued events as pending rows; they leave memory only once stored."""
        with self._lock:
            events = list(self._events)
        if not events:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "id": e["id"],
                "mention_id": e["mention_id"],
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
                "payload": e,
            }
            for e in events
        ]
        insert = upsert_insert(self.engine.dialect.name, webhook_deliveries)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_nothing(index_elements=["mention_id"]), rows)
        with self._lock:
            for _ in events:
                self._events.popleft()

    def _deliver_due(self) -> float:
        """Attempt every due row; return the seconds until the next one is due."""
        while not self._stop.is_set():
            now = datetime.now(UTC)
            with self.engine.connect() as conn:
                due = conn.execute(
                    select(_d.id, _d.attempts, _d.payload)
                    .where(_d.delivered_at.is_(None), _d.next_attempt_at <= now)
                    .order_by(_d.next_attempt_at)
                    .limit(BATCH)
                ).all()
            if not due:
                break
            for row in due:
                if self._stop.is_set() or (self._wake.is_set() and self._events):
                    break  # stopping, or new crises to record before older retries
                self._attempt(row.id, row.attempts, row.payload)
            if self._wake.is_set() and self._events:
                return 0.0
        with self.engine.connect() as conn:
            soonest = conn.execute(
                select(_d.next_attempt_at)
                .where(_d.delivered_at.is_(None), _d.next_attempt_at.is_not(None))
                .order_by(_d.next_attempt_at)
                .limit(1)
            ).scalar()
        if soonest is None:
            return POLL_S
        left = (_utc(soonest) - datetime.now(UTC)).total_seconds()
        return min(max(left, 0.0), POLL_S)

    def _attempt(self, delivery_id: str, attempts: int, payload: dict[str, Any]) -> None:
        """Claim the attempt (so no other replica makes it), send, store how it went."""
        lease = datetime.now(UTC) + timedelta(seconds=self.timeout_s + 30)
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(webhook_deliveries)
                .where(
                    _d.id == delivery_id,
                    _d.attempts == attempts,
                    _d.delivered_at.is_(None),
                    _d.next_attempt_at.is_not(None),
                )
                .values(attempts=attempts + 1, next_attempt_at=lease)
            ).rowcount
        if not claimed:
            return
        status, error = self._post(delivery_id, payload)
        done = datetime.now(UTC)
        made = attempts + 1
        values: dict[str, Any] = {"last_status": status, "last_error": error}
        if status is not None and 200 <= status < 300:
            values |= {"delivered_at": done, "next_attempt_at": None, "last_error": None}
            self._count("delivered")
        elif made >= self.max_attempts:
            values["next_attempt_at"] = None
            self._count("failed")
            log.error(
                "crisis webhook for mention %s failed after %d attempts: %s",
                payload.get("mention_id"),
                made,
                error,
            )
        else:
            wait = min(self.backoff_s * 2 ** (made - 1), MAX_BACKOFF_S)
            values["next_attempt_at"] = done + timedelta(seconds=wait)
            self._count("retried")
            log.warning("crisis webhook attempt %d for %s: %s", made, delivery_id, error)
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries).where(_d.id == delivery_id).values(**values))

    def _post(self, delivery_id: str, payload: dict[str, Any]) -> tuple[int | None, str | None]:
        """One signed POST: (HTTP status or None, error or None); never raises."""
        body = msgspec.json.encode(payload)
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"switchboard/{__version__}",
                SIGNATURE_HEADER: sign(self._secret, body, int(time.time())),
                DELIVERY_HEADER: delivery_id,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                return response.status, None
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, f"HTTP {exc.code} {exc.reason}"[:500]
        except urllib.error.URLError as exc:
            return None, str(exc.reason)[:500]
        except (OSError, HTTPException, ValueError) as exc:  # timeouts, resets, bad answers
            return None, f"{type(exc).__name__}: {exc}"[:500]


def _utc(when: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the service stores is UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def status_of(delivered_at: datetime | None, next_attempt_at: datetime | None) -> str:
    if delivered_at is not None:
        return "delivered"
    return "pending" if next_attempt_at is not None else "failed"


_STATUS = {
    "delivered": _d.delivered_at.is_not(None),
    "pending": and_(_d.delivered_at.is_(None), _d.next_attempt_at.is_not(None)),
    "failed": and_(_d.delivered_at.is_(None), _d.next_attempt_at.is_(None)),
}


def deliveries(engine: Engine, status: str | None, limit: int) -> list[DeliveryOut]:
    """The newest deliveries, optionally only those in one status."""
    query = select(webhook_deliveries).order_by(_d.created_at.desc(), _d.id).limit(limit)
    if status is not None:
        query = query.where(_STATUS[status])
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        DeliveryOut(
            id=r.id,
            mention_id=r.mention_id,
            status=status_of(r.delivered_at, r.next_attempt_at),  # type: ignore[arg-type]
            tier=int(r.payload.get("tier", CRISIS_TIER)),
            created_at=_utc(r.created_at),
            attempts=r.attempts,
            last_status=r.last_status,
            last_error=r.last_error,
            delivered_at=_utc(r.delivered_at) if r.delivered_at else None,
            next_attempt_at=_utc(r.next_attempt_at) if r.next_attempt_at else None,
        )
        for r in rows
    ]


def purge(conn: Connection, retention_days: int, now: datetime) -> int:
    """Delete delivered and failed rows older than the prediction retention (0 keeps all);
    pending ones stay until they are sent or fail."""
    if retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=retention_days)
    result = conn.execute(
        delete(webhook_deliveries).where(_d.created_at < cutoff, _d.next_attempt_at.is_(None))
    )
    return int(result.rowcount or 0)
