"""The one place where the model's heads, responder expertise and the routing policy meet.

Every caller that turns mentions into recommendations goes through `Router.recommend`: the
scoring service, `switchboard evaluate`, the decision benchmark, the routing simulation, the
serving benchmark and the MLflow model. So a change to how the parts combine is made once,
and every number the project reports is computed the way the service decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from switchboard.ml.bundle import Bundle, HeadPrediction
from switchboard.ml.features import Rows
from switchboard.routing.evidence import evidence
from switchboard.routing.policy import Policy, decide_many, wants_second_opinion
from switchboard.routing.ranking import rank_responders
from switchboard.routing.types import (
    Context,
    Decision,
    Evidence,
    Mention,
    RankedResponder,
    Responder,
    RuleHit,
)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What Switchboard recommends for one mention, with what it was decided from."""

    mention: Mention
    heads: dict[str, HeadPrediction]
    decision: Decision
    # Expertise of each roster member for this mention: kept so that the ranking can be redone
    # when presence and load change before anyone takes the mention (`Router.rerank`).
    expertise: dict[str, float]
    # Per head, the words of the mention that moved it (routing/evidence.py); empty when the
    # recommendation was not explained (`Router.recommend(..., explain=0)`).
    evidence: Mapping[str, tuple[Evidence, ...]] = field(default_factory=dict)
    # Whether the heads' top features and the evidence were computed (they cost more than the
    # decision itself, so the service computes them only when asked).
    explained: bool = False

    @property
    def intent(self) -> str | None:
        head = self.heads.get("intent")
        return head.label if head is not None else None


class Router:
    """A verified bundle and a policy, combined. Immutable: a model reload builds a new one."""

    def __init__(self, bundle: Bundle, policy: Policy, explain: int = 0) -> None:
        self.bundle = bundle
        self.policy = policy
        # Top features per head in each explanation when `recommend` is not told otherwise;
        # 0 = no explanation (features or evidence).
        self.explain = explain

    def vectorise(self, mentions: Sequence[Mention]) -> Rows:
        """The one feature matrix every head and the expertise model read."""
        return self.bundle.rows(_columns(mentions))

    def second_opinion(
        self, mentions: Sequence[Mention], heads: list[dict[str, HeadPrediction]]
    ) -> list[bool]:
        """Replace, in place, the heads of the mentions the fast heads are unsure of with the
        second opinion's (`Bundle.deep`: the full transformer); which ones were asked.

        The cascade: the fast heads (~0.5 ms) decide every mention they are sure of; the
        transformer (~10 ms) is paid only for the rest (policy.toml `second_opinion_below`).
        Its heads come without feature explanations: their inputs are embedding dimensions,
        which explain nothing to a care lead; the `second_opinion` rule says what decided, and
        the evidence words are those the fast heads weighed for or against its answers."""
        deep = self.bundle.deep
        asked = [deep is not None and wants_second_opinion(h, self.policy) for h in heads]
        unsure = [i for i, a in enumerate(asked) if a]
        if deep is not None and unsure:
            better = deep.predict(_columns([mentions[i] for i in unsure]))
            for i, h in zip(unsure, better, strict=True):
                heads[i] = h
        return asked

    def expertise(
        self, X: Rows, heads: Sequence[dict[str, HeadPrediction]], roster: Sequence[Responder]
    ) -> list[dict[str, float]]:
        """Each roster member's expertise for each mention, given its predicted intent."""
        ids = [r.id for r in roster]
        if not ids:
            return [{} for _ in heads]
        intents = (
            [h["intent"].probabilities for h in heads] if "intent" in self.bundle.heads else None
        )
        scores: np.ndarray = self.bundle.expertise_scores(X, ids, intents)
        return [dict(zip(ids, row.tolist(), strict=True)) for row in scores]

    def recommend(
        self,
        mentions: Sequence[Mention],
        contexts: Sequence[Context] | None = None,
        roster: Sequence[Responder] = (),
        now: datetime | None = None,
        explain: int | None = None,
    ) -> list[Recommendation]:
        """Recommend for a batch: one vectorisation, every head, expertise, then the policy.

        `contexts` (author history, brand volume) default to "nothing known" at `now`.
        `explain`: top features per head, with the evidence words, in each recommendation
        (None: the router's own `explain`; 0: no explanation). Explaining only reads the heads'
        answers (`Bundle.explain_heads`), so the decisions are the same either way.
        """
        if not mentions:
            return []
        top = self.explain if explain is None else explain
        if contexts is None:
            contexts = [Context(now=now or datetime.now(UTC))] * len(mentions)
        X = self.vectorise(mentions)
        heads = self.bundle.predict_heads(X)
        if top:  # before the second opinion: its heads come without features
            self.bundle.explain_heads(X, heads, top)
        asked = self.second_opinion(mentions, heads)
        expertise = self.expertise(X, heads, roster)
        words = evidence(self.bundle, X, heads, mentions) if top else [{}] * len(heads)
        decisions = decide_many(mentions, heads, contexts, roster, expertise, self.policy)
        return [
            Recommendation(m, h, _noted(d, a), e, w, top > 0)
            for m, h, d, e, a, w in zip(
                mentions, heads, decisions, expertise, asked, words, strict=True
            )
        ]

    def rerank(
        self, rec: Recommendation, roster: Sequence[Responder], context: Context
    ) -> tuple[list[RankedResponder], str | None]:
        """Rank responders again for a recommendation, with presence and load as they are now."""
        return rank_responders(
            rec.mention, rec.decision.tier, rec.intent, roster, rec.expertise, context, self.policy
        )


def _columns(mentions: Sequence[Mention]) -> dict[str, list[Any]]:
    return {
        "text": [m.text for m in mentions],
        "author_followers": [m.author_followers for m in mentions],
        "author_verified": [m.author_verified for m in mentions],
        "channel": [m.channel for m in mentions],
    }


SECOND_OPINION = RuleHit("second_opinion", "fast model unsure; the transformer's heads decided")


def _noted(decision: Decision, asked: bool) -> Decision:
    """The explanation says when the second opinion decided (QA sees which path it was)."""
    return replace(decision, rules=(*decision.rules, SECOND_OPINION)) if asked else decision


def mentions_from_records(records: Sequence[dict[str, Any]]) -> list[Mention]:
    """Mentions from case-schema records (evaluation data, benchmark rows, batch-scoring input).

    Missing or empty fields become None; ids default to the row number.
    """
    out = []
    for i, r in enumerate(records):

        def get(key: str, r: dict[str, Any] = r) -> Any:
            value = r.get(key)
            return None if value is None or value != value else value  # NaN is missing

        followers, verified, created = (
            get("author_followers"),
            get("author_verified"),
            get("created_at"),
        )
        out.append(
            Mention(
                id=str(get("case_id") or i),
                text=str(r["text"]),
                channel=get("channel"),
                brand=get("brand"),
                created_at=created.to_pydatetime()
                if hasattr(created, "to_pydatetime")
                else created,
                language=get("language"),
                author_id=get("author_id"),
                author_followers=None if followers is None else int(followers),
                author_verified=None if verified is None else bool(verified),
            )
        )
    return out
