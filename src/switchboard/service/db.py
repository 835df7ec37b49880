"""The service database: tables (SQLAlchemy Core), engine creation and migrations.

SQLite by default (`Settings.db_url`), any SQLAlchemy URL by setting; the schema is created and
upgraded by Alembic (`service/migrations/`) at start-up, so every database, PostgreSQL included,
gets the same DDL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite

from switchboard.service import locks

metadata = MetaData()


def _when(name: str, nullable: bool, index: bool = False) -> Column:
    """A point in time, always stored with its time zone (UTC from the service)."""
    return Column(name, DateTime(timezone=True), nullable=nullable, index=index)


responders = Table(
    "responders",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("skills", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("tiers", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("open_cases", Integer, nullable=False, default=0),
    Column("online", Boolean, nullable=False, default=False),
    Column("shift_start_hour", Integer, nullable=False),
    Column("shift_end_hour", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("median_response_s", Float, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),  # SHA-256: keys are never kept
    _when("created_at", nullable=False),
    Column("scopes", String(200), nullable=False),
    # Whose key (migration 0005): the identity verdicts are recorded under; NULL = `key:<hash>`.
    Column("name", String(100), nullable=True),
    # When `switchboard keys revoke` withdrew the key (migration 0007); NULL = active. A revoked
    # row stays, so `keys list` and audits still show who had which key.
    _when("revoked_at", nullable=True),
)

# The review page's server-side sessions (migration 0005; service/sessions.py). The key is the
# SHA-256 of the session id, so a copy of the table cannot be replayed as cookies; `data` holds
# the signed-in identity, scopes and CSRF token, never an API key.
review_sessions = Table(
    "review_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    _when("expires_at", nullable=True, index=True),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Unique (migration 0004): a mention id is scored once; a retry gets the stored result and
    # a replayed journal cannot insert a row twice.
    Column("mention_id", String(200), nullable=False, index=True, unique=True),
    Column("author_id", String(200), nullable=True, index=True),
    Column("brand", String(200), nullable=True, index=True),
    _when("created_at", nullable=False, index=True),
    Column("model_version", String(50), nullable=False),
    Column("policy_version", String(50), nullable=False),
    Column("intent", String(100), nullable=True),
    Column("sentiment", String(20), nullable=True),
    Column("reply_action", String(10), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("abstain", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("output", JSON, nullable=False),
    Column("latency_ms", Float, nullable=False),
    # Migration 0003, for QA review and feedback export: the mention as received (channel,
    # author, language: what a labelled case needs), the lowest head confidence, and why the
    # review queue holds the row (comma-separated; NULL = not sampled for review).
    Column("mention", JSON, nullable=True),
    Column("confidence", Float, nullable=True),
    Column("review_reasons", String(200), nullable=True),
    # Author history and brand volume read recent rows of one author / brand (migration 0002).
    Index("ix_predictions_author_time", "author_id", "created_at"),
    Index("ix_predictions_brand_time", "brand", "created_at"),
)

# Incremental counters behind author history and brand volume (migration 0004): the request
# path reads a bounded number of buckets instead of scanning predictions. The prediction log
# writer adds to them in the transaction that inserts the predictions, so every replica and a
# replayed journal count each mention exactly once.
author_activity = Table(
    "author_activity",
    metadata,
    Column("author_id", String(200), primary_key=True),
    Column("day", Integer, primary_key=True),  # days since 1970-01-01, UTC
    Column("mentions", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("abusive", Integer, nullable=False),
    Column("replied", Integer, nullable=False),
)

brand_activity = Table(
    "brand_activity",
    metadata,
    Column("brand", String(200), primary_key=True),
    Column("minute", Integer, primary_key=True),  # minutes since 1970-01-01, UTC
    Column("mentions", Integer, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("mention_id", String(200), primary_key=True),
    Column("responder_id", String(100), nullable=False, index=True),
    _when("claimed_at", nullable=False),
    Column("released", Boolean, nullable=False, default=False),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", String(200), nullable=False, index=True),
    Column("responder_id", String(100), nullable=False),
    _when("replied_at", nullable=True),
    Column("reply_action", String(10), nullable=True),
    Column("resolved", Boolean, nullable=True),
    Column("csat", Float, nullable=True),
    Column("first_response_s", Float, nullable=True),
    _when("recorded_at", nullable=False),
)

# One row per verdict; a later verdict supersedes an earlier one but never overwrites it.
# Every label column holds the reviewed value (an accepted prediction copies the model's).
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "prediction_id",
        Integer,
        ForeignKey("predictions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("reviewer", String(100), nullable=False),
    _when("reviewed_at", nullable=False, index=True),
    Column("verdict", String(10), nullable=False),  # accepted | corrected
    Column("intent", String(100), nullable=True),
    Column("sentiment", String(20), nullable=True),
    Column("reply_action", String(10), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("responder_id", String(100), nullable=True),
    Column("note", Text, nullable=True),
)

# Shadow mode (migration 0006; service/shadow.py): one row per mention the challenger scored
# beside the champion, with both models' head labels and decisions; never served to anyone.
# `disagree` lists the heads whose labels differ, comma-wrapped (",intent,tier,"; "" when all
# agree), so agreement per head is a portable SQL sum.
shadow_predictions = Table(
    "shadow_predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", String(200), nullable=False),
    _when("created_at", nullable=False, index=True),
    Column("champion_version", String(50), nullable=False),
    Column("challenger_version", String(50), nullable=False),
    Column("champion_labels", JSON, nullable=False),  # head -> label
    Column("challenger_labels", JSON, nullable=False),
    Column("champion_reply", String(10), nullable=False),
    Column("challenger_reply", String(10), nullable=False),
    Column("champion_tier", Integer, nullable=False),
    Column("challenger_tier", Integer, nullable=False),
    Column("disagree", String(500), nullable=False),
    Index("ix_shadow_predictions_pair", "challenger_version", "champion_version", "id"),
)

# Crisis webhook deliveries (migration 0008; service/webhook.py): one row per tier-5 mention,
# written before the first attempt, so a restart resends what was pending. `id` is the delivery
# id the receiver sees (X-Switchboard-Delivery); `mention_id` is unique, so no replica sends a
# mention twice. Pending: `delivered_at` and `next_attempt_at` NULL / set; delivered:
# `delivered_at` set; failed (attempts used up): both NULL.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("mention_id", String(200), nullable=False, unique=True),
    _when("created_at", nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status", Integer, nullable=True),  # the receiver's HTTP status, if it answered
    Column("last_error", String(500), nullable=True),
    _when("delivered_at", nullable=True),
    _when("next_attempt_at", nullable=True, index=True),
    Column("payload", JSON, nullable=False),  # the event as sent, without the signature
)

# When each periodic job last ran, for every replica (migration 0009; service/maintenance.py):
# the retention purge runs once per period across replicas, not once per process.
maintenance_runs = Table(
    "maintenance_runs",
    metadata,
    Column("task", String(50), primary_key=True),
    _when("last_run_at", nullable=False),
)

MIGRATIONS = Path(__file__).with_name("migrations")


def json_text(value: object) -> str:
    """JSON columns are written with msgspec: response Structs go in as they are, ~5x faster
    than `json.dumps` of their dict form (the prediction log writes one per scored mention)."""
    return msgspec.json.encode(value).decode()


def make_engine(url: str) -> Engine:
    """An engine; for SQLite a file in WAL mode with a busy timeout, so writers queue politely."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            json_serializer=json_text,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # WAL + NORMAL: a commit survives a crash of the process, only a power cut may
            # lose the last commits; FULL would fsync every prediction log insert.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=json_text)


