"""Request and response bodies of the scoring API (msgspec Structs: Litestar's native path)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

NonEmpty = Annotated[str, Meta(min_length=1, max_length=200)]


class Author(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: NonEmpty | None = None
    followers: Annotated[int, Meta(ge=0)] | None = None
    verified: bool | None = None


class MentionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One mention as the SMMS sends it; only `id` and `text` are required."""

    id: NonEmpty
    text: Annotated[str, Meta(min_length=1, max_length=100_000)]
    channel: NonEmpty | None = None
    brand: NonEmpty | None = None
    created_at: datetime | None = None
    language: Annotated[str, Meta(min_length=2, max_length=8)] | None = None
    author: Author | None = None
    in_reply_to: NonEmpty | None = None


class BatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    mentions: list[MentionIn]


class Label(msgspec.Struct, kw_only=True):
    label: str
    confidence: float


class Reply(msgspec.Struct, kw_only=True):
    action: Literal["public", "private", "none"]
    reasons: list[str]


class Tier(msgspec.Struct, kw_only=True):
    level: int
    name: str


class ResponderOut(msgspec.Struct, kw_only=True):
    id: str
    score: float
    reasons: list[str]


class Rule(msgspec.Struct, kw_only=True):
    code: str
    detail: str


class Feature(msgspec.Struct, kw_only=True):
    feature: str
    weight: float


class Explanation(msgspec.Struct, kw_only=True):
    rules: list[Rule]
    features: dict[str, list[Feature]]


class ScoreOut(msgspec.Struct, kw_only=True):
    id: str
    model_version: str
    policy_version: str
    intent: Label | None
    sentiment: Label | None
    reply: Reply
    tier: Tier
    priority: int
    sla_seconds: int | None
    responders: list[ResponderOut]
    responders_reason: str | None
    abstain: bool
    explanation: Explanation


class BatchOut(msgspec.Struct, kw_only=True):
    results: list[ScoreOut]


class ModelOut(msgspec.Struct, kw_only=True):
    version: str
    trained_at: str | None
    data_fingerprint: str | None
    metrics: dict[str, dict[str, float]]
    policy_version: str


class ErrorOut(msgspec.Struct, kw_only=True):
    error: str
    detail: str
    field: str | None
