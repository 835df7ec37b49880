"""The API's side of scoring: checking texts, API bodies to `Mention`s, `Recommendation`s to
response bodies, and the prediction log's row. The recommending itself is `Router.recommend`;
these are plain functions, tested without HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from msgspec.structs import replace

from switchboard.ml.bundle import HeadPrediction
from switchboard.routing.reasons import summary
from switchboard.routing.router import Recommendation, Router
from switchboard.routing.types import Context, Mention, Responder
from switchboard.service.errors import InvalidInput
from switchboard.service.sampling import join, lowest_confidence, reasons_at_scoring
from switchboard.service.schemas import (
    Evidence,
    Explanation,
    Feature,
    Label,
    MentionIn,
    RankedOut,
    Reply,
    ReviewItem,
    Rule,
    ScoreOut,
    Tier,
)
from switchboard.settings import Settings

# Top features per head in an explanation, when the caller asks for one (`?explain=true`).
EXPLAIN_FEATURES = 5


def check_text(m: MentionIn, field: str, max_chars: int) -> None:
    """Reject texts that cannot be scored, naming the field."""
    if not m.text.strip():
        raise InvalidInput("text is empty or only whitespace", field)
    if len(m.text) > max_chars:
        raise InvalidInput(f"text is {len(m.text):,} characters; the limit is {max_chars:,}", field)
    if "\x00" in m.text:
        raise InvalidInput("text contains a NUL byte", field)
    try:
        m.text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("text contains a lone surrogate", field) from exc


def to_mention(m: MentionIn) -> Mention:
    author = m.author
    return Mention(
        id=m.id,
        text=m.text,
        channel=m.channel,
        brand=m.brand,
        created_at=m.created_at,
        language=m.language,
        author_id=author.id if author else None,
        author_followers=author.followers if author else None,
        author_verified=author.verified if author else None,
        in_reply_to=m.in_reply_to,
    )


def _label(p: HeadPrediction | None) -> Label | None:
    return None if p is None else Label(label=p.label, confidence=round(p.confidence, 4))


def to_response(rec: Recommendation, router: Router) -> ScoreOut:
    """The API's form of a recommendation. `features` and `evidence` are empty unless it was
    explained (`?explain=true`); `summary` and `rules` are always there (cheap, and the SMMS
    shows them)."""
    d, heads = rec.decision, rec.heads
    return ScoreOut(
        id=rec.mention.id,
        model_version=router.bundle.version,
        policy_version=router.policy.version,
        intent=_label(heads.get("intent")),
        sentiment=_label(heads.get("sentiment")),
        reply=Reply(action=d.reply_action, reasons=list(d.reply_reasons)),
        tier=Tier(level=d.tier, name=d.tier_name),
        priority=d.priority,
        sla_seconds=d.sla_seconds,
        responders=[
            RankedOut(id=r.id, score=r.score, reasons=list(r.reasons)) for r in d.responders
        ],
        responders_reason=d.responders_reason,
        abstain=d.abstain,
        explanation=Explanation(
            summary=summary(d, rec.mention, heads, router.policy),
            evidence={
                h: [Evidence(text=e.text, start=e.start, end=e.end, weight=e.weight) for e in ev]
                for h, ev in rec.evidence.items()
            },
            rules=[Rule(code=r.code, detail=r.detail) for r in d.rules],
            features={
                h: [Feature(feature=f, weight=w) for f, w in p.top_features]
                for h, p in heads.items()
            }
            if rec.explained
            else {},
        ),
    )


def score_batch(
    router: Router,
    mentions: Sequence[MentionIn],
    roster: Sequence[Responder],
    now: datetime,
    contexts: Sequence[Context] | None = None,
    explain: bool = False,
) -> list[ScoreOut]:
    """Score API mentions through the one recommendation path; with `explain`, with each
    head's top features and the evidence words."""
    recs = router.recommend(
        [to_mention(m) for m in mentions], contexts, roster, now, explain_features(explain)
    )
    return [to_response(r, router) for r in recs]


def explain_features(explain: bool) -> int:
    """`Router.recommend`'s `explain` for the API's `?explain=` flag."""
    return EXPLAIN_FEATURES if explain else 0


def explained(router: Router, item: ReviewItem) -> ReviewItem:
    """The review item with its answer's evidence and features, computed now from the loaded
    model when the stored answer has none (it was scored without `?explain=true`).

    Only when the model and policy that answered are the ones loaded and the heads answer the
    same again: another model's words would not explain this answer, so then the item is left
    as stored. The prediction log is not touched: it keeps what was answered."""
    p = item.prediction
    if p.explanation.evidence or p.explanation.features:
        return item
    if (p.model_version, p.policy_version) != (router.bundle.version, router.policy.version):
        return item
    author = item.author
    mention = Mention(
        id=item.mention_id,
        text=item.text,
        channel=item.channel,
        author_followers=author.followers if author else None,
        author_verified=author.verified if author else None,
    )
    rec = router.recommend([mention], explain=EXPLAIN_FEATURES)[0]
    if (rec.intent, _label_of(rec.heads, "sentiment")) != (
        p.intent.label if p.intent else None,
        p.sentiment.label if p.sentiment else None,
    ):
        return item
    again = to_response(rec, router).explanation
    explanation = replace(p.explanation, evidence=again.evidence, features=again.features)
    return replace(item, prediction=replace(p, explanation=explanation))


def _label_of(heads: dict[str, HeadPrediction], name: str) -> str | None:
    head = heads.get(name)
    return head.label if head is not None else None


def prediction_row(
    m: MentionIn, r: ScoreOut, now: datetime, latency_ms: float, settings: Settings
) -> dict:
    """The prediction log's record of one scored mention (QA review and retraining read it)."""
    reasons = reasons_at_scoring(r, settings.review_sample_rate, settings.review_low_confidence)
    return {
        "mention_id": m.id,
        "author_id": m.author.id if m.author else None,
        "brand": m.brand,
        "created_at": now,
        "model_version": r.model_version,
        "policy_version": r.policy_version,
        "intent": r.intent.label if r.intent else None,
        "sentiment": r.sentiment.label if r.sentiment else None,
        "reply_action": r.reply.action,
        "tier": r.tier.level,
        "abstain": r.abstain,
        "text": m.text,
        "output": r,  # the response Struct; the JSON column encodes it (service/db.py)
        "latency_ms": latency_ms,
        "mention": m,
        "confidence": lowest_confidence(r),
        "review_reasons": join(None, reasons),
    }


def log_fields(r: ScoreOut, latency_ms: float) -> dict:
    """The scoring log line's fields: ids, versions and the decision; never the mention's
    text (it may hold personal data) and nothing of the caller's key."""
    return {
        "mention_id": r.id,
        "model_version": r.model_version,
        "policy_version": r.policy_version,
        "intent": r.intent.label if r.intent else None,
        "reply_action": r.reply.action,
        "tier": r.tier.level,
        "abstain": r.abstain,
        "latency_ms": round(latency_ms, 3),
        "replayed": r.replayed,
    }
