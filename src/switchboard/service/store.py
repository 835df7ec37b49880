"""Database work of the service: roster, presence, claims, outcomes, the prediction log.

Plain functions over an Engine, so the controllers stay thin and each rule (e.g. claim
atomicity) is tested on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from switchboard.routing.types import Responder
from switchboard.service import activity, sampling
from switchboard.service.db import claims, outcomes, predictions, responders, upsert_insert
from switchboard.service.errors import Conflict, InvalidInput, NotFound
from switchboard.service.roster import TUPLE_FIELDS

_p = predictions.c


def _responder(row: Any) -> Responder:
    fields = dict(row._mapping)
    return Responder(**{k: tuple(v) if k in TUPLE_FIELDS else v for k, v in fields.items()})


def list_responders(engine: Engine) -> list[Responder]:
    with engine.connect() as conn:
        return [_responder(r) for r in conn.execute(select(responders).order_by(responders.c.id))]


def get_responder(engine: Engine, rid: str) -> Responder:
    with engine.connect() as conn:
        row = conn.execute(select(responders).where(responders.c.id == rid)).first()
    if row is None:
        raise NotFound(f"no responder {rid!r}", "id")
    return _responder(row)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown IANA time zone {name!r}", "$.timezone") from exc


def put_responder(engine: Engine, rid: str, fields: dict[str, Any]) -> Responder:
    """Create or replace a responder's profile; presence and load are kept."""
    check_timezone(fields["timezone"])
    with engine.begin() as conn:
        exists = conn.execute(select(responders.c.id).where(responders.c.id == rid)).first()
        if exists:
            conn.execute(update(responders).where(responders.c.id == rid).values(**fields))
        else:
            conn.execute(insert(responders).values(id=rid, open_cases=0, online=False, **fields))
    return get_responder(engine, rid)


def delete_responder(engine: Engine, rid: str) -> None:
    with engine.begin() as conn:
        if conn.execute(delete(responders).where(responders.c.id == rid)).rowcount == 0:
            raise NotFound(f"no responder {rid!r}", "id")


def set_presence(engine: Engine, rid: str, online: bool, open_cases: int | None) -> Responder:
    values: dict[str, Any] = {"online": online}
    if open_cases is not None:
        values["open_cases"] = open_cases
    with engine.begin() as conn:
        if (
            conn.execute(update(responders).where(responders.c.id == rid).values(**values)).rowcount
            == 0
        ):
            raise NotFound(f"no responder {rid!r}", "id")
    return get_responder(engine, rid)


def seed_roster(engine: Engine, roster: Sequence[Responder]) -> int:
    """Insert the roster only into an empty table; returns how many were added."""
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(responders)).scalar_one():
            return 0
        conn.execute(
            insert(responders),
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "skills": list(r.skills),
                    "languages": list(r.languages),
                    "tiers": list(r.tiers),
                    "capacity": r.capacity,
                    "open_cases": r.open_cases,
                    "online": r.online,
                    "shift_start_hour": r.shift_start_hour,
                    "shift_end_hour": r.shift_end_hour,
                    "timezone": r.timezone,
                    "median_response_s": r.median_response_s,
                }
                for r in roster
            ],
        )
    return len(roster)


def claim(engine: Engine, mention_id: str, rid: str, now: datetime) -> datetime:
    """Assign a mention to one responder, atomically, within their capacity.

    One transaction: take a unit of capacity only if one is free (a conditional UPDATE, so two
    concurrent claims cannot both see room), then insert the claim, whose primary key is the
    mention; a second claim violates it and the whole transaction, load included, rolls back.
    """
    try:
        with engine.begin() as conn:
            took = conn.execute(
                update(responders)
                .where(
                    and_(responders.c.id == rid, responders.c.open_cases < responders.c.capacity)
                )
                .values(open_cases=responders.c.open_cases + 1)
            ).rowcount
            if took == 0:
                exists = conn.execute(select(responders.c.id).where(responders.c.id == rid)).first()
                if exists is None:
                    raise NotFound(f"no responder {rid!r}", "$.responder_id")
                raise Conflict("responder_full", f"{rid} is at capacity", "$.responder_id")
            conn.execute(
                insert(claims).values(
                    mention_id=mention_id, responder_id=rid, claimed_at=now, released=False
                )
            )
    except IntegrityError as exc:
        with engine.connect() as conn:
            holder = conn.execute(
                select(claims.c.responder_id).where(claims.c.mention_id == mention_id)
            ).scalar()
        raise Conflict(
            "already_claimed", f"mention {mention_id} is already claimed by {holder}", "id"
        ) from exc
    return now


