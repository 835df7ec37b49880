"""JSON endpoints take `application/json` bodies only; anything else is a 415.

Why: Litestar parses a JSON body whatever the request says it is, and a browser sends
`text/plain`, form and multipart bodies to any origin without asking (no CORS preflight), so
a page elsewhere could post to the API. `application/json` always needs a preflight, which
this service never grants. Checked once here, for every method that carries a body on the JSON
paths, not in each handler.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from switchboard.service.errors import UnsupportedMediaType

JSON = "application/json"
JSON_PATHS = ("/v1/", "/review/api/")  # the API, and the review page's own JSON door
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def media_type(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, bool]:
    """The request's media type (lower case, without parameters) and whether it has a body."""
    kind, body = None, False
    for name, value in headers:
        if name == b"content-type":
            kind = value.decode("latin-1").partition(";")[0].strip().lower()
        elif name == b"content-length":
            body = body or value.strip() not in (b"", b"0")
        elif name == b"transfer-encoding":
            body = True
    return kind, body or kind is not None


def _not_json_path(scope: Scope) -> bool:
    return scope.get("method") not in BODY_METHODS or not scope["path"].startswith(JSON_PATHS)


class JsonBodiesOnly(ASGIMiddleware):
    """415 with the service's error body when a JSON path gets a body of another type; a
    request without a body (e.g. `POST .../claim`) passes."""

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(_not_json_path)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        kind, has_body = media_type(scope["headers"])
        if has_body and kind != JSON:
            raise UnsupportedMediaType(
                f"send the body as {JSON}, not {kind or 'a body without a content-type'}"
            )
        await next_app(scope, receive, send)
