"""Roster and mention resources: thin handlers over service/store.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.datastructures import State
from litestar.params import Body, FromPath

from switchboard.routing.types import Responder
from switchboard.service import store
from switchboard.service.auth import require
from switchboard.service.openapi import (
    BEARER,
    CLAIM_EXAMPLES,
    OUTCOME_EXAMPLES,
    PRESENCE_EXAMPLES,
    RESPONDER_EXAMPLES,
    errors,
)
from switchboard.service.schemas import (
    ClaimIn,
    ClaimOut,
    OutcomeIn,
    OutcomeOut,
    PresenceIn,
    ResponderIn,
    ResponderOut,
)


def _fields(data: msgspec.Struct) -> dict:
    """A Struct's fields with their Python values (datetimes stay datetimes)."""
    return {f: getattr(data, f) for f in data.__struct_fields__}


def _out(r: Responder) -> ResponderOut:
    return msgspec.convert(r, ResponderOut, from_attributes=True)


class ResponderController(Controller):
    path = "/v1/responders"
    tags = ("roster",)
    guards = [require("roster")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    @get(
        "/",
        operation_id="list_responders",
        summary="List the responders",
        sync_to_thread=True,
        responses=errors(401, 403, 503),
    )
    def list_all(self, state: State) -> list[ResponderOut]:
        return [_out(r) for r in store.list_responders(state.engine)]

    @get(
        "/{rid:str}",
        operation_id="get_responder",
        summary="Get one responder",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 404, 503),
    )
    def get_one(self, state: State, rid: FromPath[str]) -> ResponderOut:
        return _out(store.get_responder(state.engine, rid))

    @put(
        "/{rid:str}",
        operation_id="put_responder",
        summary="Create or replace a responder",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 413, 415, 503),
    )
    def put_one(
        self,
        state: State,
        rid: FromPath[str],
        data: Annotated[ResponderIn, Body(examples=RESPONDER_EXAMPLES)],
    ) -> ResponderOut:
        """Create or replace a profile: skills, languages, tiers, capacity, shift, time zone."""
        out = _out(store.put_responder(state.engine, rid, _fields(data)))
        state.roster_cache.clear()  # the next score request reads the change
        return out

    @delete(
        "/{rid:str}",
        operation_id="delete_responder",
        summary="Remove a responder",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 404, 503),
    )
    def remove(self, state: State, rid: FromPath[str]) -> None:
        store.delete_responder(state.engine, rid)
        state.roster_cache.clear()  # the next score request reads the change

    @put(
        "/{rid:str}/presence",
        operation_id="put_presence",
        summary="Set a responder's presence and open cases",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 404, 413, 415, 503),
    )
    def presence(
        self,
        state: State,
        rid: FromPath[str],
        data: Annotated[PresenceIn, Body(examples=PRESENCE_EXAMPLES)],
    ) -> ResponderOut:
        """For the SMMS: who is online now and how many open cases they hold."""
        out = _out(store.set_presence(state.engine, rid, data.online, data.open_cases))
        state.roster_cache.clear()  # the next score request reads the change
        return out


class MentionController(Controller):
    path = "/v1/mentions"
    tags = ("mentions",)
    guards = [require("roster")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    @post(
        "/{mention_id:str}/claim",
        operation_id="claim_mention",
        summary="Claim a mention for a responder",
        sync_to_thread=True,
        status_code=201,
        responses=errors(400, 401, 403, 404, 409, 413, 415, 503),
    )
    def claim(
        self,
        state: State,
        mention_id: FromPath[str],
        data: Annotated[ClaimIn, Body(examples=CLAIM_EXAMPLES)],
    ) -> ClaimOut:
        """Assign the mention to one responder; 409 if taken or the responder is full."""
        at = store.claim(state.engine, mention_id, data.responder_id, datetime.now(UTC))
        state.roster_cache.clear()  # the next score request reads the change
        return ClaimOut(mention_id=mention_id, responder_id=data.responder_id, claimed_at=at)

    @post(
        "/{mention_id:str}/outcome",
        operation_id="record_outcome",
        summary="Record how a mention was answered",
        sync_to_thread=True,
        status_code=201,
        responses=errors(400, 401, 403, 404, 409, 413, 415, 503),
    )
    def outcome(
        self,
        state: State,
        mention_id: FromPath[str],
        data: Annotated[OutcomeIn, Body(examples=OUTCOME_EXAMPLES)],
    ) -> OutcomeOut:
        """Who replied, when, resolved, csat: the history retraining learns from."""
        state.log.flush()  # the prediction this outcome may contradict is in the database
        released = store.record_outcome(state.engine, mention_id, _fields(data), datetime.now(UTC))
        state.roster_cache.clear()  # the next score request reads the change
        return OutcomeOut(mention_id=mention_id, recorded=True, released_claim=released)
