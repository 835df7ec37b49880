"""Request and response bodies of the scoring API (msgspec Structs: Litestar's native path)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from switchboard.vocabulary import ReplyAction, Sentiment

NonEmpty = Annotated[str, Meta(min_length=1, max_length=200)]

# The largest integer every supported database stores in an INTEGER column (PostgreSQL's is
# 32-bit; SQLite raises OverflowError past 64 bits). Every integer the API reads, in a body, a
# query or a path, is bounded by it, so a huge one is a 400 naming the field, never a 500.
INT_MAX = 2**31 - 1
Count = Annotated[int, Meta(ge=0, le=INT_MAX)]
# msgspec's JSON Schema leaves a datetime as a bare string; say which strings it parses.
Timestamp = Annotated[datetime, Meta(extra_json_schema={"format": "date-time"})]
# Posting times may also come as Unix seconds (what many social APIs hand out); the decoder
# accepts numbers for datetimes anyway, so the schema says so and MentionIn converts them.
UnixSeconds = Annotated[float, Meta(ge=0, le=253_402_300_799)]  # up to 9999-12-31


class Author(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: NonEmpty | None = None
    followers: Count | None = None
    verified: bool | None = None


class MentionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One mention as the SMMS sends it; only `id` and `text` are required."""

    id: NonEmpty
    # The length limit is `Settings.max_text_chars`, checked by scoring.check_text and written
    # into the OpenAPI document from the same setting (openapi.document_bodies).
    text: Annotated[str, Meta(min_length=1)]
    channel: NonEmpty | None = None
    brand: NonEmpty | None = None
    created_at: Timestamp | UnixSeconds | None = None
    language: Annotated[str, Meta(min_length=2, max_length=8)] | None = None
    author: Author | None = None
    in_reply_to: NonEmpty | None = None

    def __post_init__(self) -> None:
        if isinstance(self.created_at, int | float):  # Unix seconds: a UTC time from here on
            self.created_at = datetime.fromtimestamp(self.created_at, UTC)


class BatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # At most `Settings.max_batch`: checked by the batch route, documented by
    # openapi.document_bodies from the same setting.
    mentions: Annotated[list[MentionIn], Meta(min_length=1)]


Probability = Annotated[float, Meta(ge=0, le=1)]


class Label(msgspec.Struct, kw_only=True):
    """A head's answer and its calibrated confidence."""

    label: str
    confidence: Probability


class Reply(msgspec.Struct, kw_only=True):
    action: ReplyAction
    reasons: list[str]  # the policy's rule codes, e.g. "private_account_specific"


class Tier(msgspec.Struct, kw_only=True):
    level: Annotated[int, Meta(ge=1, le=5)]
    name: str  # monitor, automated, care_agent, specialist, crisis


class RankedOut(msgspec.Struct, kw_only=True):
    """A responder, best first, with why (online, skill match, spare capacity...)."""

    id: str
    score: Probability
    reasons: list[str]


class Rule(msgspec.Struct, kw_only=True):
    code: str
    detail: str


class Feature(msgspec.Struct, kw_only=True):
    feature: str
    weight: float  # how far this feature pushed the head towards its answer


class Evidence(msgspec.Struct, kw_only=True):
    """Words of the mention that moved a head: `text` is `mention.text[start:end]`."""

    text: str
    start: Annotated[int, Meta(ge=0)]
    end: Annotated[int, Meta(ge=0)]
    weight: Annotated[
        float,
        Meta(
            description="How far these words pushed the head towards its answer (> 0) or "
            "towards the runner-up (< 0)"
        ),
    ]


