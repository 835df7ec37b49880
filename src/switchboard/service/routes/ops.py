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
    """Readiness: 200 only with a verified model loaded."""
    # A challenger that failed verification is reported here but never makes the service unready.
    shadow = state.shadow.status() if state.shadow is not None else None
    if state.router is None:
        body = {"status": "not_ready", "reason": state.load_error, "shadow": shadow}
        return Response(body, status_code=503)
    return Response(
        {"status": "ready", "model_version": state.router.bundle.version, "shadow": shadow}
    )
