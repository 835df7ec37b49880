"""The labels established social-care practice gives a mention, some label noise, and what the team
did (who answered, how fast, resolved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from switchboard.data.schema import CARE_INTENTS, SENTIMENTS
from switchboard.data.synth.world import (
    CSAT_SURVEYED,
    DAYS,
    LABEL_NOISE,
    LANGUAGES,
    OFF_SHIFT_SLOWDOWN,
    ROUTE_SKILLED,
    ROUTE_TIER,
    SPIKE_HOURS,
    TIER_SPEED,
)

NO_REPLY_INTENTS = frozenset({"spam", "troll", "chatter"})
PRIVATE_INTENTS = frozenset({"account_billing", "order_issue"})
INTENT_TIER = {
    "crisis": 5,
    "outage": 4,
    "sales_lead": 4,
    "complaint": 3,
    "order_issue": 3,
    "account_billing": 3,
    "question": 2,
    "praise": 2,
    "product_idea": 2,
}
# Which intent a tired annotator confuses each one with.
CONFUSABLE = {
    "complaint": "order_issue",
    "order_issue": "complaint",
    "question": "account_billing",
    "account_billing": "question",
    "chatter": "praise",
    "praise": "chatter",
    "troll": "complaint",
    "spam": "chatter",
    "outage": "complaint",
    "product_idea": "question",
    "sales_lead": "question",
    "crisis": "complaint",
}


@dataclass(slots=True)
class Labels:
    intent: np.ndarray
    sentiment: np.ndarray
    actionable: np.ndarray
    reply_action: np.ndarray
    tier: np.ndarray


def practice_labels(
    intents: np.ndarray, sentiments: np.ndarray, has_number: np.ndarray, venting: np.ndarray
) -> Labels:
    """The ground truth the routing policy encodes, before any annotator noise."""
    actionable = ~(np.isin(intents, list(NO_REPLY_INTENTS)) | venting)
    private = np.isin(intents, list(PRIVATE_INTENTS)) | has_number
    reply = np.where(~actionable, "none", np.where(private, "private", "public")).astype(object)
    tier = np.array([INTENT_TIER.get(i, 1) for i in intents], dtype=np.int64)
    tier = np.where((intents == "question") & has_number, 3, tier)  # not a simple question
    tier = np.where(actionable, tier, 1)
    return Labels(intents.copy(), sentiments.copy(), actionable, reply, tier)


def add_label_noise(rng: np.random.Generator, labels: Labels, rate: float = LABEL_NOISE) -> None:
    """Perturb one label on ~`rate` of the rows, the way human handling is inconsistent."""
    n = len(labels.intent)
    noisy = rng.random(n) < rate
    kind = rng.integers(0, 4, n)
    flip = rng.random(n)
    for i in np.flatnonzero(noisy).tolist():
        if kind[i] == 0:
            labels.intent[i] = CONFUSABLE[labels.intent[i]]
        elif kind[i] == 1:
            step = -1 if flip[i] < 0.5 else 1
            pos = min(2, max(0, SENTIMENTS.index(labels.sentiment[i]) + step))
            labels.sentiment[i] = SENTIMENTS[pos]
        elif kind[i] == 2 and labels.actionable[i]:
            labels.tier[i] = min(5, max(2, labels.tier[i] + (-1 if flip[i] < 0.5 else 1)))
        else:
            _flip_reply(labels, i, flip[i])


def _flip_reply(labels: Labels, i: int, u: float) -> None:
    """Someone answered what needed no answer, ignored a case, or took it to DM anyway."""
    if not labels.actionable[i]:
        labels.actionable[i], labels.reply_action[i], labels.tier[i] = True, "public", 2
    elif u < 0.3:
        labels.actionable[i], labels.reply_action[i], labels.tier[i] = False, "none", 1
    else:
        labels.reply_action[i] = "public" if labels.reply_action[i] == "private" else "private"


# --------------------------------------------------------------------------------------------
# Outcomes: who answered, how fast, did it work, was the customer happy


def _on_shift_table(roster: list[dict], start: datetime) -> np.ndarray:
    """[hour since start, responder] -> on shift, with each responder's real local time."""
    hours = [start + timedelta(hours=h) for h in range(DAYS * 24 + SPIKE_HOURS)]
    table = np.zeros((len(hours), len(roster)), dtype=bool)
    for r, person in enumerate(roster):
        zone = ZoneInfo(person["timezone"])
        local = np.array([t.astimezone(zone).hour for t in hours])
        lo, hi = person["shift_start_hour"], person["shift_end_hour"]
        table[:, r] = (local >= lo) & (local < hi) if lo < hi else (local >= lo) | (local < hi)
    return table


