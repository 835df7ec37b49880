"""Explanations in care language: one sentence per rule the policy or the router can emit.

`Decision.rules` carries reason codes (`private_account_specific`, `crisis_safety`) for
machines; a care lead reads the sentences made here instead, most decisive first, each quoting
the words that set it off where it helps ("It mentions a payment ('charged me twice'), so the
reply goes to private messages.").

The sentences live in this table, not beside the rules in policy.toml: codes come from code
as much as from the config (`crisis_<cue>`, the no-reply intents, the router's
`second_opinion`), so only here can one test (tests/routing/test_reasons.py) prove that every
code has a sentence; and rewording a sentence is not a policy change that should bump the
policy version every scored mention records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.ml.bundle import HeadPrediction
from switchboard.ml.text import clean
from switchboard.routing.cues import ABUSE_CUE, ABUSE_WISH, PATTERNS, fold
from switchboard.routing.policy import Policy
from switchboard.routing.types import Decision, Mention, RuleHit

CRISIS = " so it goes to the crisis team at once."
PRIVATE = " so the reply goes to private messages."

# Code -> sentence. `{found}` becomes " ('the words')" when a cue set the rule off (else "");
# `{what}` what a private cue found; `{intent}` the model's intent in words; `{detail}` the
# rule's own detail.
SENTENCES: dict[str, str] = {
    "crisis_self_harm": "It mentions self-harm{found}, so it goes to the crisis team at once "
    "and the reply is private, with care resources.",
    "crisis_safety": "It reports a danger to someone's safety{found}," + CRISIS,
    "crisis_contamination": "It reports something found in food or a product{found}," + CRISIS,
    "crisis_allergy": "It reports an allergic reaction{found}," + CRISIS,
    "crisis_recall": "It mentions a product recall{found}," + CRISIS,
    "crisis_legal": "It mentions legal action or a regulator{found}," + CRISIS,
    "crisis_media": "It mentions journalists or the press{found}," + CRISIS,
    "crisis_executive": "It is addressed to the company's executives{found}," + CRISIS,
    "crisis_intent": "The model is sure this is a crisis," + CRISIS,
    "crisis_volume_spike": "Mentions of this brand are far above their usual rate ({detail}) "
    "and this one is negative or about an outage, so it goes to the crisis team.",
    "repeat_rager": "This author's recent messages are mostly abusive or negative ({detail}), "
    "so no reply: answering would only feed it.",
    "abuse": "It wishes the brand harm{found} and asks nothing, so no reply.",
    "spam": "It reads as spam, so no reply.",
    "troll": "It reads as trolling, so no reply: an answer would reward it.",
    "chatter": "It is chatter that mentions the brand with nothing to answer, so no reply.",
    "venting_no_ask": "The author is venting: negative, but with no question or request, "
    "so no reply.",
    "not_actionable": "The model finds nothing in it to answer, so no reply.",
    "model_no_reply": "The model judges that it needs no reply.",
    "private_account_specific": "It mentions {what}{found}," + PRIVATE,
    "private_regulated": "It touches medical, insurance or financial details{found}," + PRIVATE,
    "low_confidence": "The model was unsure, so this is its best guess: a person should check it.",
    # Said whether the reply came from the reply heads or, with none, from the intent's
    # defaults: "the usual handling applies" would be wrong beside a no-reply from the heads.
    "intent_default": "The model was unsure what this is about (its best guess: {intent}).",
    "second_opinion": "The quick model was unsure, so the full language model decided from the "
    "overall wording.",
}
# A no-reply intent added to policy.toml without a sentence of its own.
NO_REPLY_INTENT = "It reads as {intent}, which the policy leaves unanswered, so no reply."
UNKNOWN = "Rule {code}: {detail}."

# What a private cue found, in words (private_account_specific's `{what}`).
PRIVATE_WHAT: dict[str, str] = {
    "order_number": "an order number",
    "account_number": "an account number",
    "email": "an email address",
    "phone": "a phone number",
    "card": "a card number",
    "billing": "a payment or a charge",
    "fraud": "possible fraud",
    "account_access": "trouble getting into an account",
    "booking": "a booking",
    "luggage": "lost or damaged luggage",
    "dm_request": "private messages",
}
INTENT_WORDS: dict[str, str] = {
    "account_billing": "an account or billing matter",
    "order_issue": "a problem with an order",
    "complaint": "a complaint",
    "question": "a question",
    "outage": "an outage",
    "praise": "praise",
    "product_idea": "a product idea",
    "sales_lead": "a sales lead",
    "crisis": "a crisis",
    "spam": "spam",
    "troll": "trolling",
    "chatter": "chatter",
}
TIER_WORDS = {
    1: "no one (monitor only)",
    2: "an automated reply",
    3: "a care agent",
    4: "a specialist",
    5: "the crisis team",
}
# Cues found only by a pattern of personal data are never quoted back (a word cue that shares
# a pattern's name, "booking", is quoted when its words, not a reference code, found it).
UNQUOTED = frozenset(PATTERNS) - {"booking"}
QUOTE_MAX = 60  # characters of a quoted cue

# Summary order: what decided the reply first (crisis, then silence, then private), then what
# only qualifies it (the model was unsure, the second opinion decided).
_RANK = {"crisis": 0, "no_reply": 1, "private": 2, "other": 3}


def rule_codes(policy: Policy) -> set[str]:
    """Every code the policy (and the router's cascade) can put in `Decision.rules`."""
    crisis = {f"crisis_{c}" for c in policy.get("crisis", "cues")}
    no_reply = set(policy.get("no_reply", "intents"))
    fixed = {
        "crisis_intent",
        "crisis_volume_spike",
        "repeat_rager",
        "abuse",
        "venting_no_ask",
        "not_actionable",
        "model_no_reply",
        "private_account_specific",
        "private_regulated",
        "low_confidence",
        "intent_default",
        "second_opinion",
    }
    return crisis | no_reply | fixed


def _kind(code: str, policy: Policy) -> str:
    if code.startswith("crisis_"):
        return "crisis"
    if code.startswith("private_"):
        return "private"
    no_reply = {"repeat_rager", "abuse", "venting_no_ask", "not_actionable", "model_no_reply"}
    if code in no_reply or code in policy.get("no_reply", "intents"):
        return "no_reply"
    return "other"


def found_words(text: str, cue: str, policy: Policy) -> str:
    """The words of `text` that set `cue` off, as written when that can be told ("" for
    personal data, or when they cannot be found again)."""
    if not cue or cue in UNQUOTED:
        return ""
    raw = clean(text)
    low = fold(raw)
    span = _find(low, raw, cue, policy)
    if span is None:
        return ""
    start, end = span
    while end < len(low) and low[end].isalnum():  # "injur" is a prefix: quote "injured"
        end += 1
    words = (raw if len(raw) == len(low) else low)[start:end].strip()
    return words if len(words) <= QUOTE_MAX else words[: QUOTE_MAX - 1].rstrip() + "…"


def _find(low: str, raw: str, cue: str, policy: Policy) -> tuple[int, int] | None:
    words: Any = policy.words
    if cue == ABUSE_CUE:
        m = ABUSE_WISH.search(low)
        return None if m is None else m.span()
    exceptions = getattr(words, "exceptions", {})
    if cue in exceptions:
        m = next((m for m in exceptions[cue].finditer(low) if m.group(1) is not None), None)
        return None if m is None else m.span(1)
    for rx, text in ((words.get(cue), low), (getattr(words, "cased", {}).get(cue), raw)):
        m = rx.search(text) if rx is not None else None
        if m is not None and m.end() > m.start():
            return m.span()
    return None  # found by a pattern (a reference code): not quoted


def sentence(
    hit: RuleHit, mention: Mention, heads: Mapping[str, HeadPrediction], policy: Policy
) -> str:
    """The care-language sentence for one rule that fired on `mention`."""
    intent_head = heads.get("intent")
    intent = intent_head.label if intent_head is not None else "unknown"
    template = SENTENCES.get(hit.code)
    if template is None:
        no_reply = hit.code in policy.get("no_reply", "intents")
        template = NO_REPLY_INTENT if no_reply else UNKNOWN
    cues = [c for c in hit.cue.split(",") if c]
    words = next(filter(None, (found_words(mention.text, c, policy) for c in cues)), "")
    if cues:
        found = [PRIVATE_WHAT.get(c, "an account, booking or payment detail") for c in cues]
        what = " and ".join(dict.fromkeys(found))
    else:  # the model's intent put it here
        what = INTENT_WORDS.get(intent, "an account, order or payment matter")
    return template.format(
        found=f" ('{words}')" if words else "",
        what=what,
        intent=INTENT_WORDS.get(intent, intent.replace("_", " ")),
        detail=hit.detail,
        code=hit.code,
    )


def model_sentence(decision: Decision, heads: Mapping[str, HeadPrediction]) -> str:
    """What the models alone decided, for a mention no rule settled."""
    intent_head = heads.get("intent")
    if intent_head is None:
        reading = "The models suggest"
    else:
        what = INTENT_WORDS.get(intent_head.label, intent_head.label.replace("_", " "))
        sure = round(intent_head.confidence * 100)
        reading = f"The model reads this as {what} ({sure} % sure) and suggests"
    if decision.reply_action == "none":
        return f"{reading} no reply."
    return f"{reading} a {decision.reply_action} reply from {TIER_WORDS[decision.tier]}."


def summary(
    decision: Decision,
    mention: Mention,
    heads: Mapping[str, HeadPrediction],
    policy: Policy,
) -> list[str]:
    """The decision in sentences, most decisive first; one per rule code."""
    ranked = sorted(decision.rules, key=lambda h: _RANK[_kind(h.code, policy)])
    out = list(dict.fromkeys(sentence(h, mention, heads, policy) for h in ranked))
    if not any(_kind(h.code, policy) != "other" for h in decision.rules):
        out.insert(0, model_sentence(decision, heads))
    return out