def upsert_insert(dialect_name: str, table: Table) -> Any:
    """`INSERT` with `ON CONFLICT` for the dialects the service supports (SQLite, PostgreSQL):
    the prediction log skips ids it holds, the activity counters add to existing rows."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect_name)
    if dialect is None:
        raise RuntimeError(f"the service database must be SQLite or PostgreSQL, not {dialect_name}")
    return dialect.insert(table)


def _alembic() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision, one process at a time: replicas that
    start together on an empty database wait for the first, then find nothing to do."""
    config = _alembic()
    with locks.exclusive(engine, locks.MIGRATION_KEY, "migrate"), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, None when it has none; the code's head revision)."""
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, str(head)


class SchemaBehind(RuntimeError):
    """The database is not at the code's revision and start-up may not migrate it."""


def check_schema(engine: Engine) -> None:
    """With `SWITCHBOARD_MIGRATE_ON_START=false`: refuse to serve a database whose schema is
    not the one this code reads, naming the command that fixes it."""
    current, head = schema_revisions(engine)
    if current != head:
        raise SchemaBehind(
            f"the database is at schema revision {current or 'none (empty)'}, this code needs "
            f"{head}: run `switchboard migrate` (SWITCHBOARD_MIGRATE_ON_START is false)"
        )


def prepare_schema(engine: Engine, migrate_on_start: bool) -> None:
    """What every start does to the database: migrate it (under the lock), or only check it
    when migrations are a deployment step of their own (`SWITCHBOARD_MIGRATE_ON_START`)."""
    if migrate_on_start:
        migrate(engine)
    else:
        check_schema(engine)
