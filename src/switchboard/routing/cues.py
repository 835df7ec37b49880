"""Cues: cheap, explainable facts about a mention's text that the policy's rules read.

Word cues come from the policy config (so they are versioned with it); pattern cues (order and
account numbers, e-mail, phone, card) are regular expressions here because they describe the
shape of personal data, not a business choice. Everything is compiled once, at policy load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from switchboard.ml.text import clean

PATTERNS: dict[str, re.Pattern[str]] = {
    "order_number": re.compile(
        r"(?:order|booking|ticket|pedido|commande|bestellung)\W{0,3}#?\s?[A-Z]{0,3}\d{5,}|#[A-Z]{0,3}\d{6,}",
        re.I,
    ),
    "account_number": re.compile(
        r"(?:account|acct|cuenta|compte|konto|conta)\W{0,3}(?:no\.?|number|#)?\s?\d{5,}", re.I
    ),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),
    "phone": re.compile(
        r"(?<!\d)(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{3}\)?[\s.-]?)\d{3}[\s.-]?\d{4}(?!\d)"
    ),
    "card": re.compile(r"(?<!\d)(?:\d{4}[\s-]?){3}\d{4}(?!\d)|card ending (?:in )?\d{4}", re.I),
    "question": re.compile(r"\?"),
}


# Cues that cannot match without a digit / an "@": skipping them on texts without one halves
# the cost of `find_cues` for most mentions, with the same result.
NEED_DIGIT = frozenset({"order_number", "account_number", "phone", "card"})
NEED_AT = frozenset({"email"})
_DIGIT = re.compile(r"\d")


def compile_words(vocab: Mapping[str, Sequence[str]]) -> dict[str, re.Pattern[str]]:
    """One regex per cue: any listed word or phrase starting at a word boundary.

    Entries match as prefixes ("injur" finds "injured"); a trailing space asks for the whole
    word ("sue " finds "sue" but not "suede").
    """
    return {
        name: re.compile(r"(?<!\w)(?:" + "|".join(_word(w) for w in words) + ")")
        for name, words in vocab.items()
        if words
    }


def _word(word: str) -> str:
    stem = re.escape(word.lower().rstrip())
    return stem + r"\b" if word.endswith(" ") else stem


def find_cues(text: str, words: Mapping[str, re.Pattern[str]]) -> frozenset[str]:
    """Names of every cue present in `text`."""
    raw = clean(text)
    lower = raw.lower()
    skip = set()
    if _DIGIT.search(raw) is None:
        skip |= NEED_DIGIT
    if "@" not in raw:
        skip |= NEED_AT
    found = {name for name, rx in PATTERNS.items() if name not in skip and rx.search(raw)}
    found |= {name for name, rx in words.items() if rx.search(lower)}
    return frozenset(found)
