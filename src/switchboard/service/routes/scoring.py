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
from sqlalchemy import Connection

from switchboard.routing.router import Router
from switchboard.routing.types import AuthorHistory, Context
from switchboard.service import activity, store
from switchboard.service.auth import require
from switchboard.service.errors import Conflict, InvalidInput, LogUnavailable
from switchboard.service.openapi import (
    BATCH_EXAMPLES,
    BEARER,
    EXPLAIN_QUERY,
    MENTION_EXAMPLES,
    errors,
)
from switchboard.service.schemas import BatchIn, BatchOut, MentionIn, ScoreOut
from switchboard.service.scoring import (
    check_text,
    explain_features,
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


def _score_and_log(
    state: State, router: Router, mentions: list[MentionIn], explain: bool = False
) -> list[ScoreOut]:
    """Score the mentions not scored before, journal them, and answer every one in order.

    A mention id already in the prediction log, or met earlier in the same batch, gets the
    stored response back (`replayed: true`) if the text is the same, so an SMMS that retries
    after a timeout creates no second log row, review item or history entry. The same id with
    another text is a 409, since it would silently get the first text's answer. A replay is
    the answer as first given: explained only if that request asked (`explain`).
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
        for m, r in zip(fresh, _score_fresh(state, router, fresh, explain), strict=True):
            known[m.id] = (m.text, r)
    return [
        known[m.id][1] if firsts.get(m.id) is m else replace(known[m.id][1], replayed=True)
        for m in mentions
    ]


def score_each(
    state: State, router: Router, mentions: list[MentionIn], explain: bool = False
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
            scored = _score_fresh(state, router, list(fresh.values()), explain)
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


def _score_fresh(
    state: State, router: Router, mentions: list[MentionIn], explain: bool = False
) -> list[ScoreOut]:
    """Score with author history and brand volume, then journal every prediction (with the
    explanation when `explain`: the log stores what was answered).

    Author history comes from the counters of service/activity.py: through a 1 s cache that
    this process updates with its own mentions, or, with `shared_author_history` (replicas),
    read from the database and added to before the answer, so that every process sees every
    mention answered before (see `_shared`).
    """
    now = datetime.now(UTC)
    authors = sorted({m.author.id for m in mentions if m.author and m.author.id})
    if state.settings.shared_author_history and authors:
        return _shared(state, router, mentions, authors, now, explain)
    history = state.author_history_cache.get_many(
        authors,
        lambda ids: _with_default(
            activity.author_history(state.engine, ids, now), ids, AuthorHistory()
        ),
    )
    results, rows = _score_and_journal(state, router, mentions, history, now, explain=explain)
    for row in rows:
        if row["author_id"]:
            state.author_history_cache.update(
                row["author_id"], lambda h, row=row: activity.history_after(h, row)
            )
    return results


def _shared(
    state: State,
    router: Router,
    mentions: list[MentionIn],
    authors: list[str],
    now: datetime,
    explain: bool = False,
) -> list[ScoreOut]:
    """Author history as every replica sees it: read the counters (no cache), score, add the
    new mentions to the counters (one UPSERT, committed), then journal and answer. A mention
    thus sees every mention of its author that any replica answered before it arrived; two of
    the same author arriving at once at two replicas do not see each other, as two in one
    batch do not. One connection for both, and the read's transaction ends before the write
    (SQLite cannot turn a read transaction into a write one while another process writes)."""
    with state.engine.connect() as conn:
        found = activity.author_history(conn, authors, now)
        conn.commit()
        history = _with_default(found, authors, AuthorHistory())
        return _score_and_journal(state, router, mentions, history, now, conn, explain)[0]


def _score_and_journal(
    state: State,
    router: Router,
    mentions: list[MentionIn],
    history: dict[str, AuthorHistory],
    now: datetime,
    count_on: Connection | None = None,
    explain: bool = False,
) -> tuple[list[ScoreOut], list[dict]]:
    """Score with these author histories and the cached brand volume and roster, then journal.

    `state.log.append` returns once the rows are journalled (service/prediction_log.py) and
    raises a 503 if they cannot be. With `count_on`, the authors' counters are added to on that
    connection first (and taken back if the journal refuses the rows). Shadow mode then gets
    the mentions, the champion's recommendations and these very contexts (service/shadow.py).
    """
    started = time.perf_counter()
    engine = state.engine
    volume = state.brand_volume_cache.get_many(
        {m.brand for m in mentions if m.brand},
        lambda brands: _with_default(activity.volume_ratio(engine, brands, now), brands, 1.0),
    )
    contexts = [
        Context(
            now=now,
            author=history.get(m.author.id, AuthorHistory()) if m.author else AuthorHistory(),
            volume_ratio=volume.get(m.brand, 1.0) if m.brand else 1.0,
        )
        for m in mentions
    ]
    roster = state.roster_cache.get("roster", lambda: store.list_responders(engine))
    recs = router.recommend(
        [to_mention(m) for m in mentions], contexts, roster, now, explain_features(explain)
    )
    results = [to_response(r, router) for r in recs]
    latency_ms = (time.perf_counter() - started) * 1000 / len(mentions)
    rows = [
        prediction_row(m, r, now, latency_ms, state.settings)
        for m, r in zip(mentions, results, strict=True)
    ]
    if count_on is not None:
        _count_authors(count_on, rows, 1)
    try:
        state.log.append(rows)
    except LogUnavailable:
        if count_on is not None:  # the client retries: it must not count twice
            _count_authors(count_on, rows, -1)
        raise
    if state.shadow is not None:  # a queue append; the challenger scores on its own thread
        state.shadow.submit(
            router.bundle.version, [r.mention for r in recs], recs, contexts, roster, now
        )
    if state.webhook is not None:  # a list append; tier-5 results go out on its own thread
        state.webhook.submit(results, now)
    state.metrics.observe(results)
    return results, rows


def _count_authors(conn: Connection, rows: list[dict], sign: int) -> None:
    """Add the rows to (or take them off) their authors' counters, committed; the journal
    line then says so, and the prediction log writer counts only their brands.

    On PostgreSQL the commit does not wait for its WAL flush (`synchronous_commit` off, for
    this transaction only): other replicas see the counts at once, and a crash of the database
    server itself (not of a replica) may forget the last fraction of a second of them, which
    costs the rule a mention or two of history instead of a disk flush on every request."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    activity.add_authors(conn, rows, sign)
    conn.commit()
    for row in rows:
        row["author_counted"] = sign > 0


def _with_default(found: dict[str, V], keys: list[str], default: V) -> dict[str, V]:
    return {k: found.get(k, default) for k in keys}


class ScoreController(Controller):
    path = "/v1/score"
    tags = ("scoring",)
    guards = [require("score")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    # Concurrent single-mention requests are scored together, in one batch on the event loop
    # (service/score_queue.py); a lone one at once. Batch requests are batches already; they
    # can take long, so they go to the thread pool and never stall the loop. `?explain=true`
    # adds evidence and features (openapi.py EXPLAIN_QUERY); off, they are not computed.
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
        explain: Annotated[bool, EXPLAIN_QUERY] = False,
    ) -> ScoreOut:
        """Recommend reply, tier, priority, SLA and responders for one mention."""
        check_text(data, "$.text", settings.max_text_chars)
        started = time.perf_counter()
        result = await state.score_queue.score(router, data, explain)
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
        explain: Annotated[bool, EXPLAIN_QUERY] = False,
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
        results = _score_and_log(state, router, data.mentions, explain)
        seconds = time.perf_counter() - started
        state.metrics.batch(seconds, len(results))
        _log_scored(results, seconds)
        return BatchOut(results=results)
