"""The one recommendation path: heads, expertise and policy combined by `Router.recommend`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from switchboard.routing.policy import load_policy
from switchboard.routing.router import Recommendation, Router, mentions_from_records
from switchboard.routing.types import Context, Mention, Responder
from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle
from tests.conftest import make_cases

NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SAMPLE = Path(__file__).parents[2] / "datasets" / "sample" / "cases.csv"
TEAM = (
    Responder(id="a", tiers=(2, 3, 4), online=True, shift_start_hour=0, shift_end_hour=24),
    Responder(id="b", tiers=(2, 3, 4), online=True, shift_start_hour=0, shift_end_hour=24),
)


@pytest.fixture(scope="module")
def router() -> Router:
    bundle = fit_bundle(make_cases(300), evaluate=False).bundle
    return Router(bundle, load_policy(Settings().policy_file))


def _mentions() -> list[Mention]:
    return [
        Mention(id="1", text="where is my order #A123456 for the phone?"),
        Mention(id="2", text="win a free phone www.win.example now"),
        Mention(id="3", text="love the new app! thank you"),
    ]


def test_batch_and_one_by_one_recommend_the_same(router: Router) -> None:
    """Check that a batch gives each mention the recommendation it gets alone."""
    batch = router.recommend(_mentions(), roster=TEAM, now=NOON_UTC)
    alone = [router.recommend([m], roster=TEAM, now=NOON_UTC)[0] for m in _mentions()]
    assert [r.decision for r in batch] == [r.decision for r in alone]


def test_recommendation_carries_heads_expertise_and_decision(router: Router) -> None:
    """Check that every mention comes back with its heads, an expertise per responder and a
    decision."""
    recs = router.recommend(_mentions(), roster=TEAM, now=NOON_UTC)
    assert [r.mention.id for r in recs] == ["1", "2", "3"]
    assert all(set(r.expertise) == {"a", "b"} for r in recs)
    assert recs[0].decision.reply_action == "private"
    assert recs[1].decision.reply_action == "none" and recs[1].decision.responders == ()
    assert recs[0].intent == recs[0].heads["intent"].label


def test_rerank_follows_presence_and_load(router: Router) -> None:
    """Check that re-ranking sees who is free now, not who was free when it was scored."""
    rec = router.recommend(_mentions()[:1], roster=TEAM, now=NOON_UTC)[0]
    busy = (replace(TEAM[0], open_cases=TEAM[0].capacity), TEAM[1])
    ranked, why = router.rerank(rec, busy, Context(now=NOON_UTC))
    assert [r.id for r in ranked] == ["b"] and why is None


def test_empty_input_recommends_nothing(router: Router) -> None:
    """Check that no mentions give no recommendations rather than an error."""
    assert router.recommend([]) == []


def test_records_become_mentions_with_missing_fields_as_none() -> None:
    """Check that case-schema records (with NaN gaps) map onto mentions."""
    rows = [
        {"case_id": "c1", "text": "hi", "author_followers": 12.0, "author_verified": float("nan")},
        {"text": "hello"},
    ]
    first, second = mentions_from_records(rows)
    assert first == Mention(id="c1", text="hi", author_followers=12)
    assert second.id == "1" and second.channel is None


def test_explaining_changes_no_decision(router: Router) -> None:
    """Check that asking for explanations (`explain=N`) only adds features and evidence: the
    heads and decisions of the shipped sample's mentions are the same, in a batch and alone."""
    records = pd.read_csv(SAMPLE).head(60).to_dict("records")
    mentions = mentions_from_records(records)
    plain = router.recommend(mentions, roster=TEAM, now=NOON_UTC)
    asked = router.recommend(mentions, roster=TEAM, now=NOON_UTC, explain=5)
    assert [r.decision for r in plain] == [r.decision for r in asked]
    assert [_labels(r) for r in plain] == [_labels(r) for r in asked]
    assert not any(r.explained or r.evidence for r in plain)
    assert all(r.explained and r.evidence for r in asked)
    assert all(any(p.top_features for p in r.heads.values()) for r in asked)
    for m in mentions[:10]:  # one mention alone takes the single-row paths
        alone = router.recommend([m], roster=TEAM, now=NOON_UTC)[0]
        explained = router.recommend([m], roster=TEAM, now=NOON_UTC, explain=5)[0]
        assert alone.decision == explained.decision and _labels(alone) == _labels(explained)


def test_a_router_explains_by_default_only_if_built_to(router: Router) -> None:
    """Check `Router(explain=N)` still explains every recommendation unless told 0."""
    chatty = Router(router.bundle, router.policy, explain=3)
    rec = chatty.recommend(_mentions()[:1])[0]
    assert rec.explained and 0 < len(rec.heads["intent"].top_features) <= 3
    assert not chatty.recommend(_mentions()[:1], explain=0)[0].explained


def _labels(rec: Recommendation) -> dict[str, tuple[str, dict[str, float]]]:
    return {k: (h.label, h.probabilities) for k, h in rec.heads.items()}
