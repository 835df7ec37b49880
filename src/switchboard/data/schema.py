"""The labelled-case schema: one row is one public mention and what happened to it.

Everything that reads or writes cases (loaders, adapters, the synthetic generator, training,
feedback export) speaks this schema, so it is written down once here. `datasets/README.md`
is the human-readable data dictionary of the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from switchboard.vocabulary import (  # noqa: F401 - re-exported: the schema's closed sets
    CARE_INTENTS,
    CLASSIFIER_HEADS,
    REPLY_ACTIONS,
    SENTIMENTS,
    SPLITS,
    TIER_NAMES,
    TIERS,
)

ColumnKind = Literal["str", "int", "float", "bool", "datetime", "category"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the case schema; `values` closes the vocabulary of a categorical column."""

    name: str
    kind: ColumnKind
    description: str
    required: bool = False
    label: bool = False
    values: tuple[str, ...] | None = None


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "str", "Unique id of the mention; generated from the row number if absent."),
    Column("text", "str", "The mention as posted.", required=True),
    Column("created_at", "datetime", "When it was posted (ISO 8601; stored as UTC)."),
    Column("channel", "str", "Where it was posted: twitter, facebook, instagram, review..."),
    Column("brand", "str", "Brand or handle the mention is addressed to."),
    Column("author_id", "str", "Stable id of the author on the channel."),
    Column("author_followers", "int", "Follower count of the author (>= 0)."),
    Column("author_verified", "bool", "Whether the channel marks the author as verified."),
    Column("language", "str", "ISO 639-1 language code."),
    Column("split", "category", "Dataset-defined split; overrides the split rule.", values=SPLITS),
    Column("intent", "str", "What the author wants (open vocabulary).", label=True),
    Column("sentiment", "category", "Tone of the mention.", label=True, values=SENTIMENTS),
    Column("actionable", "bool", "Did the mention deserve a reply at all.", label=True),
    Column("reply_action", "category", "How it was answered.", label=True, values=REPLY_ACTIONS),
    Column("tier", "int", "Escalation tier 1-5 it was handled at.", label=True),
    Column("responder_id", "str", "Who answered.", label=True),
    Column("first_response_s", "float", "Seconds from post to first reply (>= 0).", label=True),
    Column("resolved", "bool", "Whether the issue was resolved.", label=True),
    Column("csat", "float", "Customer satisfaction 1-5 when surveyed.", label=True),
)

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
# Older names of schema columns, still accepted on load (files written before the rename).
RENAMED_COLUMNS: dict[str, str] = {"reply_mode": "reply_action"}
LABEL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.label)
# Not a schema column: the physical line a row starts on in its text file, added by the readers
# and turned by validation into the rejects file's `line` (so a person can jump to it).
SOURCE_LINE = "__source_line__"


# `switchboard export-feedback` writes cases plus `<file>.feedback.json` describing them; training
# recognises feedback files by that sidecar (and logs both to MLflow).
FEEDBACK_SIDECAR_SUFFIX = ".feedback.json"