class Explanation(msgspec.Struct, kw_only=True):
    """Why: sentences for people, evidence words to highlight, codes and features for machines.

    `summary` and `evidence` default to empty so that answers stored before they existed
    still decode (the review page renders stored answers)."""

    rules: Annotated[
        list[Rule],
        Meta(description="The policy rules that fired, one per code, for machines and filters"),
    ]
    features: Annotated[
        dict[str, list[Feature]],
        Meta(
            description="Raw model features per head (`w:` word n-grams, `c:` character "
            "n-grams, `m:` meta features, semantic dimensions), for data scientists; read "
            "`summary` and `evidence` instead"
        ),
    ]
    summary: Annotated[
        list[str],
        Meta(description="The decision in care language, most decisive first, one per rule"),
    ] = msgspec.field(default_factory=list)
    evidence: Annotated[
        dict[str, list[Evidence]],
        Meta(
            description="Per head, the words of the mention that pushed it towards (weight > 0) "
            "or against its answer, strongest first, with character offsets into the text"
        ),
    ] = msgspec.field(default_factory=dict)


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
    responders: list[RankedOut]
    responders_reason: str | None
    abstain: bool
    explanation: Explanation
    # True when this mention id was scored before and this is the stored answer (a retry).
    replayed: bool = False


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


Hour = Annotated[int, Meta(ge=0, le=24)]


class ResponderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=200)] = ""
    skills: list[Annotated[str, Meta(min_length=1, max_length=100)]] = msgspec.field(
        default_factory=list
    )
    languages: list[Annotated[str, Meta(min_length=2, max_length=8)]] = msgspec.field(
        default_factory=lambda: ["en"]
    )
    tiers: list[Annotated[int, Meta(ge=1, le=5)]] = msgspec.field(default_factory=lambda: [2, 3])
    capacity: Annotated[int, Meta(ge=1, le=1000)] = 5
    shift_start_hour: Hour = 9
    shift_end_hour: Hour = 17
    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "UTC"
    median_response_s: Annotated[float, Meta(ge=0)] | None = None


class ResponderOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    skills: list[str]
    languages: list[str]
    tiers: list[int]
    capacity: int
    open_cases: int
    online: bool
    shift_start_hour: int
    shift_end_hour: int
    timezone: str
    median_response_s: float | None


class PresenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    online: bool
    open_cases: Count | None = None


class ClaimIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    responder_id: NonEmpty


class ClaimOut(msgspec.Struct, kw_only=True):
    mention_id: str
    responder_id: str
    claimed_at: datetime


class OutcomeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    responder_id: NonEmpty
    replied_at: Timestamp | None = None
    reply_action: ReplyAction | None = None
    resolved: bool | None = None
    csat: Annotated[float, Meta(ge=1, le=5)] | None = None
    first_response_s: Annotated[float, Meta(ge=0)] | None = None


class OutcomeOut(msgspec.Struct, kw_only=True):
    mention_id: str
    recorded: bool
    released_claim: bool


# QA review (service/review.py) -----------------------------------------------------------


class ReviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`accept` keeps the model's labels; `correct` replaces the ones given, keeps the rest."""

    verdict: Literal["accept", "correct"]
    # With `correct`: the labels the model should have given.
    intent: NonEmpty | None = None
    sentiment: Sentiment | None = None
    reply_action: ReplyAction | None = None
    tier: Annotated[int, Meta(ge=1, le=5)] | None = None
    responder_id: NonEmpty | None = None
    note: Annotated[str, Meta(max_length=2000)] | None = None
    # Ignored, kept so that older clients still validate: the verdict is recorded under the
    # signed-in identity (the key's owner name, else `key:<hash>`), never a client's claim.
    reviewer: NonEmpty | None = None


class ReviewOut(msgspec.Struct, kw_only=True):
    id: int
    prediction_id: int
    reviewer: str
    reviewed_at: datetime
    verdict: str
    intent: str | None
    sentiment: str | None
    reply_action: str
    tier: int
    responder_id: str | None
    note: str | None


