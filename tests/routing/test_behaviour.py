"""Behavioural tests of the default model and policy on rubric cases (datasets/RUBRIC.md).

Made With ML style: minimum functionality (the rubric's worked examples), invariance (the
brand's name and the author's reach change nothing), directional (a legal threat raises the
tier). The model is the one `make run` trains, from the shipped data.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchboard.data.shipped import load_default_training
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router
from switchboard.routing.types import Decision, Mention
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, fit_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def router() -> Router:
    frame = load_default_training().accepted
    config = TrainConfig(second_opinion=True)  # as `make run` trains it: with the cascade
    bundle = fit_bundle(frame, config, evaluate=False).bundle
    return Router(bundle, load_policy(Settings().policy_file))


def decide(router: Router, text: str, **mention: object) -> Decision:
    return router.recommend([Mention(id="t", text=text, **mention)])[0].decision  # type: ignore[arg-type]


# The rubric's worked examples: text, acceptable replies, lowest and highest acceptable tier.
WORKED = [
    ("@SkyAir my daughter had an allergic reaction to the 'nut free' snack on flight 221",
     {"public", "private"}, 5, 5),
    ("@VoltMobile my charger exploded last night and scorched the desk",
     {"public", "private"}, 5, 5),
    ("@BurgerBarn found a piece of glass in my fries at the Leeds branch",
     {"public", "private"}, 5, 5),
    ("i honestly dont want to be here anymore, cant do this", {"private"}, 5, 5),
    ("@NorthBank I've spoken to my lawyer, see you in court", {"public", "private"}, 5, 5),
    ("Hi @SkyAir, reporter at the Herald here, can you comment on today's grounding?",
     {"public", "private"}, 5, 5),
    ("@BurgerBarn hope your HQ burns to the ground lol", {"none"}, 1, 1),
    ("WIN a free iPhone!!! follow + RT @BurgerBarn #giveaway", {"none"}, 1, 1),
    ("@NorthBank you charged me twice for the same transfer, I want my money back",
     {"private"}, 3, 4),
    ("@NorthBank there's a purchase on my card I never made", {"private"}, 3, 4),
    ("@ShopNow order #A1234567 still hasn't arrived", {"private"}, 3, 3),
    ("@SkyAir need to change my booking, ref QX7P2L", {"private"}, 3, 3),
    ("@NorthBank ¿me pueden devolver el dinero? me cobraron dos veces", {"private"}, 3, 4),
    ("@VoltMobile mein Handy-Akku ist explodiert", {"public", "private"}, 5, 5),
]  # fmt: skip


@pytest.mark.parametrize(("text", "replies", "lo", "hi"), WORKED)
def test_rubric_worked_example(
    router: Router, text: str, replies: set[str], lo: int, hi: int
) -> None:
    """Check that each worked example of the rubric gets an acceptable reply and tier."""
    d = decide(router, text)
    assert d.reply_action in replies and lo <= d.tier <= hi, (d.reply_action, d.tier, d.rules)


SELF_HARM = [
    "honestly I just want to end my life, nothing matters anymore",
    "i'm going to kill myself tonight, sorry everyone",
    "ya no quiero vivir, me quiero morir",
    "je veux en finir, je n'en peux plus",
    "ich will nicht mehr leben",
    "quero morrer, não aguento mais",
]


@pytest.mark.parametrize("text", SELF_HARM)
def test_self_harm_always_reaches_the_crisis_team(router: Router, text: str) -> None:
    """Check that a self-harm statement is tier 5, answered privately, in every language."""
    d = decide(router, text)
    assert (d.reply_action, d.tier) == ("private", 5)


BRAND_TEXTS = [
    "@{b} my flight was cancelled and nobody at the desk can rebook me",
    "@{b} love the new app, thank you!",
    "@{b} you charged me twice this month",
    "@{b} is the website down for everyone?",
    "@{b} worst company ever",
]


@pytest.mark.parametrize("template", BRAND_TEXTS)
def test_brand_name_changes_nothing(router: Router, template: str) -> None:
    """Check invariance: the same mention to another brand gets the same reply and tier."""
    decisions = {
        (d.reply_action, d.tier)
        for d in (decide(router, template.format(b=b)) for b in ("SkyAir", "NorthBank", "Zyxo"))
    }
    assert len(decisions) == 1, decisions


@pytest.mark.parametrize("template", BRAND_TEXTS)
def test_followers_change_priority_never_reply_or_tier(router: Router, template: str) -> None:
    """Check invariance: an influencer gets the same reply and tier, only sooner."""
    text = template.format(b="SkyAir")
    small, big = (
        decide(router, text, author_followers=12),
        decide(router, text, author_followers=2_000_000, author_verified=True),
    )
    assert (small.reply_action, small.tier) == (big.reply_action, big.tier)
    if small.reply_action != "none":
        assert big.priority >= small.priority and big.sla_seconds <= small.sla_seconds


@pytest.mark.parametrize(
    "text",
    [
        "@SkyAir my bag never arrived in Boston",
        "@NorthBank the app keeps logging me out",
        "@ShopNow the blender I bought is already broken",
    ],
)
def test_a_lawyer_raises_the_tier(router: Router, text: str) -> None:
    """Check direction: the same complaint with a legal threat goes to the crisis team."""
    before = decide(router, text)
    after = decide(router, text + " - my lawyer will be in touch")
    assert after.tier > before.tier and after.tier == 5


def test_abuse_wishing_harm_is_not_a_safety_report(router: Router) -> None:
    """Check that "hope you burn" is a troll left alone, while a real burn escalates."""
    assert decide(router, "@BurgerBarn burn in hell, all of you").reply_action == "none"
    assert decide(router, "@BurgerBarn the coffee lid came off and burned my hand").tier == 5


def test_same_input_same_decision(router: Router) -> None:
    """Check determinism: scoring twice gives the same decision."""
    text = "@SkyAir need to change my booking, ref QX7P2L"
    assert decide(router, text) == decide(router, text)


def test_decision_does_not_depend_on_the_mention_id(router: Router) -> None:
    """Check that ids are bookkeeping, not features."""
    a = router.recommend([Mention(id="1", text="@SkyAir where is my refund")])[0].decision
    m = replace(Mention(id="1", text="@SkyAir where is my refund"), id="zzz")
    assert router.recommend([m])[0].decision == a