def record_outcome(engine: Engine, mention_id: str, fields: dict[str, Any], now: datetime) -> bool:
    """Store the outcome; a resolved mention gives its claim's capacity back. Returns released."""
    with engine.begin() as conn:
        conn.execute(insert(outcomes).values(mention_id=mention_id, recorded_at=now, **fields))
        _flag_disagreement(conn, mention_id, fields)
        if not fields.get("resolved"):
            return False
        row = conn.execute(
            select(claims).where(
                and_(claims.c.mention_id == mention_id, claims.c.released.is_(False))
            )
        ).first()
        if row is None:
            return False
        conn.execute(update(claims).where(claims.c.mention_id == mention_id).values(released=True))
        conn.execute(
            update(responders)
            .where(and_(responders.c.id == row.responder_id, responders.c.open_cases > 0))
            .values(open_cases=responders.c.open_cases - 1)
        )
    return True


def _flag_disagreement(conn: Connection, mention_id: str, outcome: dict[str, Any]) -> None:
    """An outcome that contradicts the latest prediction puts it in the review queue."""
    row = conn.execute(
        select(_p.id, _p.reply_action, _p.output, _p.review_reasons)
        .where(_p.mention_id == mention_id)
        .order_by(_p.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return
    found = sampling.reasons_from_outcome(row, outcome)
    if found:
        reasons = sampling.join(row.review_reasons, found)
        conn.execute(update(predictions).where(_p.id == row.id).values(review_reasons=reasons))


def log_predictions(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Insert a batch of predictions and add them to the activity counters; one transaction.

    A mention id already in the log is skipped (a retry that reached another replica, or a
    journal replayed after a crash), and only the rows inserted are counted. Returns how many
    were inserted.
    """
    if not rows:
        return 0
    # Rows whose authors the score request counted itself (shared author history): only
    # their brands are left to count here.
    # (The INSERT ignores the flag: executemany binds the table's columns only.)
    counted = {r["mention_id"] for r in rows if r.get("author_counted")}
    with engine.begin() as conn:
        new = set(conn.execute(_insert_new(conn.dialect.name), rows).scalars())
        inserted = [r for r in rows if r["mention_id"] in new]
        activity.add_authors(conn, [r for r in inserted if r["mention_id"] not in counted])
        activity.add_brands(conn, inserted)
    return len(new)


@functools.cache
def _insert_new(dialect_name: str) -> Any:
    """INSERT that skips mention ids already logged and returns those it inserted; built once."""
    stmt = upsert_insert(dialect_name, predictions)
    stmt = stmt.on_conflict_do_nothing(index_elements=["mention_id"])
    return stmt.returning(_p.mention_id)


# Built once (SQLAlchemy then reuses the compiled SQL): every score request runs it.
_STORED = select(_p.mention_id, _p.text, _p.output).where(
    _p.mention_id.in_(bindparam("ids", expanding=True))
)


def stored_predictions(engine: Engine, mention_ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
    """The logged text and response of each mention id already scored."""
    if not mention_ids:
        return {}
    with engine.connect() as conn:
        return {
            m: (text, out) for m, text, out in conn.execute(_STORED, {"ids": list(mention_ids)})
        }


def utcnow() -> datetime:
    return datetime.now(UTC)
