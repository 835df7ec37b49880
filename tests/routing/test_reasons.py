"""Explanations in care language: every rule code has a sentence, said once, most decisive first."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.ml.bundle import HeadPrediction
from switchboard.routing import policy as policy_module
from switchboard.routing import router as router_module
from switchboard.routing.policy import Policy, decide, load_policy
from switchboard.routing.reasons import SENTENCES, rule_codes, sentence, summary
from switchboard.routing.router import SECOND_OPINION
from switchboard.routing.types import Context, Mention, RuleHit
from switchboard.settings import Settings

NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(Settings().policy_file)


def _head(label: str, probabilities: dict[str, float]) -> HeadPrediction:
    conf = probabilities[label]
    return HeadPrediction(label, conf, conf, probabilities, abstain=False)


def _heads(intent: str, sentiment: str, reply: str, tier: str = "3") -> dict[str, HeadPrediction]:
    replies = {r: 0.9 if r == reply else 0.05 for r in ("public", "private", "none")}
    return {
        "intent": _head(intent, {intent: 0.9, "other": 0.1}),
        "sentiment": _head(sentiment, {sentiment: 0.9, "neutral": 0.1}),
        "reply_action": _head(reply, replies),
        "tier": _head(tier, {tier: 0.9, "2": 0.1}),
    }


def _explain(text: str, heads: dict[str, HeadPrediction], policy: Policy) -> tuple:
    mention = Mention(id="m", text=text)
    decision = decide(mention, heads, Context(now=NOON), (), {}, policy)
    return decision, summary(decision, mention, heads, policy)


def _codes_in_source() -> tuple[set[str], set[str]]:
    """Rule codes written as literals in RuleHit(...) calls, and f-string code prefixes."""
    literals, prefixes = set(), set()
    for module in (policy_module, router_module):
        tree = ast.parse(Path(module.__file__).read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "RuleHit"):
                continue
            code = node.args[0]
            if isinstance(code, ast.JoinedStr):
                prefixes.add(code.values[0].value)  # f"crisis_{c}"
                continue
            branches = [code.body, code.orelse] if isinstance(code, ast.IfExp) else [code]
            literals |= {b.value for b in branches if isinstance(b, ast.Constant)}
    return literals, prefixes


def test_every_rule_code_in_the_source_is_one_rule_codes_knows(policy: Policy) -> None:
    """Check that `rule_codes` misses no code policy.py or router.py can emit: a new RuleHit
    without a sentence fails here."""
    literals, prefixes = _codes_in_source()
    assert len(literals) >= 12  # the walk found the rules
    codes = rule_codes(policy)
    assert literals <= codes, literals - codes
    assert prefixes == {"crisis_"}
    assert {f"crisis_{c}" for c in policy.get("crisis", "cues")} <= codes
    assert set(policy.get("no_reply", "intents")) <= codes  # RuleHit(str(intent), ...)


def test_every_rule_code_has_a_sentence(policy: Policy) -> None:
    """Check that each code the policy can emit has its own sentence, without codes or
    unfilled placeholders in it."""
    mention = Mention(id="m", text="hello")
    heads = _heads("complaint", "negative", "public")
    for code in sorted(rule_codes(policy)):
        assert code in SENTENCES, f"{code} has no sentence"
        said = sentence(RuleHit(code, "some detail"), mention, heads, policy)
        assert said.endswith(".") and "{" not in said and "_" not in said, said


@pytest.mark.parametrize(
    ("text", "heads", "reply", "first_says"),
    [
        (  # a refund request: private, and why
            "I want a refund, you charged me twice for my headphones",
            _heads("complaint", "negative", "public"),
            "private",
            ["private messages", "payment", "refund"],
        ),
        (  # abuse with no ask: no reply, and why
            "hope your HQ burns down",
            _heads("complaint", "negative", "public"),
            "none",
            ["no reply", "harm", "hope your HQ burns down"],
        ),
        (  # a danger to someone: the crisis team, with the words found
            "my charger exploded and burned my hand",
            _heads("complaint", "negative", "public"),
            "public",
            ["crisis team", "exploded"],
        ),
        (  # spam on a sure model: no reply
            "win a free phone www.win.example now",
            _heads("spam", "neutral", "none", "1"),
            "none",
            ["spam", "no reply"],
        ),
        (  # no rule: the model's reading in words
            "is the app down for anyone else",
            _heads("outage", "negative", "public", "4"),
            "public",
            ["outage", "90 % sure", "public reply", "specialist"],
        ),
    ],
)
def test_summary_says_what_was_decided_and_why(
    policy: Policy, text: str, heads: dict, reply: str, first_says: list[str]
) -> None:
    decision, said = _explain(text, heads, policy)
    assert decision.reply_action == reply
    assert said and all(part in said[0] for part in first_says), said


def test_a_rule_from_a_cue_and_from_the_intent_is_said_once(policy: Policy) -> None:
    """Check that `private_account_specific` from the 'billing' cue and from the
    account_billing intent is one rule, with the cue's (more specific) detail, one sentence."""
    decision, said = _explain(
        "you charged me twice this month", _heads("account_billing", "negative", "private"), policy
    )
    codes = [r.code for r in decision.rules]
    assert codes.count("private_account_specific") == 1
    rule = next(r for r in decision.rules if r.code == "private_account_specific")
    assert "billing" in rule.detail and "intent" not in rule.detail
    assert len(said) == len(set(said)) == 1 and "('charged me')" in said[0]


