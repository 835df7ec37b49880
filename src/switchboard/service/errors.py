"""One error hierarchy, mapped to HTTP by one handler: `{"error", "detail", "field"}`."""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error the service reports to a client."""

    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ClientError(SwitchboardError):
    """The request is wrong; the body says which field and why."""

    status_code = 400
    code = "bad_request"


class InvalidInput(ClientError):
    status_code = 400
    code = "invalid_input"


class NotReady(SwitchboardError):
    """No verified model is loaded (yet): nothing can be scored."""

    status_code = 503
    code = "no_model"


class Unauthorized(ClientError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ClientError):
    status_code = 403
    code = "forbidden"


class NotFound(ClientError):
    status_code = 404
    code = "not_found"


class Conflict(ClientError):
    """The request clashes with the current state (already claimed, responder full...)."""

    status_code = 409

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field)
        self.code = code
