"""The types the router, the policy and the service pass between them.

Plain frozen dataclasses, no I/O: the service turns HTTP bodies and database rows into these,
`Router.recommend` turns them into `Decision`s, and the service turns those back into a
response body. Keeping them here lets the policy be tested without HTTP or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from switchboard.vocabulary import ReplyAction


@dataclass(frozen=True, slots=True)
class Mention:
    """One incoming public mention, as the SMMS sends it."""

    id: str
    text: str
    channel: str | None = None
    brand: str | None = None
    created_at: datetime | None = None
    language: str | None = None
    author_id: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """What the service's prediction log knows about the author's recent behaviour."""

    recent_mentions: int = 0
    recent_negative: int = 0
    recent_abusive: int = 0  # predicted troll/abuse/spam
    recent_replied: int = 0


@dataclass(frozen=True, slots=True)
class Context:
    """Everything outside the mention itself that the policy may look at."""

    now: datetime
    author: AuthorHistory = field(default_factory=AuthorHistory)
    # Mentions for this brand in the recent window divided by its usual rate (spike detection).
    volume_ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class Responder:
    """A member of the care team and their current presence/load."""

    id: str
    name: str = ""
    skills: tuple[str, ...] = ()  # intents / business units they handle well
    languages: tuple[str, ...] = ("en",)
    tiers: tuple[int, ...] = (2, 3)  # tiers they may be assigned at
    capacity: int = 5
    open_cases: int = 0
    online: bool = False
    shift_start_hour: int = 9  # local time, [start, end); end < start wraps midnight
    shift_end_hour: int = 17
    timezone: str = "UTC"
    median_response_s: float | None = None


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A named rule of the policy that fired, with its machine-readable reason code."""

    code: str
    detail: str = ""
    # The cue that fired it, when a cue did ("billing"): routing/reasons.py quotes the words.
    cue: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Words of the mention that pushed a head towards (weight > 0) or against its answer.

    `text` is always `mention.text[start:end]`, so a page can highlight it in place.
    """

    text: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True, slots=True)
class RankedResponder:
    id: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy recommends for one mention."""

    reply_action: ReplyAction
    reply_reasons: tuple[str, ...]
    tier: int
    tier_name: str
    priority: int  # 0-100
    sla_seconds: int | None  # None when no reply is recommended
    abstain: bool
    rules: tuple[RuleHit, ...]
    responders: tuple[RankedResponder, ...]
    responders_reason: str | None = None  # why the list is empty, when it is