class ReviewItem(msgspec.Struct, kw_only=True):
    prediction_id: int
    mention_id: str
    created_at: datetime
    text: str
    reasons: list[str]
    prediction: ScoreOut
    reviews: list[ReviewOut]  # oldest first; the last one counts
    # From the mention as the SMMS sent it (None when it sent none, or for rows logged before
    # migration 0003). `created_at` above is when Switchboard scored it; `posted_at` is when
    # the author posted it.
    posted_at: datetime | None = None
    channel: str | None = None
    author: Author | None = None


class QueueOut(msgspec.Struct, kw_only=True):
    items: list[ReviewItem]
    total: int
    limit: int
    offset: int


class HeadAccuracy(msgspec.Struct, kw_only=True):
    head: str
    reviewed: int
    accuracy: float | None
    random_reviewed: int  # the uniform sample: unbiased
    random_accuracy: float | None
    ci_low: float | None  # 95 % Wilson interval of random_accuracy
    ci_high: float | None


class DayAgreement(msgspec.Struct, kw_only=True):
    day: str
    reviewed: int
    agreement: float  # share of reviewed items accepted as predicted


class Kpis(msgspec.Struct, kw_only=True):
    predictions: int
    mean_first_response_s: float | None
    median_first_response_s: float | None
    resolved_share: float | None
    replies_avoided: int
    crisis_escalations: int
    crisis_confirmed: int


class SummaryOut(msgspec.Struct, kw_only=True):
    reviewed: int
    open: int
    heads: list[HeadAccuracy]
    intent_confusion: dict[str, dict[str, int]]  # predicted -> reviewed -> count
    agreement: list[DayAgreement]
    kpis: Kpis


# --- shadow mode (service/shadow.py) --------------------------------------------------------


class HeadAgreement(msgspec.Struct, kw_only=True):
    head: str
    agreement: Probability | None  # share of compared mentions given the same label; None if 0


class DecisionAgreement(msgspec.Struct, kw_only=True):
    reply_action: Probability | None
    tier: Probability | None
    both: Probability | None  # same reply action and same tier


class ShadowExample(msgspec.Struct, kw_only=True):
    """A recent mention the two models disagreed on, and where."""

    mention_id: str
    at: Timestamp
    heads: list[str]  # heads whose labels differ
    champion_reply: ReplyAction
    challenger_reply: ReplyAction
    champion_tier: int
    challenger_tier: int


class ShadowProcess(msgspec.Struct, kw_only=True):
    """This process since it started (the rest of the report is every replica's, stored)."""

    compared: int
    pending: int  # mentions waiting for the challenger
    unstored: int  # compared, but the database refused or was away


class ShadowOut(msgspec.Struct, kw_only=True):
    champion: str
    challenger: str  # the version the `challenger` alias names
    shadowing: bool  # False when that version failed verification (see `challenger_error`)
    challenger_error: str | None
    since: Timestamp | None  # first comparison of this champion/challenger pair
    compared: int  # mentions compared for this pair, by every replica
    # Mentions this process did not shadow-score because the queue was full (or the service
    # was stopping); they leave no row, so this count is per process, since it started.
    dropped: int
    heads: list[HeadAgreement]
    decision: DecisionAgreement
    reply_confusion: dict[str, dict[str, int]]  # champion action -> challenger action -> count
    disagreements: list[ShadowExample]  # the most recent, newest first
    process: ShadowProcess


# --- crisis webhook (service/webhook.py) ---------------------------------------------------

DeliveryStatus = Literal["pending", "delivered", "failed"]


class DeliveryOut(msgspec.Struct, kw_only=True):
    """One crisis event and how its delivery to the webhook went."""

    id: str  # the delivery id the receiver saw in X-Switchboard-Delivery
    mention_id: str
    status: DeliveryStatus  # failed: every attempt was made and none got a 2xx
    tier: int
    created_at: Timestamp
    attempts: int
    last_status: int | None  # the receiver's last HTTP status; null if it never answered
    last_error: str | None
    delivered_at: Timestamp | None
    next_attempt_at: Timestamp | None
