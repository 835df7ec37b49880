"""`/v1/score`: one mention or a batch, with author history and brand volume, logged."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Body
from msgspec.structs import replace

from switchboard.routing.router import Router
from switchboard.routing.types import AuthorHistory, Context
from switchboard.service import activity, store
from switchboard.service.auth import require
from switchboard.service.errors import Conflict, InvalidInput
from switchboard.service.openapi import BATCH_EXAMPLES, BEARER, MENTION_EXAMPLES, errors
from switchboard.service.schemas import BatchIn, BatchOut, MentionIn, ScoreOut
from switchboard.service.scoring import (
    check_text,
    log_fields,
    prediction_row,
    to_mention,
    to_response,
)
from switchboard.settings import Settings

V = TypeVar("V")
log = logging.getLogger("switchboard.scoring")


def _log_scored(results: list[ScoreOut], seconds: float) -> None:
    """One line per mention, with its share of the call's wall time; never the text."""
    latency_ms = seconds * 1000 / len(results)
    for r in results:
        log.info("mention scored", extra=log_fields(r, latency_ms))


def _score_and_log(state: State, router: Router, mentions: list[MentionIn]) -> list[ScoreOut]:
    """Score the mentions not scored before, journal them, and answer every one in order.

    A mention id already in the prediction log, or met earlier in the same batch, gets the
    stored response back (`replayed: true`) if the text is the same, so an SMMS that retries
    after a timeout creates no second log row, review item or history entry. The same id with
    another text is a 409, since it would silently get the first text's answer.
    """
    known = _stored(state, mentions)
    firsts: dict[str, MentionIn] = {}
    for i, m in enumerate(mentions):  # every clash is refused before anything is scored
        first_text = known[m.id][0] if m.id in known else firsts.setdefault(m.id, m).text
        if first_text != m.text:
            raise Conflict(
                "mention_changed",
                f"mention {m.id!r} was scored before with another text; give a new id",
                "$.id" if len(mentions) == 1 else f"$.mentions[{i}].id",
            )
    fresh = list(firsts.values())
    if fresh:
        for m, r in zip(fresh, _score_fresh(state, router, fresh), strict=True):
            known[m.id] = (m.text, r)
    return [
        known[m.id][1] if firsts.get(m.id) is m else replace(known[m.id][1], replayed=True)
        for m in mentions
    ]


def score_each(
    state: State, router: Router, mentions: list[MentionIn]
) -> list[ScoreOut | Exception]:
    """Independent requests' mentions, each answered as if scored alone, in this order.

    What `_score_and_log` does for one batch request, but per request: a mention whose id was
    scored before (or earlier in this list) with the same text is a replay; with another text,
    that request alone gets the 409. The fresh mentions are scored in one batch; if that fails
    (a 503 from the journal), every request that waited on it gets the error.
    """
    known: dict[str, tuple[str, ScoreOut]] = _stored(state, mentions)
    fresh: dict[str, MentionIn] = {}
    clashes: dict[int, Exception] = {}
    for i, m in enumerate(mentions):
        first = known[m.id][0] if m.id in known else fresh.setdefault(m.id, m).text
        if first != m.text:
            clashes[i] = Conflict(
                "mention_changed",
                f"mention {m.id!r} was scored before with another text; give a new id",
                "$.id",
            )
    failed: Exception | None = None
    if fresh:
        try:
            scored = _score_fresh(state, router, list(fresh.values()))
        except Exception as exc:  # handed to each request that waits on it
            failed = exc
        else:
            for m, r in zip(fresh.values(), scored, strict=True):
                known[m.id] = (m.text, r)
    out: list[ScoreOut | Exception] = []
    for i, m in enumerate(mentions):
        if i in clashes:
            out.append(clashes[i])
        elif fresh.get(m.id) is m:
            out.append(known[m.id][1] if failed is None else failed)
        elif m.id in known:
            out.append(replace(known[m.id][1], replayed=True))
        else:  # a repeat of a fresh mention whose scoring failed
            out.append(failed or RuntimeError(f"mention {m.id!r} was not scored"))
    return out


def _stored(state: State, mentions: list[MentionIn]) -> dict[str, tuple[str, ScoreOut]]:
    """Text and response of the ids the prediction log already holds."""
    found = state.log.lookup(list(dict.fromkeys(m.id for m in mentions)))
    return {
        mention_id: (text, out if isinstance(out, ScoreOut) else msgspec.convert(out, ScoreOut))
        for mention_id, (text, out) in found.items()
    }