def _membership(roster: list[dict], key: str, values: Sequence) -> np.ndarray:
    return np.array([[v in person[key] for person in roster] for v in values], dtype=bool)


def _first_nonempty(masks: Sequence[np.ndarray]) -> np.ndarray:
    """Per row, the first candidate mask that has anyone in it."""
    out = masks[-1].copy()
    done = np.zeros(len(out), dtype=bool)
    for mask in masks:
        use = mask.any(axis=1) & ~done
        out[use] = mask[use]
        done |= use
    return out


def _pick(rng: np.random.Generator, mask: np.ndarray, weight: np.ndarray) -> np.ndarray:
    cum = np.cumsum(mask * weight, axis=1)
    r = rng.random(len(mask)) * cum[:, -1]
    return (cum <= r[:, None]).sum(axis=1)


def assign_outcomes(
    rng: np.random.Generator,
    labels: Labels,
    languages: np.ndarray,
    hour_slot: np.ndarray,
    roster: list[dict],
    start: datetime,
) -> dict[str, pd.Series | np.ndarray]:
    """Noisy historical routing and its results; skill and language really change them."""
    n = len(languages)
    intent_idx = np.array([CARE_INTENTS.index(i) for i in labels.intent])
    lang_idx = np.array([tuple(LANGUAGES).index(lang) for lang in languages])
    skill = _membership(roster, "skills", CARE_INTENTS)[intent_idx]
    speaks = _membership(roster, "languages", tuple(LANGUAGES))[lang_idx]
    tier_ok = _membership(roster, "tiers", range(6))[labels.tier]
    on = _on_shift_table(roster, start)[hour_slot]
    anyone = np.ones_like(on)
    routes = (
        _first_nonempty([skill & speaks & tier_ok & on, skill & speaks & tier_ok, skill & tier_ok,
                         tier_ok & on, tier_ok, anyone]),
        _first_nonempty([tier_ok & on, tier_ok, anyone]),
        _first_nonempty([on, anyone]),
    )  # fmt: skip
    u = rng.random(n)
    mode = np.where(u < ROUTE_SKILLED, 0, np.where(u < ROUTE_SKILLED + ROUTE_TIER, 1, 2))
    mask = np.where((mode == 0)[:, None], routes[0], np.where((mode == 1)[:, None], *routes[1:]))
    capacity = np.array([p["capacity"] for p in roster], dtype=float)
    who = _pick(rng, mask, capacity)
    rows = np.arange(n)
    matched, fluent, present = skill[rows, who], speaks[rows, who], on[rows, who]
    median = np.array([p["median_response_s"] for p in roster])[who]
    speed = np.array([TIER_SPEED[t] for t in labels.tier.tolist()])
    slow = np.where(present, 1.0, OFF_SHIFT_SLOWDOWN)
    first = np.round(median * speed * slow * rng.lognormal(0.0, 0.6, n), 1)
    p_resolved = 0.28 + 0.42 * matched + 0.18 * fluent - 0.08 * (labels.tier == 5) - 0.05 * ~present
    resolved = rng.random(n) < np.clip(p_resolved, 0.03, 0.97)
    mood = 2.1 + 1.8 * resolved - 0.5 * np.log10(first / 300.0) + rng.normal(0.0, 0.7, n)
    csat = np.clip(np.round(mood), 1, 5)
    surveyed = rng.random(n) < CSAT_SURVEYED
    handled = labels.actionable
    ids = np.array([p["id"] for p in roster], dtype=object)[who]
    return {
        "responder_id": pd.Series(np.where(handled, ids, None), dtype="str"),
        "first_response_s": np.where(handled, first, np.nan),
        "resolved": pd.array(np.where(handled, resolved, None), dtype="boolean"),
        "csat": np.where(handled & surveyed, csat, np.nan),
    }


# --------------------------------------------------------------------------------------------
# Putting it together
