"""The routing policy: model outputs + cues + context -> reply, tier, priority, SLA, responders.

Established social-care practice, as named rules with reason codes, all tunable in
`policy.toml` beside this module. Precedence, highest first:

1. crisis (a crisis cue, a sure crisis intent, a volume spike) -> tier 5, whatever else is
   true: a troll who writes "my child was injured" still escalates; self-harm goes private;
2. no reply by rule (spam, troll, chatter on a confident model; repeat ragers; abuse with no
   ask; venting without an ask);
3. private for account-, order-, billing-specific, fraud and regulated matters;
4. otherwise the models' most likely reply and tier (the tier head alone stops at the
   specialist tier); an unsure model still decides, and the mention is flagged `abstain`.
Influence (followers, verified) shortens the SLA and raises priority, capped; it never changes
the tier or the reply decision. The rules follow datasets/RUBRIC.md.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.ml.bundle import HeadPrediction
from switchboard.routing.cues import compile_words, find_cues, find_cues_many
from switchboard.routing.ranking import rank_responders
from switchboard.routing.types import (
    AuthorHistory,
    Context,
    Decision,
    Mention,
    Responder,
    RuleHit,
)
from switchboard.vocabulary import REPLY_ACTIONS, TIER_NAMES

SECTIONS = {
    "version",
    "confidence",
    "no_reply",
    "private",
    "crisis",
    "intent_defaults",
    "sla_seconds",
    "influence",
    "priority",
    "ranking",
    "cues",
    "tier_floor",
}
REPLIES = REPLY_ACTIONS


class PolicyError(Exception):
    """The policy file is invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy config with its cue regexes compiled."""

    version: str
    config: dict[str, Any]
    words: dict[str, re.Pattern[str]]

    def get(self, section: str, key: str) -> Any:
        return self.config[section][key]


def _require(config: Mapping[str, Any], section: str, keys: Sequence[str]) -> None:
    if section not in config or not isinstance(config[section], dict):
        raise PolicyError(f"policy: missing section [{section}]")
    for key in keys:
        if key not in config[section]:
            raise PolicyError(f"policy: missing key {section}.{key}")


def load_policy(path: Path) -> Policy:
    """Parse and validate the TOML policy; unknown sections and missing keys are errors."""
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"policy {path}: {exc}") from exc
    unknown = set(config) - SECTIONS
    if unknown:
        raise PolicyError(f"policy {path}: unknown key(s) {sorted(unknown)}")
    if not isinstance(config.get("version"), str) or not config["version"]:
        raise PolicyError(f"policy {path}: missing key version")
    _require(config, "confidence", ["min_confidence"])
    _require(config, "no_reply", ["intents", "repeat_rager_abusive", "repeat_rager_negative"])
    _require(config, "no_reply", ["repeat_rager_share"])
    _require(config, "private", ["intents", "cues"])
    _require(config, "crisis", ["intents", "cues", "volume_spike_ratio", "spike_intents"])
    _require(config, "crisis", ["private_cues", "intent_confidence", "model_tier_cap"])
    _require(config, "private", ["tier_4_cues"])
    _require(config, "intent_defaults", ["unknown"])
    _require(config, "sla_seconds", ["2", "3", "4", "5"])
    _require(config, "influence", ["followers_for_full_effect", "verified_counts_as"])
    _require(config, "influence", ["max_sla_cut", "max_priority_boost"])
    _require(config, "priority", ["tier_base", "negative", "urgent_cue"])
    _require(config, "ranking", ["skill_boost", "response_scale_s", "language_mismatch"])
    for intent, d in config["intent_defaults"].items():
        if d.get("reply") not in REPLIES or d.get("tier") not in TIER_NAMES:
            raise PolicyError(f"policy {path}: intent_defaults.{intent} needs reply and tier 1-5")
    return Policy(config["version"], config, compile_words(config.get("cues", {})))


def _trusted(head: HeadPrediction | None, policy: Policy) -> bool:
    return (
        head is not None
        and not head.abstain
        and head.confidence >= policy.get("confidence", "min_confidence")
    )


def _influence(mention: Mention, policy: Policy) -> float:
    """0..1 on a log scale of followers; verified counts as a floor."""
    followers = float(mention.author_followers or 0)
    if mention.author_verified:
        followers = max(followers, float(policy.get("influence", "verified_counts_as")))
    full = float(policy.get("influence", "followers_for_full_effect"))
    return min(math.log1p(followers) / math.log1p(full), 1.0)


@dataclass(slots=True)
class _Draft:
    reply: str
    tier: int
    rules: list[RuleHit]
    cues: frozenset[str]
    abstain: bool = False


def _crisis(
    cues: frozenset[str],
    intent: str | None,
    heads: Mapping[str, HeadPrediction],
    context: Context,
    policy: Policy,
) -> list[RuleHit]:
    hits = [
        RuleHit(f"crisis_{c}", f"'{c}' cue in text", cue=c)
        for c in policy.get("crisis", "cues")
        if c in cues
    ]
    head = heads.get("intent")
    sure = head is not None and head.confidence >= policy.get("crisis", "intent_confidence")
    if intent in policy.get("crisis", "intents") and sure and _trusted(head, policy):
        hits.append(RuleHit("crisis_intent", "model predicts a crisis"))
    spike = context.volume_ratio >= policy.get("crisis", "volume_spike_ratio")
    sentiment = heads.get("sentiment")
    negative = sentiment is not None and sentiment.label == "negative"
    if spike and (negative or intent in policy.get("crisis", "spike_intents")):
        hits.append(
            RuleHit("crisis_volume_spike", f"brand volume {context.volume_ratio:.1f}x usual")
        )
    return hits


def _rager(author: AuthorHistory, kind: str, policy: Policy) -> bool:
    """Enough such mentions, and mostly such mentions: volume alone marks loyal heavy posters."""
    count = getattr(author, f"recent_{kind}")
    share = count / max(author.recent_mentions, count, 1)
    enough = count >= max(1, policy.get("no_reply", f"repeat_rager_{kind}"))
    return enough and share >= policy.get("no_reply", "repeat_rager_share")


def history_decides(author: AuthorHistory, policy: Policy) -> bool:
    """Whether an author's recent history changes a decision (the repeat-rager rule): the only
    use the policy makes of it, so the batch job (batch/context.py) scores again only the
    mentions for which this holds."""
    return _rager(author, "abusive", policy) or _rager(author, "negative", policy)


def _no_reply(
    cues: frozenset[str],
    intent: str | None,
    heads: Mapping[str, HeadPrediction],
    context: Context,
    policy: Policy,
) -> RuleHit | None:
    author = context.author
    if history_decides(author, policy):
        return RuleHit(
            "repeat_rager",
            f"{author.recent_abusive} abusive / {author.recent_negative} negative recent mentions",
        )
    if "abuse" in cues and not cues & {"question", "request"}:
        return RuleHit("abuse", "wishes the brand harm, asks nothing", cue="abuse")
    if intent in policy.get("no_reply", "intents") and _trusted(heads.get("intent"), policy):
        return RuleHit(str(intent), f"model predicts {intent}")
    actionable = heads.get("actionable")
    if actionable is not None and actionable.label == "False" and _trusted(actionable, policy):
        sentiment = heads.get("sentiment")
        asks = bool(cues & {"question", "request"})
        if sentiment is not None and sentiment.label == "negative" and not asks:
            return RuleHit("venting_no_ask", "negative, no question or request")
        return RuleHit("not_actionable", "model: nothing to answer")
    return None


def _reply_from_heads(
    heads: Mapping[str, HeadPrediction], policy: Policy
) -> tuple[str, float] | None:
    """The most likely reply action and how sure the model is that a reply is (not) due.

    Whether to answer at all is decided first, on the summed probability of both ways of
    answering against "none" (the reply head's, else the actionable head's); then public or
    private. So a doubtful head still yields its most likely action; the caller flags it.

    The heads learn with balanced class weights, as if a third of mentions needed no reply; in
    a listening stream far more do, so "none" is weighed by `no_reply.prior_weight` (a prior
    correction) before the comparison, and the sureness is that of the weighed odds.
    """
    w = float(policy.config["no_reply"].get("prior_weight", 1.0))
    rm = heads.get("reply_action")
    if rm is not None and set(rm.probabilities) <= set(REPLIES):
        p = rm.probabilities
        none, answer = w * p.get("none", 0.0), p.get("public", 0.0) + p.get("private", 0.0)
    else:
        actionable = heads.get("actionable")
        if actionable is None:
            return None
        answer = actionable.probabilities.get("True", 0.0)
        none, p = w * (1.0 - answer), {"public": answer}
    total = max(none + answer, 1e-12)
    if none > answer:
        return "none", none / total
    mode = "private" if p.get("private", 0.0) > p.get("public", 0.0) else "public"
    return mode, answer / total


def wants_second_opinion(heads: Mapping[str, HeadPrediction], policy: Policy) -> bool:
    """Whether the fast heads are too unsure of the reply or the tier to decide alone: the
    cascade then asks the transformer (`Router.second_opinion`). 0 turns it off."""
    below = float(policy.config["confidence"].get("second_opinion_below", 0.0))
    if below <= 0.0:
        return False
    reply = _reply_from_heads(heads, policy)
    tier = heads.get("tier")
    return (reply is not None and reply[1] < below) or (
        tier is not None and tier.confidence < below
    )


def _tier_from_heads(
    heads: Mapping[str, HeadPrediction], reply: str, default: int, policy: Policy
) -> int:
    """The tier head's most likely tier that fits the reply: none is tier 1, a reply 2 up to
    `crisis.model_tier_cap`. Paging the crisis team takes a named crisis rule (a cue, a sure
    crisis intent, a spike), never the tier head's word alone: on real tweets it over-read
    drama in everyday talk (bench/decision.py)."""
    if reply == "none":
        return 1
    cap = int(policy.get("crisis", "model_tier_cap"))
    th = heads.get("tier")
    if th is None:
        return min(max(default, 2), cap)
    allowed = [k for k in th.probabilities if k.isdigit() and 2 <= int(k) <= cap]
    best = max(allowed, key=lambda k: th.probabilities[k]) if allowed else default
    return min(max(int(best), 2), cap)


def _model_choice(
    intent: str | None, heads: Mapping[str, HeadPrediction], policy: Policy
) -> tuple[str, int, bool, list[RuleHit]]:
    """Reply action, tier, whether a human should check, and the rules that explain it."""
    defaults = policy.config["intent_defaults"]
    d = defaults.get(intent or "unknown", defaults["unknown"])
    rules: list[RuleHit] = []
    if not _trusted(heads.get("intent"), policy):
        rules.append(RuleHit("intent_default", f"intent defaults for {intent or 'unknown'}"))
    from_heads = _reply_from_heads(heads, policy)
    if from_heads is None:  # nothing learned about replying: the intent's defaults decide
        reply, tier = d["reply"], int(d["tier"])
        unsure = not _trusted(heads.get("intent"), policy)
        if unsure and reply == "none":  # never silenced on a doubtful intent alone
            reply, tier = "public", max(tier, 3)
        return reply, (1 if reply == "none" else max(tier, 2)), unsure, rules
    reply, sure = from_heads
    unsure = sure < policy.get("confidence", "min_confidence")
    return reply, _tier_from_heads(heads, reply, int(d["tier"]), policy), unsure, rules


def _draft(
    mention: Mention,
    heads: Mapping[str, HeadPrediction],
    context: Context,
    policy: Policy,
    cues: frozenset[str] | None = None,
) -> _Draft:
    if cues is None:
        cues = find_cues(mention.text, policy.words)
    intent_head = heads.get("intent")
    intent = intent_head.label if intent_head is not None else None
    private_hits = [
        RuleHit(
            "private_account_specific" if c != "regulated" else "private_regulated",
            f"'{c}' in text",
            cue=c,
        )
        for c in policy.get("private", "cues")
        if c in cues
    ]
    if intent in policy.get("private", "intents") and _trusted(intent_head, policy):
        private_hits.append(RuleHit("private_account_specific", f"intent {intent}"))
    crisis = _crisis(cues, intent, heads, context, policy)
    if crisis:
        private = private_hits or cues & set(policy.get("crisis", "private_cues"))
        return _Draft("private" if private else "public", 5, crisis + private_hits, cues)
    reply, tier, unsure, rules = _model_choice(intent, heads, policy)
    silence = _no_reply(cues, intent, heads, context, policy)
    if silence is not None and not _private_outweighs(silence, private_hits, policy):
        return _Draft("none", 1, [*rules, silence], cues)
    if unsure:
        rules.append(RuleHit("low_confidence", "model unsure; its most likely action, checked"))
    if private_hits:
        reply, tier = "private", max(tier, 3)
        rules += private_hits
        if cues & set(policy.get("private", "tier_4_cues")):
            tier = max(tier, 4)  # fraud and hacked accounts need a specialist
    elif reply == "none":
        return _Draft("none", 1, [*rules, RuleHit("model_no_reply", "most likely")], cues, unsure)
    return _Draft(reply, _floored(reply, intent, tier, policy), rules, cues, unsure)


def _private_outweighs(silence: RuleHit, private_hits: list[RuleHit], policy: Policy) -> bool:
    """Whether a private matter overrules a no-reply rule. Personal data in a spam post ("DM
    me", a phone number) is bait, not an account matter; a subject named in a post the intent
    head is sure is spam, troll or chatter (`private.topic_cues`) is not the author's matter."""
    if not private_hits or silence.code == "spam":
        return False
    topics = set(policy.config["private"].get("topic_cues", []))
    only_topics = all(h.cue in topics for h in private_hits)
    return not (only_topics and silence.code in policy.get("no_reply", "intents"))


def _floored(reply: str, intent: str | None, tier: int, policy: Policy) -> int:
    """The rubric's lowest tier for a reply: a private matter needs an agent (R3), a complaint
    that gets an answer is an agent's (R5), an outage a specialist's (R4). The tier head alone
    put too many of these at tier 2 (bench/decision.py)."""
    floors = policy.config.get("tier_floor", {})
    floor = max(2, int(floors.get("intents", {}).get(intent or "", 0)))
    if reply == "private":
        floor = max(floor, int(floors.get("private", 0)))
    return max(tier, floor)


def _priority(
    draft: _Draft, heads: Mapping[str, HeadPrediction], influence: float, policy: Policy
) -> int:
    if draft.reply == "none":
        return 0
    p = float(policy.get("priority", "tier_base")[str(draft.tier)])
    sentiment = heads.get("sentiment")
    if sentiment is not None and sentiment.label == "negative":
        p += policy.get("priority", "negative")
    if "urgent" in draft.cues:
        p += policy.get("priority", "urgent_cue")
    p += influence * policy.get("influence", "max_priority_boost")
    return int(max(0, min(100, round(p))))


def distinct(rules: Sequence[RuleHit]) -> tuple[RuleHit, ...]:
    """Each rule code once, in first-seen order, with its most specific detail: the cues found
    ("'order_number' in text; 'billing' in text", cues joined by commas) over the model's word
    ("intent account_billing")."""
    best: dict[str, RuleHit] = {}
    for hit in rules:
        have = best.get(hit.code)
        if have is None or (hit.cue and not have.cue):
            best[hit.code] = hit
        elif hit.cue and hit.cue not in have.cue.split(","):
            best[hit.code] = RuleHit(
                hit.code, f"{have.detail}; {hit.detail}", f"{have.cue},{hit.cue}"
            )
    return tuple(best.values())


def decide(
    mention: Mention,
    heads: Mapping[str, HeadPrediction],
    context: Context,
    roster: Sequence[Responder],
    expertise: Mapping[str, float],
    policy: Policy,
    cues: frozenset[str] | None = None,
) -> Decision:
    """The recommendation for one mention; pure, no I/O. `cues`: the text's cues when the
    caller found them already (`decide_many`), else they are found here."""
    draft = _draft(mention, heads, context, policy, cues)
    influence = _influence(mention, policy)
    sla = None
    if draft.reply != "none":
        cut = influence * policy.get("influence", "max_sla_cut")
        sla = int(policy.config["sla_seconds"][str(draft.tier)] * (1.0 - cut))
    intent_head = heads.get("intent")
    if draft.reply == "none":
        responders, why = [], "no_reply"
    else:
        intent = intent_head.label if intent_head is not None else None
        responders, why = rank_responders(
            mention, draft.tier, intent, roster, expertise, context, policy
        )
    return Decision(
        reply_action=draft.reply,  # type: ignore[arg-type]
        reply_reasons=tuple(dict.fromkeys(h.code for h in draft.rules)),
        tier=draft.tier,
        tier_name=TIER_NAMES[draft.tier],
        priority=_priority(draft, heads, influence, policy),
        sla_seconds=sla,
        abstain=draft.abstain,
        rules=distinct(draft.rules),
        responders=tuple(responders),
        responders_reason=why,
    )


def decide_many(
    mentions: Sequence[Mention],
    heads: Sequence[Mapping[str, HeadPrediction]],
    contexts: Sequence[Context],
    roster: Sequence[Responder],
    expertise: Sequence[Mapping[str, float]],
    policy: Policy,
) -> list[Decision]:
    """`decide` for each mention of a batch, the same decisions (tests/routing/test_policy.py
    compares them over the curated corpus), with the batch's cues found in one call: each
    distinct text once (`find_cues_many`)."""
    cues = find_cues_many([m.text for m in mentions], policy.words)
    return [
        decide(m, h, c, roster, e, policy, cues=k)
        for m, h, c, e, k in zip(mentions, heads, contexts, expertise, cues, strict=True)
    ]