def test_several_cues_of_one_rule_are_named_in_its_one_sentence(policy: Policy) -> None:
    decision, said = _explain(
        "refund my order #A1234567 please", _heads("complaint", "negative", "public"), policy
    )
    assert [r.code for r in decision.rules].count("private_account_specific") == 1
    private = [s for s in said if "private messages" in s]
    assert len(private) == 1 and "an order number" in private[0] and "payment" in private[0]
    assert "A1234567" not in " ".join(said)  # personal data is not quoted back


def test_the_deciding_rule_comes_before_the_ones_that_qualify_it(policy: Policy) -> None:
    """Check that a crisis sentence precedes the second opinion's, whatever the rule order."""
    mention = Mention(id="m", text="my charger exploded and burned my hand")
    heads = _heads("complaint", "negative", "public")
    decision = decide(mention, heads, Context(now=NOON), (), {}, policy)
    noted = type(decision)(
        **{
            **{f: getattr(decision, f) for f in decision.__slots__},
            "rules": (SECOND_OPINION, *decision.rules),
        }
    )
    said = summary(noted, mention, heads, policy)
    assert "crisis team" in said[0] and "full language model" in said[1]


def test_sentences_are_plain_words_not_codes(policy: Policy) -> None:
    """Check that no sentence shows a snake_case code or a feature name to a care lead."""
    for text in [
        "I want a refund, you charged me twice",
        "hope your HQ burns down",
        "my lawyer will hear about this, I am calling the FDA",
    ]:
        _, said = _explain(text, _heads("complaint", "negative", "public"), policy)
        for s in said:
            assert not re.search(r"\b[a-z]+_[a-z_]+\b|\b[cwm]:", s), s


def test_an_unsure_intent_never_claims_the_intent_decided_the_reply(policy: Policy) -> None:
    """Check a no-reply from the reply heads beside an unsure intent is not explained as the
    intent's usual handling (a care lead read "handling for praise applies" beside "no reply")."""
    heads = _heads("praise", "neutral", "none", tier="1")
    heads["intent"] = _head("praise", {"praise": 0.4, "chatter": 0.35, "question": 0.25})
    decision, said = _explain("lol ads are everywhere today", heads, policy)
    assert decision.reply_action == "none"
    assert "intent_default" in {r.code for r in decision.rules}
    unsure = next(s for s in said if "unsure what this is about" in s)
    assert "praise" in unsure and "handling" not in unsure and "applies" not in unsure
