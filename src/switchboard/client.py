"""A typed Python client for the Switchboard service, and webhook signature checks.

For an SMMS (or a script) written in Python: `pip install 'switchboard[client]'` (httpx) and

    with Client("http://127.0.0.1:8000", api_key) as sb:
        out = sb.score(MentionIn(id="tw-1", text="my bag never arrived"))
        out.tier.level, out.reply.action, [r.id for r in out.responders]

Answers are the service's own msgspec Structs (`switchboard.service.schemas`, which imports
nothing but msgspec), so importing this module loads neither Litestar, SQLAlchemy nor MLflow:
a client process stays small and starts fast. (Installing the `switchboard` distribution still
installs the service's dependencies; the extra only adds httpx.)

Retries. Connection errors, timeouts and the answers 429, 502, 503 and 504 are retried up to
`retries` times, waiting `backoff * 2**n` seconds with random jitter (half to all of it), or
what the service's `Retry-After` says. Every retried call is safe to repeat:
- `POST /v1/score` and `/v1/score/batch`: the mention `id` is an idempotency key. A mention
  the service scored before (say the answer was lost to a timeout) is not scored again: the
  stored answer comes back with `replayed: true`, and no second prediction, review item or
  crisis webhook is made. The same id with another text is a 409, never retried.
- the PUTs replace a resource with the body: repeating one leaves the same state.
- the GETs change nothing.
Other 4xx answers are the caller's to fix and raise `SwitchboardError` at once.

Only a blocking client is provided; an async twin (over `httpx.AsyncClient`) is not, since the
SMMS integrations we know of call from worker threads. It would be the same code with `await`.

`verify_signature` is for receivers of the crisis webhook (service/webhook.py).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from switchboard.service.schemas import (
    BatchOut,
    DeliveryOut,
    MentionIn,
    ModelOut,
    PresenceIn,
    ResponderIn,
    ResponderOut,
    ScoreOut,
)

__all__ = [
    "Client",
    "MentionIn",
    "Readiness",
    "ResponderIn",
    "SwitchboardError",
    "verify_signature",
]

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_WAIT_S = 60.0  # the longest single wait, whatever Retry-After says


class SwitchboardError(Exception):
    """An error answer of the service: its HTTP status and `{"error", "detail", "field"}`
    body (`field` names the offending input, e.g. `$.text` or `$.mentions[3].id`)."""

    def __init__(self, status: int, error: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}" + (f" ({field})" if field else ""))
        self.status, self.error, self.detail, self.field = status, error, detail, field

    @classmethod
    def from_response(cls, response: httpx.Response) -> SwitchboardError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, "http_error", response.text[:500] or "no body")
        return cls(
            response.status_code,
            str(body.get("error", "http_error")),
            str(body.get("detail", "")),
            body.get("field"),
        )


class Readiness(msgspec.Struct, kw_only=True):
    """`GET /ready`: ready, or not and why (`reason`). Extra fields the service may add are
    ignored, so an older client keeps working."""

    status: str  # "ready" | "not_ready"
    model_version: str | None = None
    reason: str | None = None
    prediction_log: dict[str, Any] | None = None
    shadow: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ready"


class Client:
    """Blocking client of one Switchboard service; a context manager.

    `retries` is the number of retries after the first try (so at most `retries + 1`
    requests); `http` lets a caller bring its own `httpx.Client` (proxies, TLS, a test
    transport): it is used as given and left open, while a client made here is closed on exit.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        http: httpx.Client | None = None,
    ) -> None:
        if retries < 0 or backoff < 0:
            raise ValueError("retries and backoff must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._sleep = time.sleep  # tests replace it to record the waits

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_http:
            self._http.close()

    # --- scoring ---------------------------------------------------------------------------

    def score(self, mention: MentionIn | Mapping[str, Any], *, explain: bool = False) -> ScoreOut:
        """`POST /v1/score`: one mention (a `MentionIn` or a dict of its fields); `explain`
        adds the evidence words and model features (`?explain=true`)."""
        params = {"explain": "true"} if explain else None
        return self._call("POST", "/v1/score", ScoreOut, _mention(mention), params)

    def score_batch(
        self, mentions: Iterable[MentionIn | Mapping[str, Any]], *, explain: bool = False
    ) -> list[ScoreOut]:
        """`POST /v1/score/batch`: results in request order (at most the service's max_batch);
        `explain` as for `score`."""
        body = {"mentions": [_mention(m) for m in mentions]}
        params = {"explain": "true"} if explain else None
        return self._call("POST", "/v1/score/batch", BatchOut, body, params).results

    # --- operations and model --------------------------------------------------------------

    def health(self) -> bool:
        """`GET /health`: True if the process answers (no retries: a probe reports now)."""
        try:
            return self._send("GET", "/health", None, retries=0).status_code == 200
        except (httpx.TransportError, SwitchboardError):
            return False

    def ready(self) -> Readiness:
        """`GET /ready`: a not-ready service (503) is an answer here, not an error."""
        response = self._send("GET", "/ready", None, retries=0, ok=(200, 503))
        return msgspec.json.decode(response.content, type=Readiness)

    def model(self) -> ModelOut:
        """`GET /v1/model`: the serving model and policy versions and training metrics."""
        return self._call("GET", "/v1/model", ModelOut)

    # --- roster ----------------------------------------------------------------------------

    def responders(self) -> list[ResponderOut]:
        """`GET /v1/responders`."""
        return self._call("GET", "/v1/responders", list[ResponderOut])

    def put_responder(self, responder_id: str, responder: ResponderIn) -> ResponderOut:
        """`PUT /v1/responders/{id}`: create or replace a profile."""
        path = f"/v1/responders/{_segment(responder_id)}"
        return self._call("PUT", path, ResponderOut, responder)

    def set_presence(
        self, responder_id: str, online: bool, open_cases: int | None = None
    ) -> ResponderOut:
        """`PUT /v1/responders/{id}/presence`: online or not, and (optionally) open cases."""
        path = f"/v1/responders/{_segment(responder_id)}/presence"
        body = PresenceIn(online=online, open_cases=open_cases)
        return self._call("PUT", path, ResponderOut, body)

    def webhook_deliveries(self, status: str | None = None, limit: int = 100) -> list[DeliveryOut]:
        """`GET /v1/webhooks/deliveries` (admin key): crisis webhook deliveries, newest first;
        `status="failed"` lists the escalations that never got through."""
        params: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
        return self._call("GET", "/v1/webhooks/deliveries", list[DeliveryOut], params=params)

    # --- plumbing --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        kind: type[T] | Any,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> T:
        response = self._send(method, path, body, params=params)
        return msgspec.json.decode(response.content, type=kind)

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        params: dict[str, Any] | None = None,
        retries: int | None = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One request with retries; returns a 2xx (or `ok`) answer, raises the rest."""
        headers = dict(self._headers)
        content = None
        if body is not None:
            content = msgspec.json.encode(body)
            headers["Content-Type"] = "application/json"
        left = self.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    self.base_url + path,
                    content=content,
                    headers=headers,
                    params=params,
                    timeout=self._timeout,
                )
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError):
                if attempt >= left:
                    raise
                self._sleep(self._wait(attempt, None))
                attempt += 1
                continue
            if response.is_success or response.status_code in ok:
                return response
            if response.status_code in RETRY_STATUSES and attempt < left:
                self._sleep(self._wait(attempt, response.headers.get("Retry-After")))
                attempt += 1
                continue
            raise SwitchboardError.from_response(response)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        """`Retry-After` (seconds or an HTTP date) when given, else exponential with jitter."""
        told = _retry_after(retry_after)
        if told is not None:
            return min(told, MAX_WAIT_S)
        full = self.backoff * 2**attempt
        return min(full / 2 + random.uniform(0, full / 2), MAX_WAIT_S)


def _mention(m: MentionIn | Mapping[str, Any]) -> Any:
    return m if isinstance(m, MentionIn) else dict(m)


def _segment(value: str) -> str:
    """A path segment, percent-encoded (ids may contain `/` or spaces)."""
    return quote(value, safe="")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def verify_signature(
    secret: str | bytes,
    header: str | None,
    body: bytes | str,
    tolerance_s: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """Check a crisis webhook's `X-Switchboard-Signature` against the raw request body.

    The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several `v1=` may
    be given, e.g. while a secret is rotated). True only if one `v1` matches (compared in
    constant time) and `t` is within `tolerance_s` of now, so an old captured request cannot be
    replayed. Verify the bytes as received, before parsing the JSON.
    """
    if not header:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    raw = body.encode() if isinstance(body, str) else body
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    expected = hmac.new(key, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)
