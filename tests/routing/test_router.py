"""The one recommendation path: heads, expertise and policy combined by `Router.recommend`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router, mentions_from_records
from switchboard.routing.types import Context, Mention, Responder
from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle
from tests.conftest import make_cases

NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
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
