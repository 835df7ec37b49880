"""The words of synthetic mentions: per-intent templates in five languages, openers, closers,
emoji, hashtags (in phrases.json) and the small rules for using them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from switchboard.data.schema import CARE_INTENTS


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the generator draws from (immutable, hashable)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


# The word tables live in phrases.json beside this module: data, not code.
_TABLES: dict[str, Any] = json.loads(Path(__file__).with_name("phrases.json").read_text("utf-8"))

EN_TEMPLATES: dict[str, tuple[str, ...]] = _tuples(_TABLES["EN_TEMPLATES"])
# Complaints with nothing to act on: practice is to let them be (actionable False).
VENTING_TEMPLATES: tuple[str, ...] = _tuples(_TABLES["VENTING_TEMPLATES"])
# Too short to tell: any intent may be posted like this, which keeps accuracy below 100 %.
VAGUE_TEMPLATES: tuple[str, ...] = _tuples(_TABLES["VAGUE_TEMPLATES"])
VAGUE_SHARE = 0.04
# Borderline wording two intents share: the annotator could have said either, so both do.
SHARED_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    (a, b): tuple(texts) for (a, b), texts in _TABLES["SHARED_TEMPLATES"]
}
SHARED_SHARE = 0.10
# Extra number appended to some mentions of other intents: any number means "take it private".
SHARED_BY_INTENT: dict[str, tuple[tuple[str, ...], ...]] = {
    intent: tuple(t for pair, t in SHARED_TEMPLATES.items() if intent in pair)
    for intent in CARE_INTENTS
}
NUMBER_SUFFIX_SHARE: dict[str, float] = {"complaint": 0.08, "question": 0.05, "crisis": 0.10}
NUMBER_SUFFIXES: tuple[str, ...] = ("(order {order})", "order {order}", "ref {order}")

FOREIGN_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = _tuples(_TABLES["FOREIGN_TEMPLATES"])
# Tone words around the template: sentiment is learnable from the text, not only from intent.
OPENERS: dict[str, dict[str, tuple[str, ...]]] = _tuples(_TABLES["OPENERS"])
CLOSERS: dict[str, dict[str, tuple[str, ...]]] = _tuples(_TABLES["CLOSERS"])
EMOJI: dict[str, tuple[str, ...]] = _tuples(_TABLES["EMOJI"])
HASHTAGS: dict[str, tuple[str, ...]] = _tuples(_TABLES["HASHTAGS"])
PLACES: tuple[str, ...] = _tuples(_TABLES["PLACES"])
TIMES: tuple[str, ...] = _tuples(_TABLES["TIMES"])
WEEKDAYS: tuple[str, ...] = _tuples(_TABLES["WEEKDAYS"])
OUTLETS: tuple[str, ...] = _tuples(_TABLES["OUTLETS"])
SPAM_DOMAINS: tuple[str, ...] = _tuples(_TABLES["SPAM_DOMAINS"])
CURRENCY: dict[str, tuple[str, ...]] = _tuples(_TABLES["CURRENCY"])
COUNTS: tuple[int, ...] = (2, 3, 5, 10, 12, 20, 25, 50, 100, 200, 500)
STRETCHY = frozenset({"so", "please", "why", "no", "love", "what", "really", "still", "again"})
ORDER_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
