"""Every HTTP request gets an id and is counted: the outermost layer of the app.

The id is the client's `X-Request-ID` when it is sane (printable ASCII, 1-128 characters),
otherwise a new uuid4 hex; it is echoed in the `X-Request-ID` header of every response and put
in `logs.REQUEST_ID` while the request is handled, so every log line carries it.

Why the app's outermost ASGI handler and not a Litestar middleware: Litestar runs middleware
per route, after routing, so a 404 for an unknown path or a 405 would get no id and no count.
`create_app` wraps `app.asgi_handler` (the router inside Litestar's exception handler) in this,
so 4xx/5xx answers, guard 401s and validation 400s included, pass through it.

Why not `litestar.plugins.prometheus`: its metrics live in prometheus_client's global default
registry (and a class-level cache), so two apps in one process (the tests) share counts, and
the per-app registry of service/metrics.py could not hold them. The route label is the route's
TEMPLATE (`/v1/responders/{responder_id:str}`), never the raw path, so ids do not make new
series; a request no route matched is labelled `<unmatched>`.
"""

from __future__ import annotations

import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.service.logs import REQUEST_ID
from switchboard.service.metrics import Metrics

HEADER = b"x-request-id"
MAX_ID = 128
UNMATCHED = "<unmatched>"


def sane_id(value: bytes | None) -> str | None:
    """The client's id if it is printable ASCII of 1-128 characters, else None."""
    if not value or len(value) > MAX_ID or not all(0x20 <= b <= 0x7E for b in value):
        return None
    text = value.decode("ascii").strip()
    return text or None


def request_id(scope: Scope) -> str:
    """The request's id: the client's first `X-Request-ID` when sane, else a new one."""
    sent = next((v for k, v in scope["headers"] if k.lower() == HEADER), None)
    return sane_id(sent) or uuid.uuid4().hex


class RequestContext:
    """Sets the request id, echoes it on the response, and records the request's metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = REQUEST_ID.set(rid)
        status = 500  # what the client gets if the app fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.http(
                scope["method"],
                scope.get("path_template") or UNMATCHED,
                status,
                time.perf_counter() - started,
            )
            REQUEST_ID.reset(token)
