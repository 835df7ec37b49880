"""Which predictions the QA review queue holds, and why.

The rule (also in the README): a prediction joins the queue when at least one reason holds;
the queue shows every reason.
- `crisis`: the recommended tier is 5 — every escalation to PR/legal gets a human look;
- `abstain`: the service said "a human should decide";
- `low_margin`: the intent or sentiment head's calibrated confidence is under
  `review_low_confidence` (default 0.65);
- `random`: a uniform sample of `review_sample_rate` (default 2 %) of all predictions, chosen
  by a hash of the mention id so the choice is reproducible and independent of the output.
  Only this sample gives unbiased accuracy: the other reasons pick the hard cases on purpose;
- later, when an outcome arrives: `replied_against_none` (someone replied although "none" was
  recommended) and `resolver_not_top3` (whoever replied was not in the top 3 recommended).
"""

from __future__ import annotations

import hashlib
from typing import Any

from switchboard.service.schemas import ScoreOut

RANDOM = "random"
REASONS = (
    "crisis",
    "abstain",
    "replied_against_none",
    "resolver_not_top3",
    "low_margin",
    RANDOM,
)


def in_random_sample(mention_id: str, rate: float) -> bool:
    digest = hashlib.sha256(mention_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def lowest_confidence(r: ScoreOut) -> float | None:
    found = [x.confidence for x in (r.intent, r.sentiment) if x is not None]
    return min(found) if found else None


def reasons_at_scoring(r: ScoreOut, rate: float, low_confidence: float) -> list[str]:
    confidence = lowest_confidence(r)
    checks = {
        "crisis": r.tier.level == 5,
        "abstain": r.abstain,
        "low_margin": confidence is not None and confidence < low_confidence,
        RANDOM: in_random_sample(r.id, rate),
    }
    return [reason for reason, hit in checks.items() if hit]


def reasons_from_outcome(row: Any, outcome: dict[str, Any]) -> list[str]:
    """`row`: the prediction (reply_action, output); `outcome`: what the SMMS reported."""
    found = []
    replied = outcome.get("reply_action") in ("public", "private") or (
        outcome.get("replied_at") is not None and outcome.get("reply_action") != "none"
    )
    if replied and row.reply_action == "none":
        found.append("replied_against_none")
    top3 = [r["id"] for r in (row.output or {}).get("responders", [])[:3]]
    if replied and outcome.get("responder_id") not in top3 and row.reply_action != "none":
        found.append("resolver_not_top3")
    return found


def join(existing: str | None, new: list[str]) -> str | None:
    """Comma-separated, in REASONS order, without repeats; None when there is no reason."""
    have = set(filter(None, (existing or "").split(","))) | set(new)
    return ",".join(r for r in REASONS if r in have) or None
