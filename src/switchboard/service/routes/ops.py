"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from switchboard.service.openapi import errors


@get(
    "/health",
    operation_id="health",
    summary="Liveness",
    tags=["ops"],
    sync_to_thread=False,
    responses=errors(),
)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    tags=["ops"],
    responses=errors(),
    sync_to_thread=False,
    media_type="text/plain; version=0.0.4",
)
def metrics(state: State) -> bytes:
    """Prometheus text format."""
    if state.log is not None:
        state.metrics.prediction_log(state.log.status())
    return state.metrics.render()


@get(
    "/ready",
    operation_id="ready",
    summary="Readiness",
    tags=["ops"],
    sync_to_thread=False,
    responses={
        **errors(),
        503: ResponseSpec(
            data_container=dict[str, str],
            description='Not ready: `{"status": "not_ready", "reason": ...}`',
            generate_examples=False,
        ),
    },
)
def ready(state: State) -> Response[dict[str, Any]]:
    """Readiness: 200 only with a verified model loaded and a writable prediction journal.

    A database that is away does not make the service unready (scoring goes on into the
    journal, and every replica shares the database), but `prediction_log` says so.
    """
    log = state.log.status() if state.log is not None else None
    # A challenger that failed verification is reported here but never makes the service unready.
    shadow = state.shadow.status() if state.shadow is not None else None
    if state.router is None:
        reason = state.load_error
    elif log is not None and not log["journal_writable"]:
        reason = f"predictions cannot be recorded: {log['journal_error']}"
    else:
        body = {"status": "ready", "model_version": state.router.bundle.version}
        return Response(body | {"prediction_log": log, "shadow": shadow})
    body = {"status": "not_ready", "reason": reason, "prediction_log": log, "shadow": shadow}
    return Response(body, status_code=503)
