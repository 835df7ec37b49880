"""Who should answer: the responders allowed at a tier, ranked by expertise x presence x spare
capacity x speed x language. The weights come from the policy's `[ranking]` section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.routing.types import Context, Mention, RankedResponder, Responder

if TYPE_CHECKING:  # policy imports this module; the type is only named in a signature
    from switchboard.routing.policy import Policy


def in_shift(r: Responder, now: datetime) -> bool:
    try:
        hour = now.astimezone(ZoneInfo(r.timezone)).hour
    except (ZoneInfoNotFoundError, ValueError):
        return False
    if r.shift_start_hour <= r.shift_end_hour:
        return r.shift_start_hour <= hour < r.shift_end_hour
    return hour >= r.shift_start_hour or hour < r.shift_end_hour  # shift wraps midnight


def rank_responders(
    mention: Mention,
    tier: int,
    intent: str | None,
    roster: Sequence[Responder],
    expertise: Mapping[str, float],
    context: Context,
    policy: Policy,
) -> tuple[list[RankedResponder], str | None]:
    """Expertise x presence x spare capacity x speed x language, among tier-allowed people."""
    allowed = [r for r in roster if tier in r.tiers]
    if not allowed:
        return [], "nobody_for_tier"
    present = [r for r in allowed if r.online and in_shift(r, context.now)]
    if not present:
        return [], "nobody_online"
    free = [r for r in present if r.open_cases < r.capacity]
    if not free:
        return [], "all_at_capacity"
    ranking = policy.config["ranking"]
    ranked = []
    for r in free:
        reasons = ["online", "in_shift", f"spare_capacity:{r.capacity - r.open_cases}"]
        lang = 1.0
        if mention.language and mention.language not in r.languages:
            lang = float(ranking["language_mismatch"])
            if lang <= 0:
                continue
        elif mention.language:
            reasons.append(f"language:{mention.language}")
        skill = intent is not None and intent in r.skills
        expert = min(1.0, expertise.get(r.id, 0.5) * (ranking["skill_boost"] if skill else 1.0))
        if skill:
            reasons.append("skill_match")
        speed = 1.0
        if r.median_response_s is not None:
            speed = 1.0 / (1.0 + r.median_response_s / ranking["response_scale_s"])
            if speed >= 0.5:
                reasons.append("fast_responder")
        spare = 1.0 - r.open_cases / r.capacity
        score = expert * spare * speed * lang
        ranked.append(RankedResponder(r.id, round(float(score), 4), tuple(reasons)))
    if not ranked:
        return [], "no_language_match"
    ranked.sort(key=lambda x: (-x.score, x.id))
    return ranked, None
