"""`/v1/webhooks/deliveries`: which crisis events reached the webhook, and which did not."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter

from switchboard.service import webhook
from switchboard.service.auth import require
from switchboard.service.openapi import BEARER, errors
from switchboard.service.schemas import DeliveryOut, DeliveryStatus


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ("webhooks",)
    guards = [require("admin")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    @get(
        "/deliveries",
        operation_id="list_webhook_deliveries",
        summary="Crisis webhook deliveries",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 503),
    )
    def deliveries(
        self,
        state: State,
        status: Annotated[
            DeliveryStatus | None,
            Parameter(description="Only deliveries in this status; `failed` is what to chase."),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500, description="At most this many.")] = 100,
    ) -> list[DeliveryOut]:
        """Newest first: each tier-5 event sent to `SWITCHBOARD_CRISIS_WEBHOOK_URL`, its
        attempts and the receiver's last answer. `?status=failed` lists the crises whose
        escalation never got through: handle those by hand (the mention ids are in the SMMS).
        Empty while the webhook is off."""
        return webhook.deliveries(state.engine, status, limit)
