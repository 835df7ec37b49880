"""The routing policy, one test per rule (switchboard/routing/policy.py and policy.toml)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.ml.bundle import HeadPrediction
from switchboard.routing.policy import Policy, PolicyError, decide, load_policy
from switchboard.routing.types import AuthorHistory, Context, Decision, Mention, Responder
from switchboard.settings import Settings

POLICY_FILE = Settings().policy_file
NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(POLICY_FILE)


def head(label: str, confidence: float = 0.95) -> HeadPrediction:
    return HeadPrediction(label, confidence, confidence - 0.05, {label: confidence}, False)


def heads(intent: str, sentiment: str = "neutral", conf: float = 0.95, **extra: str) -> dict:
    out = {"intent": head(intent, conf), "sentiment": head(sentiment, conf)}
    out.update({k: head(v, conf) for k, v in extra.items()})
    return out


def agent(rid: str = "a", **kw: object) -> Responder:
    base = Responder(
        id=rid,
        tiers=(2, 3, 4, 5),
        online=True,
        shift_start_hour=0,
        shift_end_hour=24,
        timezone="UTC",
        capacity=5,
        open_cases=0,
        skills=("complaint",),
        languages=("en",),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def run(
    policy: Policy,
    text: str,
    h: dict,
    *,
    context: Context | None = None,
    roster: tuple[Responder, ...] = (),
    expertise: dict[str, float] | None = None,
    **mention: object,
) -> Decision:
    return decide(
        Mention(id="m1", text=text, **mention),  # type: ignore[arg-type]
        h,
        context or Context(now=NOON_UTC),
        roster,
        expertise or {},
        policy,
    )


def test_shipped_policy_loads_with_a_version(policy: Policy) -> None:
    """Check that the shipped policy.toml is valid and versioned."""
    assert policy.version


def test_troll_gets_no_reply(policy: Policy) -> None:
    """Check that a confident troll prediction means no reply, no SLA, no responders."""
    d = run(policy, "you are all idiots lol", heads("troll", "negative"), roster=(agent(),))
    assert (d.reply_action, d.tier, d.sla_seconds, d.responders) == ("none", 1, None, ())
    assert "troll" in d.reply_reasons and d.responders_reason == "no_reply"


def test_spam_gets_no_reply(policy: Policy) -> None:
    """Check that spam is ignored."""
    assert run(policy, "buy followers www.x.example", heads("spam")).reply_action == "none"


def test_chatter_gets_no_reply(policy: Policy) -> None:
    """Check that chatter about the brand is monitored, not answered."""
    assert run(policy, "at the cafe with friends", heads("chatter")).reply_action == "none"


def test_repeat_rager_gets_no_reply(policy: Policy) -> None:
    """Check that an author with many recent abusive mentions gets no attention."""
    ctx = Context(now=NOON_UTC, author=AuthorHistory(recent_abusive=5))
    d = run(policy, "worst company ever", heads("complaint", "negative"), context=ctx)
    assert d.reply_action == "none" and "repeat_rager" in d.reply_reasons


def test_heavy_poster_with_mixed_history_is_not_a_rager(policy: Policy) -> None:
    """Check that volume alone does not silence a loyal customer who also posts a lot else."""
    history = AuthorHistory(recent_mentions=40, recent_negative=12, recent_abusive=3)
    ctx = Context(now=NOON_UTC, author=history)
    d = run(policy, "my order never came", heads("complaint", "negative"), context=ctx)
    assert d.reply_action != "none" and "repeat_rager" not in d.reply_reasons
    angry = Context(now=NOON_UTC, author=AuthorHistory(recent_mentions=8, recent_negative=7))
    d = run(policy, "my order never came", heads("complaint", "negative"), context=angry)
    assert "repeat_rager" in d.reply_reasons


def test_venting_without_ask_gets_no_reply(policy: Policy) -> None:
    """Check that confident not-actionable negative venting is left alone."""
    h = heads("complaint", "negative", actionable="False")
    d = run(policy, "ugh mondays and this app", h)
    assert d.reply_action == "none" and "venting_no_ask" in d.reply_reasons


def test_order_number_goes_private(policy: Policy) -> None:
    """Check that an order number moves the conversation to a private channel."""
    d = run(policy, "where is my order #A1234567?", heads("complaint", "negative"))
    assert d.reply_action == "private" and "private_account_specific" in d.reply_reasons


def test_billing_question_goes_private(policy: Policy) -> None:
    """Check that a refund/charge question is handled privately."""
    d = run(policy, "I was charged twice, can you refund me?", heads("question"))
    assert d.reply_action == "private"


def test_account_intent_goes_private_without_cues(policy: Policy) -> None:
    """Check that a confident account_billing intent is private even without numbers."""
    assert run(policy, "my login is broken", heads("account_billing")).reply_action == "private"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("my lawyer will sue you", "crisis_legal"),
        ("the heater caught fire and my son was injured", "crisis_safety"),
        ("I'm a journalist writing about this", "crisis_media"),
        ("@CEO you should be ashamed", "crisis_executive"),
    ],
)
def test_crisis_cues_escalate_to_tier_5(policy: Policy, text: str, code: str) -> None:
    """Check safety, legal, media and executive mentions go to the crisis team."""
    d = run(policy, text, heads("complaint", "negative"))
    assert d.tier == 5 and d.tier_name == "crisis" and code in d.reply_reasons


def test_crisis_outranks_troll(policy: Policy) -> None:
    """Check that a troll prediction cannot silence a safety hazard."""
    d = run(policy, "lol your charger exploded and burned my hand", heads("troll", "negative"))
    assert d.tier == 5 and d.reply_action != "none"


def test_volume_spike_escalates_negative_mentions(policy: Policy) -> None:
    """Check that a brand-wide spike escalates negative mentions, not praise."""
    ctx = Context(now=NOON_UTC, volume_ratio=8.0)
    assert run(policy, "app down again", heads("outage", "negative"), context=ctx).tier == 5
    assert run(policy, "love you", heads("praise", "positive"), context=ctx).tier < 5


def test_influencer_gets_priority_not_tier(policy: Policy) -> None:
    """Check that followers change priority and SLA but never tier or reply."""
    h = heads("complaint", "negative")
    small = run(policy, "my app keeps crashing", h, author_followers=10)
    big = run(policy, "my app keeps crashing", h, author_followers=5_000_000, author_verified=True)
    assert (small.tier, small.reply_action) == (big.tier, big.reply_action)
    assert big.priority > small.priority
    assert big.sla_seconds is not None and small.sla_seconds is not None
    assert big.sla_seconds < small.sla_seconds


def test_influence_boost_is_capped(policy: Policy) -> None:
    """Check the caps: at most max_priority_boost points and max_sla_cut of the SLA."""
    h = heads("complaint", "negative")
    base = run(policy, "crashing", h, author_followers=0)
    huge = run(policy, "crashing", h, author_followers=10**12)
    assert huge.priority - base.priority <= policy.get("influence", "max_priority_boost")
    assert base.sla_seconds is not None and huge.sla_seconds is not None
    assert huge.sla_seconds >= base.sla_seconds * (1 - policy.get("influence", "max_sla_cut")) - 1


def test_troll_with_millions_of_followers_still_gets_no_reply(policy: Policy) -> None:
    """Check that influence never buys attention for abuse."""
    d = run(policy, "you suck", heads("troll", "negative"), author_followers=9_000_000)
    assert d.reply_action == "none"


def test_low_confidence_abstains_instead_of_ignoring(policy: Policy) -> None:
    """Check that an unsure 'spam' is flagged for a human, not silently dropped."""
    d = run(policy, "hmm check this", heads("spam", conf=0.4))
    assert d.abstain and d.reply_action != "none" and d.tier >= 3
    assert "low_confidence" in d.reply_reasons


def test_missing_heads_fall_back_to_intent_defaults(policy: Policy) -> None:
    """Check that with only an intent head the per-intent defaults decide."""
    d = run(policy, "is the app down?", {"intent": head("outage")})
    assert (d.reply_action, d.tier) == ("public", 4)


def test_no_heads_at_all_abstains(policy: Policy) -> None:
    """Check that a bundle without heads never leaves a mention unanswered."""
    d = run(policy, "hello", {})
    assert d.abstain and d.reply_action != "none"


def test_no_reply_has_no_sla(policy: Policy) -> None:
    """Check that ignored mentions carry no SLA and zero priority."""
    d = run(policy, "spam", heads("spam"))
    assert d.sla_seconds is None and d.priority == 0


def test_sla_shorter_for_higher_tier(policy: Policy) -> None:
    """Check that crisis SLA < specialist SLA < agent SLA."""
    agent_sla = run(policy, "broken", heads("complaint", "negative")).sla_seconds
    spec_sla = run(policy, "down", heads("outage", "negative")).sla_seconds
    crisis_sla = run(policy, "I will sue", heads("complaint", "negative")).sla_seconds
    assert crisis_sla < spec_sla < agent_sla  # type: ignore[operator]


def test_offline_responder_is_not_ranked(policy: Policy) -> None:
    """Check that offline people are not recommended."""
    d = run(policy, "broken", heads("complaint"), roster=(agent("a", online=False), agent("b")))
    assert [r.id for r in d.responders] == ["b"]


def test_responder_outside_shift_is_not_ranked(policy: Policy) -> None:
    """Check follow-the-sun: at 12:00 UTC Manila (20:00) is off shift, London is on."""
    manila = agent("mnl", timezone="Asia/Manila", shift_start_hour=8, shift_end_hour=16)
    london = agent("lon", timezone="Europe/London", shift_start_hour=8, shift_end_hour=16)
    d = run(policy, "broken", heads("complaint"), roster=(manila, london))
    assert [r.id for r in d.responders] == ["lon"]


def test_shift_across_midnight_counts(policy: Policy) -> None:
    """Check a 22:00-06:00 shift is on duty at 02:00."""
    night = agent("n", shift_start_hour=22, shift_end_hour=6)
    ctx = Context(now=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    assert run(policy, "broken", heads("complaint"), roster=(night,), context=ctx).responders


def test_full_responder_is_not_ranked(policy: Policy) -> None:
    """Check that nobody is recommended over capacity."""
    d = run(policy, "broken", heads("complaint"), roster=(agent("a", open_cases=5),))
    assert d.responders == () and d.responders_reason == "all_at_capacity"


def test_language_mismatch_excluded(policy: Policy) -> None:
    """Check that a Spanish mention goes to a Spanish speaker."""
    roster = (agent("en"), agent("es", languages=("es", "en")))
    d = run(policy, "mi pedido no llega", heads("complaint"), roster=roster, language="es")
    assert [r.id for r in d.responders] == ["es"]


def test_only_tier_allowed_responders_ranked(policy: Policy) -> None:
    """Check that a tier-2-only responder is not offered a crisis."""
    d = run(policy, "I will sue you", heads("complaint"), roster=(agent("junior", tiers=(2,)),))
    assert d.responders == () and d.responders_reason == "nobody_for_tier"


def test_empty_roster_gives_reason(policy: Policy) -> None:
    """Check that an empty list always says why."""
    d = run(policy, "broken", heads("complaint"))
    assert d.responders == () and d.responders_reason


def test_faster_responder_ranks_higher_all_else_equal(policy: Policy) -> None:
    """Check that historical response time breaks ties."""
    roster = (agent("slow", median_response_s=3600.0), agent("fast", median_response_s=60.0))
    d = run(policy, "broken", heads("complaint"), roster=roster)
    assert d.responders[0].id == "fast"


def test_expert_ranks_higher(policy: Policy) -> None:
    """Check that learned expertise orders responders."""
    roster = (agent("novice"), agent("expert"))
    d = run(
        policy,
        "broken",
        heads("complaint"),
        roster=roster,
        expertise={"novice": 0.2, "expert": 0.8},
    )
    assert [r.id for r in d.responders] == ["expert", "novice"]


def test_spare_capacity_ranks_higher(policy: Policy) -> None:
    """Check that load spreads: the less busy of two equals comes first."""
    roster = (agent("busy", open_cases=4), agent("idle", open_cases=0))
    assert run(policy, "broken", heads("complaint"), roster=roster).responders[0].id == "idle"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: re.sub(r'^version = ".*"\n', "", t, flags=re.M), "version"),
        (lambda t: t + "\n[surprise]\nx = 1\n", "surprise"),
        (lambda t: t.replace("min_confidence = 0.55", ""), "confidence.min_confidence"),
        (
            lambda t: t.replace(
                'outage = { reply = "public", tier = 4 }', 'outage = { reply = "shout", tier = 4 }'
            ),
            "intent_defaults.outage",
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, edit: object, match: str) -> None:
    """Check that an invalid policy file is refused naming what is wrong."""
    path = tmp_path / "policy.toml"
    path.write_text(edit(POLICY_FILE.read_text()))  # type: ignore[operator]
    with pytest.raises(PolicyError, match=match):
        load_policy(path)


def test_self_harm_is_crisis_answered_in_private(policy: Policy) -> None:
    """Check that a self-harm statement reaches the crisis team through a private reply."""
    d = run(policy, "honestly i just want to end my life", heads("complaint", "negative"))
    assert (d.reply_action, d.tier) == ("private", 5) and "crisis_self_harm" in d.reply_reasons


def test_fraud_goes_private_to_a_specialist(policy: Policy) -> None:
    """Check that an unauthorised purchase is private at tier 4, not a public reply."""
    d = run(policy, "there's a purchase on my card I never made, unauthorised!", heads("complaint"))
    assert (d.reply_action, d.tier) == ("private", 4)


def test_abuse_wishing_harm_gets_no_reply_and_no_crisis(policy: Policy) -> None:
    """Check that "hope you burn" is abuse, left alone, not a safety report."""
    d = run(policy, "hope your offices burn to the ground", heads("complaint", "negative"))
    assert d.reply_action == "none" and "abuse" in d.reply_reasons


def test_spam_asking_for_a_dm_is_still_spam(policy: Policy) -> None:
    """Check that personal-data cues in spam ("DM me") do not turn it into a private reply."""
    d = run(policy, "want 10k followers? DM me now!!", heads("spam"))
    assert d.reply_action == "none"


def test_a_regulated_subject_in_sure_chatter_gets_no_reply(policy: Policy) -> None:
    """Check that naming a regulated subject does not make a sure chatter post private."""
    h = heads("chatter", reply_action="none")
    d = run(policy, "new on the blog: medical myths everyone still believes", h)
    assert d.reply_action == "none" and d.reply_reasons == ("chatter",)


def test_a_regulated_matter_from_a_customer_still_goes_private(policy: Policy) -> None:
    """Check that the same subject from an unsure intent, or beside personal data, goes private."""
    unsure = heads("chatter", conf=0.4, reply_action="public")
    assert run(policy, "my medical claim was rejected again", unsure).reply_action == "private"
    with_data = heads("chatter", reply_action="none")
    text = "my medical claim 12345678 was rejected, email me at jo@example.com"
    assert run(policy, text, with_data).reply_action == "private"


@pytest.mark.parametrize(("confidence", "tier"), [(0.7, 3), (0.9, 5)])
def test_crisis_intent_alone_needs_a_sure_model(
    policy: Policy, confidence: float, tier: int
) -> None:
    """Check that without a crisis cue only a very sure crisis intent escalates to tier 5."""
    h = heads("crisis", "negative", conf=confidence, reply_action="public", tier="3")
    assert run(policy, "this is unbelievable", h).tier == tier


def test_tier_head_alone_never_pages_the_crisis_team(policy: Policy) -> None:
    """Check that a tier head voting 5 without any crisis rule is capped at the specialist."""
    h = heads("complaint", "negative", reply_action="public")
    h["tier"] = HeadPrediction("5", 0.7, 0.5, {"5": 0.7, "4": 0.2, "3": 0.1}, False)
    d = run(policy, "the stream keeps freezing", h)
    assert d.tier == 4 and not any(r.startswith("crisis") for r in d.reply_reasons)


@pytest.mark.parametrize(
    ("intent", "reply", "floor"),
    [("complaint", "public", 3), ("outage", "public", 4), ("question", "private", 3)],
)
def test_an_answered_mention_never_sits_below_its_rubric_tier(
    policy: Policy, intent: str, reply: str, floor: int
) -> None:
    """Check the tier floors: a private matter and an answered complaint go to an agent, an
    outage to a specialist, even when the tier head says 2."""
    h = heads(intent, reply_action=reply, tier="2")
    d = run(policy, "the thing is not working for me", h)
    assert (d.reply_action, d.tier) == (reply, floor)


def test_a_question_answered_in_public_may_stay_at_tier_2(policy: Policy) -> None:
    """Check that the floors leave FAQ questions to the automated tier."""
    d = run(policy, "what time do you open?", heads("question", reply_action="public", tier="2"))
    assert (d.reply_action, d.tier) == ("public", 2)


def test_no_reply_prior_weighs_a_near_tie_towards_silence(policy: Policy) -> None:
    """Check the prior correction: a reply head at 45 % none / 55 % public leaves chatter
    alone under the shipped weight, and answers when the weight is 1 (as learned)."""
    reply = HeadPrediction(
        "public", 0.55, 0.1, {"none": 0.45, "public": 0.55, "private": 0.0}, False
    )
    h = {**heads("question", conf=0.5), "reply_action": reply}
    assert run(policy, "saw the game last night", h).reply_action == "none"
    config = {**policy.config, "no_reply": {**policy.config["no_reply"], "prior_weight": 1.0}}
    assert (
        run(replace(policy, config=config), "saw the game last night", h).reply_action == "public"
    )


CURATED = sorted((Path(__file__).resolve().parents[2] / "datasets" / "curated").glob("*.csv"))


def test_batch_policy_decides_as_one_at_a_time(policy: Policy) -> None:
    """`decide_many` over the curated corpus (texts repeated, authors ranting, a brand's volume
    spiking, the fast model's real heads) gives every mention `decide`'s very decision."""
    import pandas as pd

    from switchboard.routing.policy import decide_many
    from switchboard.routing.router import Router, mentions_from_records
    from switchboard.service.roster import load_roster
    from switchboard.training.fit import fit_bundle
    from tests.conftest import REPO_ROOT, make_cases

    frame = pd.concat([pd.read_csv(f) for f in CURATED], ignore_index=True)
    records = frame.to_dict("records")
    mentions = mentions_from_records(records + records[:50])  # repeats: cues found once
    router = Router(fit_bundle(make_cases(300), evaluate=False).bundle, policy)
    X = router.vectorise(mentions)
    found = router.bundle.predict_heads(X)
    roster = load_roster(REPO_ROOT / "datasets" / "sample" / "roster.json")
    expertise = router.expertise(X, found, roster)
    ranting = AuthorHistory(recent_mentions=6, recent_negative=5, recent_abusive=4)
    contexts = [
        Context(now=NOON_UTC, author=ranting if i % 7 == 0 else AuthorHistory(),
                volume_ratio=4.0 if i % 11 == 0 else 1.0)
        for i in range(len(mentions))
    ]  # fmt: skip
    one_by_one = [
        decide(m, h, c, roster, e, policy)
        for m, h, c, e in zip(mentions, found, contexts, expertise, strict=True)
    ]
    assert decide_many(mentions, found, contexts, roster, expertise, policy) == one_by_one
    assert len({d.reply_action for d in one_by_one}) == 3  # the corpus exercises every reply
    assert len({d.tier for d in one_by_one}) >= 4
