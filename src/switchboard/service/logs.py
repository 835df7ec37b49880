"""Structured logs: one JSON object per line on stderr, for every logger of the process.

The app's own loggers (`switchboard.*`), Litestar's, uvicorn's (error and access) and
Alembic's all propagate to the root logger, which has one handler: stderr, with the JSON (or,
for a human at a terminal, text) formatter of `SWITCHBOARD_LOG_FORMAT`. The same dictConfig
goes to Litestar's `LoggingConfig` (so `uvicorn --factory ...:create_app` logs JSON once the
app is built) and to uvicorn's `log_config` (so `switchboard serve` logs JSON from its first
line, the supervisor of several workers included).

Why the standard library and not structlog: Litestar configures stdlib logging natively, and
uvicorn and Alembic log through it; a formatter and a filter are all JSON lines need, so no
dependency is added. Why a plain `StreamHandler` and not Litestar's default queue handler: a
line is ~300 bytes written with one `write()`, far cheaper than the scoring it reports, and
lines stay in order with the process's other output.

The request id lives in `REQUEST_ID`, a ContextVar set by service/request_context.py for the
request being handled (it follows the request into `sync_to_thread` handlers); the handler's
filter copies it onto every record written meanwhile.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from litestar.logging.config import LoggingConfig

REQUEST_ID: ContextVar[str | None] = ContextVar("switchboard_request_id", default=None)
FORMATS = ("json", "text")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being handled (or None) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields: `extra=` values, and the parts of a uvicorn access line."""
    fields = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        fields.update(zip(_ACCESS_FIELDS, record.args, strict=True))
    return fields


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "pid", "request_id"?, ...extra, "exc"?}` on one line
    (json.dumps escapes newlines, so a traceback cannot split an entry)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        entry.update(extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """For a human at a terminal: time, level, logger, [request id], message, key=value extras."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        line = super().format(record)
        fields = {k: v for k, v in extras(record).items() if record.name != "uvicorn.access"}
        return " ".join([line, *(f"{k}={v}" for k, v in fields.items())])


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process; a bad format or level is an error."""
    if log_format not in FORMATS:
        raise ValueError(f"SWITCHBOARD_LOG_FORMAT must be one of {FORMATS}, got {log_format!r}")
    level = level.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"SWITCHBOARD_LOG_LEVEL must be a logging level, got {level!r}")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    through_root = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,  # module loggers made before this still log
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"switchboard": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "switchboard",
                "filters": ["request_id"],
            }
        },
        # uvicorn's own config gives its loggers handlers and propagate=False: undone here.
        "loggers": {
            **{
                name: dict(through_root)
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "alembic")
            },
            # Alembic announces each of its plugins at INFO on every start: noise.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
        "root": {"level": level, "handlers": ["console"]},
    }


def litestar_logging(log_format: str, level: str) -> LoggingConfig:
    """The same configuration in Litestar's form; Litestar applies it when the app is built."""
    config = log_config(log_format, level)
    return LoggingConfig(
        filters=config["filters"],
        formatters=config["formatters"],
        handlers=config["handlers"],
        loggers=config["loggers"],
        root=config["root"],
        disable_existing_loggers=False,
    )