def _score_fresh(state: State, router: Router, mentions: list[MentionIn]) -> list[ScoreOut]:
    """Score with author history and brand volume, then journal every prediction.

    History, volume and roster come through the caches of service/caches.py, loaded from the
    counters of service/activity.py; `state.log.append` returns once the rows are journalled
    (service/prediction_log.py), and raises a 503 if they cannot be. Shadow mode then gets the
    mentions, the champion's recommendations and these very contexts (service/shadow.py).
    """
    started = time.perf_counter()
    now = datetime.now(UTC)
    engine = state.engine
    authors = [m.author.id if m.author else None for m in mentions]
    history = state.author_history_cache.get_many(
        {a for a in authors if a},
        lambda ids: _with_default(activity.author_history(engine, ids, now), ids, AuthorHistory()),
    )
    volume = state.brand_volume_cache.get_many(
        {m.brand for m in mentions if m.brand},
        lambda brands: _with_default(activity.volume_ratio(engine, brands, now), brands, 1.0),
    )
    contexts = [
        Context(
            now=now,
            author=history.get(a, AuthorHistory()) if a else AuthorHistory(),
            volume_ratio=volume.get(m.brand, 1.0) if m.brand else 1.0,
        )
        for m, a in zip(mentions, authors, strict=True)
    ]
    roster = state.roster_cache.get("roster", lambda: store.list_responders(engine))
    recs = router.recommend([to_mention(m) for m in mentions], contexts, roster, now)
    results = [to_response(r, router) for r in recs]
    latency_ms = (time.perf_counter() - started) * 1000 / len(mentions)
    rows = [
        prediction_row(m, r, now, latency_ms, state.settings)
        for m, r in zip(mentions, results, strict=True)
    ]
    state.log.append(rows)
    if state.shadow is not None:  # a queue append; the challenger scores on its own thread
        state.shadow.submit(
            router.bundle.version, [r.mention for r in recs], recs, contexts, roster, now
        )
    if state.webhook is not None:  # a list append; tier-5 results go out on its own thread
        state.webhook.submit(results, now)
    for row in rows:
        if row["author_id"]:
            state.author_history_cache.update(
                row["author_id"], lambda h, row=row: activity.history_after(h, row)
            )
    state.metrics.observe(results)
    return results


def _with_default(found: dict[str, V], keys: list[str], default: V) -> dict[str, V]:
    return {k: found.get(k, default) for k in keys}


class ScoreController(Controller):
    path = "/v1/score"
    tags = ("scoring",)
    guards = [require("score")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    # Concurrent single-mention requests are scored together, in one batch on the event loop
    # (service/score_queue.py); a lone one at once. Batch requests are batches already; they
    # can take long, so they go to the thread pool and never stall the loop.
    @post(
        "/",
        operation_id="score",
        summary="Score one mention",
        status_code=200,
        responses=errors(400, 401, 403, 409, 413, 415, 503),
    )
    async def score(
        self,
        data: Annotated[MentionIn, Body(examples=MENTION_EXAMPLES)],
        state: State,
        router: NamedDependency[Router],
        settings: NamedDependency[Settings],
    ) -> ScoreOut:
        """Recommend reply, tier, priority, SLA and responders for one mention."""
        check_text(data, "$.text", settings.max_text_chars)
        started = time.perf_counter()
        result = await state.score_queue.score(router, data)
        seconds = time.perf_counter() - started
        state.metrics.single(seconds)
        _log_scored([result], seconds)
        return result

    @post(
        "/batch",
        operation_id="score_batch",
        summary="Score a batch of mentions",
        sync_to_thread=True,
        status_code=200,
        responses=errors(400, 401, 403, 409, 413, 415, 503),
    )
    def batch(
        self,
        data: Annotated[BatchIn, Body(examples=BATCH_EXAMPLES)],
        state: State,
        router: NamedDependency[Router],
        settings: NamedDependency[Settings],
    ) -> BatchOut:
        """Score up to `max_batch` mentions; results come back in request order."""
        if not data.mentions:
            raise InvalidInput("mentions is empty", "$.mentions")
        if len(data.mentions) > settings.max_batch:
            raise InvalidInput(
                f"{len(data.mentions):,} mentions; the limit is {settings.max_batch:,}",
                "$.mentions",
            )
        for i, m in enumerate(data.mentions):
            check_text(m, f"$.mentions[{i}].text", settings.max_text_chars)
        started = time.perf_counter()
        results = _score_and_log(state, router, data.mentions)
        seconds = time.perf_counter() - started
        state.metrics.batch(seconds, len(results))
        _log_scored(results, seconds)
        return BatchOut(results=results)
