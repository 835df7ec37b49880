"""Drawing mentions: when they arrive, who writes them, their tone, and their noisy text."""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from switchboard.data.schema import SENTIMENTS
from switchboard.data.synth.phrases import (
    CLOSERS,
    COUNTS,
    CURRENCY,
    EMOJI,
    EN_TEMPLATES,
    FOREIGN_TEMPLATES,
    HASHTAGS,
    NUMBER_SUFFIX_SHARE,
    NUMBER_SUFFIXES,
    OPENERS,
    ORDER_LETTERS,
    OUTLETS,
    PLACES,
    SHARED_BY_INTENT,
    SHARED_SHARE,
    SPAM_DOMAINS,
    STRETCHY,
    TIMES,
    VAGUE_SHARE,
    VAGUE_TEMPLATES,
    VENTING_TEMPLATES,
    WEEKDAYS,
)
from switchboard.data.synth.world import (
    DAYS,
    HOUR_WEIGHTS,
    RAGE_SHARE,
    SENTIMENT_P,
    SPIKE_BRAND,
    SPIKE_HOURS,
    SPIKE_SHARE,
    Brand,
)


def _draw_categorical(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(np.array(list(weights), dtype=object), size=n, p=p / p.sum())


def spike_day(start: datetime) -> int:
    """First Saturday at least five weeks in: a normal baseline comes before the burst."""
    return next(d for d in range(35, DAYS) if (start.weekday() + d) % 7 == 5)


def _draw_offsets(
    rng: np.random.Generator, intents: np.ndarray, brands: np.ndarray, start: datetime
) -> np.ndarray:
    """Seconds after `start`; moves part of the crisis/outage traffic into one weekend burst."""
    n = len(intents)
    days = np.arange(DAYS)
    weekend = (start.weekday() + days) % 7 >= 5
    day_w = np.where(weekend, 0.85, 1.0) * (1.0 + 0.3 * days / DAYS)
    day = rng.choice(DAYS, size=n, p=day_w / day_w.sum())
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    offsets = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    share = np.array([SPIKE_SHARE.get(i, 0.0) for i in intents])
    spike = rng.random(n) < share
    window = spike_day(start) * 86_400 + 9 * 3_600
    offsets[spike] = window + rng.integers(0, SPIKE_HOURS * 3_600, int(spike.sum()))
    brands[spike] = SPIKE_BRAND
    return offsets


@dataclass(slots=True)
class Authors:
    ids: list[str]
    followers: np.ndarray
    verified: np.ndarray
    rager: np.ndarray


def _draw_authors(rng: np.random.Generator, intents: np.ndarray) -> Authors:
    """Zipf-like reuse of a pool, ~1 % influencers, and a few ragers who only post anger."""
    n = len(intents)
    pool = max(20, n // 2)
    p = 1.0 / (np.arange(pool) + 10.0)
    who = rng.choice(pool, size=n, p=p / p.sum())
    number = rng.permutation(pool)  # ids do not reveal how active an author is
    followers = np.minimum(rng.lognormal(math.log(180), 1.6, pool), 99_999).astype(np.int64)
    influencer = rng.random(pool) < 0.01
    influencer[rng.integers(0, min(pool, 50))] = True  # at least one active celebrity fan
    big = np.exp(rng.uniform(math.log(1e5), math.log(5e6), pool)).astype(np.int64)
    followers = np.where(influencer, big, followers)
    verified = np.where(influencer, rng.random(pool) < 0.6, rng.random(pool) < 0.003)
    n_ragers = min(12, max(3, n // 800))
    rager = rng.random(n) < np.array([RAGE_SHARE.get(i, 0.0) for i in intents])
    which = rng.integers(0, n_ragers, n)
    rager_followers = rng.lognormal(math.log(60), 1.0, n_ragers).astype(np.int64)
    author = np.where(rager, pool + which, number[who])
    return Authors(
        ids=[f"a{a:06d}" for a in author.tolist()],
        followers=np.where(rager, rager_followers[which], followers[who]),
        verified=np.where(rager, False, verified[who]),
        rager=rager,
    )


def _draw_sentiments(
    rng: np.random.Generator, intents: np.ndarray, rager: np.ndarray
) -> np.ndarray:
    cum = np.cumsum(np.array([SENTIMENT_P[i] for i in intents]), axis=1)
    pick = (rng.random(len(intents))[:, None] >= cum).sum(axis=1).clip(0, 2)
    out = np.array(SENTIMENTS, dtype=object)[pick]
    out[rager] = "negative"
    return out


# --------------------------------------------------------------------------------------------
# Writing the text (per row, kept tiny)


def _order_number(rnd: random.Random) -> str:
    number = f"{rnd.choice(ORDER_LETTERS)}{rnd.randrange(1_000_000, 10_000_000)}"
    return "#" + number if rnd.random() < 0.7 else number


def _account_number(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        return f"ACC-{rnd.randrange(1_000_000, 10_000_000)}"
    return f"{rnd.randrange(1000, 10000)}-{rnd.randrange(1000, 10000)}-{rnd.randrange(10, 100)}"


def _url(rnd: random.Random) -> str:
    slug = "".join(rnd.choices(string.ascii_letters, k=rnd.randint(5, 8)))
    return f"https://{rnd.choice(SPAM_DOMAINS)}/{slug}"


def _amount(rnd: random.Random, language: str) -> str:
    cents = rnd.choice(("00", "99", "50"))
    return f"{rnd.choice(CURRENCY[language])}{rnd.randrange(5, 300)}.{cents}"


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "x", "ch")) else "s")


@dataclass(slots=True)
class Row:
    """What the text of one mention depends on."""

    intent: str
    language: str
    sentiment: str
    brand: Brand
    rager: bool


SLOTS: dict[str, Callable[[random.Random, Row], str]] = {
    "product": lambda rnd, row: rnd.choice(row.brand.products),
    "products": lambda rnd, row: _plural(rnd.choice(row.brand.products)),
    "brand": lambda rnd, row: rnd.choice((row.brand.name, row.brand.short)),
    "ceo": lambda rnd, row: row.brand.ceo,
    "service": lambda rnd, row: rnd.choice(row.brand.services),
    "hazard": lambda rnd, row: rnd.choice(row.brand.hazards),
    "days": lambda rnd, row: str(rnd.randint(3, 14)),
    "place": lambda rnd, row: rnd.choice(PLACES),
    "time": lambda rnd, row: rnd.choice(TIMES),
    "weekday": lambda rnd, row: rnd.choice(WEEKDAYS),
    "outlet": lambda rnd, row: rnd.choice(OUTLETS),
    "n": lambda rnd, row: str(rnd.choice(COUNTS)),
    "amount": lambda rnd, row: _amount(rnd, row.language),
    "order": lambda rnd, row: _order_number(rnd),
    "account": lambda rnd, row: _account_number(rnd),
    "url": lambda rnd, row: _url(rnd),
}
NUMBER_SLOTS = frozenset({"order", "account"})
_FIELDS: dict[str, tuple[str, ...]] = {}


def _fields(template: str) -> tuple[str, ...]:
    """Slot names of a template, parsed once: the per-row cost must stay tiny."""
    found = _FIELDS.get(template)
    if found is None:
        found = tuple(f for _, f, _, _ in string.Formatter().parse(template) if f)
        _FIELDS[template] = found
    return found


def _fill(rnd: random.Random, template: str, row: Row) -> tuple[str, bool]:
    """The template with its slots filled, and whether it now carries an order/account number."""
    fields = _fields(template)
    text = template.format(**{f: SLOTS[f](rnd, row) for f in fields})
    return text, not NUMBER_SLOTS.isdisjoint(fields)


def _choose_template(rnd: random.Random, row: Row) -> tuple[str, bool]:
    """(template, venting): venting complaints are the ones nobody needs to answer."""
    if row.language != "en":
        return rnd.choice(FOREIGN_TEMPLATES[row.language][row.intent]), False
    u = rnd.random()
    if u < VAGUE_SHARE:
        return rnd.choice(VAGUE_TEMPLATES), False
    if u < VAGUE_SHARE + SHARED_SHARE and not row.rager:
        return rnd.choice(rnd.choice(SHARED_BY_INTENT[row.intent])), False
    if row.intent == "complaint" and rnd.random() < (0.7 if row.rager else 0.25):
        return rnd.choice(VENTING_TEMPLATES), True
    return rnd.choice(EN_TEMPLATES[row.intent]), False


def _typo(rnd: random.Random, text: str) -> str:
    """Swap two neighbouring letters or drop one, inside a plain word (never a number)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rnd.choice(candidates)
    w, j = words[i], rnd.randrange(1, len(words[i]) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rnd.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _elongate(rnd: random.Random, text: str) -> str:
    """'so' -> 'sooooo', or shouted punctuation when no stretchy word is there."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.lower() in STRETCHY]
    if not candidates:
        return text + rnd.choice(("!!!", "!!!!", "???", "?!?!"))
    i = rnd.choice(candidates)
    w = words[i]
    k = max((p for p, c in enumerate(w) if c in "aeiouy"), default=len(w) - 1)
    words[i] = w[: k + 1] + w[k] * rnd.randint(2, 5) + w[k + 1 :]
    return " ".join(words)


def _tone(rnd: random.Random, text: str, row: Row) -> str:
    if rnd.random() < 0.3:
        text = f"{rnd.choice(OPENERS[row.language][row.sentiment])} {text}"
    if rnd.random() < 0.3:
        text = f"{text} {rnd.choice(CLOSERS[row.language][row.sentiment])}"
    return text


def _shout_and_slip(rnd: random.Random, text: str, row: Row) -> str:
    if rnd.random() < (0.12 if row.language == "en" else 0.05):
        text = _typo(rnd, text)
    if rnd.random() < 0.08:
        text = _elongate(rnd, text)
    caps = 0.35 if row.rager else (0.08 if row.sentiment == "negative" else 0.02)
    return text.upper() if rnd.random() < caps else text


def _decorate(rnd: random.Random, text: str, row: Row) -> str:
    """Handles, emoji, hashtags and stray links: social noise a classifier must see past."""
    where = rnd.random()
    if where < 0.55:
        text = f"@{row.brand.handle} {text}"
    elif where < 0.70:
        text = f"{text} @{row.brand.handle}"
    if rnd.random() < (0.6 if row.intent == "spam" else 0.3):
        text = f"{text} {rnd.choice(EMOJI[row.sentiment]) * rnd.randint(1, 3)}"
    if rnd.random() < 0.22:
        tag = rnd.choice(HASHTAGS[row.intent]) if rnd.random() < 0.65 else f"#{row.brand.short}"
        text = f"{text} {tag}"
    if row.intent != "spam" and rnd.random() < 0.02:
        text = f"{text} https://pic.example/{''.join(rnd.choices(string.ascii_letters, k=6))}"
    return text


def compose(rnd: random.Random, row: Row) -> tuple[str, bool, bool]:
    """(text, has_number, venting) of one mention."""
    template, venting = _choose_template(rnd, row)
    text, has_number = _fill(rnd, template, row)
    if not has_number and rnd.random() < NUMBER_SUFFIX_SHARE.get(row.intent, 0.0):
        suffix, _ = _fill(rnd, rnd.choice(NUMBER_SUFFIXES), row)
        text, has_number = f"{text} {suffix}", True
    text = _shout_and_slip(rnd, _tone(rnd, text, row), row)
    return _decorate(rnd, text, row), has_number, venting


# --------------------------------------------------------------------------------------------
# Labels: social-care practice, then human inconsistency on top
