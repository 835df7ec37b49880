"""One error hierarchy, mapped to HTTP by one handler: `{"error", "detail", "field"}`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import OperationalError

from switchboard.service.schemas import ErrorOut

_PATH = re.compile(r"`(\$[^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


class SwitchboardError(Exception):
    """Base of every error the service reports to a client.

    Subclasses declare their HTTP status and machine-readable code in the class line:
    `class NotFound(ClientError, status=404, code="not_found")`.
    """

    status_code = 500
    code = "internal_error"

    def __init_subclass__(cls, status: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        cls.status_code = status or cls.status_code
        cls.code = code or cls.code

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ClientError(SwitchboardError, status=400, code="bad_request"):
    """The request is wrong; the body says which field and why."""


class InvalidInput(ClientError, code="invalid_input"):
    """A field's value cannot be used; `field` is its JSON path."""


class NotReady(SwitchboardError, status=503, code="no_model"):
    """No verified model is loaded (yet): nothing can be scored."""


class LogUnavailable(SwitchboardError, status=503, code="log_unavailable"):
    """The prediction log cannot take or hand back predictions right now (full disk, database
    away); nothing was scored, or the log is still catching up. Retrying later is safe."""


class DatabaseUnavailable(SwitchboardError, status=503, code="database_unavailable"):
    """The database did not answer; nothing was changed. Retrying later is safe."""


class Unauthorized(ClientError, status=401, code="unauthorized"):
    """No key, or a key the service does not know."""


class Forbidden(ClientError, status=403, code="forbidden"):
    """The key lacks the scope the endpoint needs."""


class NotFound(ClientError, status=404, code="not_found"):
    """The responder, prediction or mention does not exist."""


class NoChallenger(NotFound, code="no_challenger"):
    """Shadow mode was asked about, but the registry has no `challenger` alias."""


class UnsupportedMediaType(ClientError, status=415, code="unsupported_media_type"):
    """A JSON endpoint was sent a body that is not `application/json` (service/json_only.py)."""


class Conflict(ClientError, status=409):
    """The request clashes with the current state (already claimed, responder full...); the
    code says which clash."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field)
        self.code = code


def _error(
    status: int, code: str, detail: str, field: str | None, headers: dict[str, str] | None = None
) -> Response[ErrorOut]:
    body = ErrorOut(error=code, detail=detail, field=field)
    return Response(body, status_code=status, headers=headers)


def handle_switchboard_error(_: Request, exc: SwitchboardError) -> Response[ErrorOut]:
    return _error(exc.status_code, exc.code, exc.detail, exc.field)


def _field(error: dict[str, Any]) -> str | None:
    """The JSON path of the offending body field, from msgspec's key or message; a query, path,
    header or cookie parameter is named as it is spelt in the request (`offset`)."""
    if error.get("source", "body") != "body" and error.get("key"):
        return str(error["key"])
    message = str(error.get("message", ""))
    for pattern in (_PATH, _MISSING, _UNKNOWN):
        if m := pattern.search(message):
            name = m.group(1)
            return name if name.startswith("$") else f"$.{name}"
    key = error.get("key")
    return f"$.{key}" if key and key != "data" else None


def handle_validation(_: Request, exc: ValidationException) -> Response[ErrorOut]:
    """Wrong types, missing or unknown fields: 400 naming the field."""
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)]
    detail = "; ".join(str(e.get("message", "")) for e in errors) or str(exc.detail)
    field = next((f for f in map(_field, errors) if f), None)
    return _error(400, "invalid_input", detail, field)


def handle_unexpected(request: Request, exc: Exception) -> Response[ErrorOut]:
    """Bugs still answer in the documented shape; the traceback goes to the log."""
    request.logger.exception("unhandled error on %s", request.url.path)
    return _error(500, "internal_error", "internal error; see the service log", None)


def handle_http(_: Request, exc: HTTPException) -> Response[ErrorOut]:
    # Litestar raises a plain 400 for bodies that are not valid JSON at all.
    codes = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    code = codes.get(exc.status_code, "http_error")
    # Keep Litestar's headers: a 405 must say which methods are Allowed.
    return _error(exc.status_code, code, str(exc.detail), None, exc.headers)


def handle_database_down(request: Request, exc: OperationalError) -> Response[ErrorOut]:
    """A database that is down, locked or out of space is a 503 to retry, not a bug."""
    request.logger.error("database unavailable on %s: %s", request.url.path, exc.orig)
    down = DatabaseUnavailable(f"the database is unavailable: {exc.orig}")
    return _error(down.status_code, down.code, down.detail, None)


EXCEPTION_HANDLERS = {
    SwitchboardError: handle_switchboard_error,
    OperationalError: handle_database_down,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
