"""Cues the policy reads from the text."""

from __future__ import annotations

import pytest

from switchboard.routing.cues import find_cues
from switchboard.routing.policy import load_policy
from switchboard.settings import Settings

WORDS = load_policy(Settings().policy_file).words


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("order #A1234567 missing", "order_number"),
        ("my order 88812345 never came", "order_number"),
        ("account no. 12345678 locked", "account_number"),
        ("mail me at jo@example.com", "email"),
        ("call me on +1 555 123 4567", "phone"),
        ("card ending in 4242 was charged", "card"),
        ("is it down?", "question"),
        ("my lawyer says hi", "legal"),
        ("mi abogado", "legal"),
        ("the charger exploded", "safety"),
        ("refund please", "billing"),
        ("need help ASAP", "urgent"),
    ],
)
def test_cue_is_found(text: str, cue: str) -> None:
    """Check each cue on a typical phrasing."""
    assert cue in find_cues(text, WORDS)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("nice suede jacket", "legal"),
        ("our brand new store", "safety"),
        ("a billion thanks", "billing"),
        ("flight 123 delayed", "order_number"),
    ],
)
def test_lookalike_words_are_not_cues(text: str, cue: str) -> None:
    """Check whole-word entries and number lengths avoid false alarms."""
    assert cue not in find_cues(text, WORDS)


def test_digit_and_at_shortcuts_agree_with_the_full_patterns() -> None:
    """Check the cues skipped on texts without a digit or '@' could never have matched there."""
    from switchboard.routing.cues import NEED_AT, NEED_DIGIT, PATTERNS

    texts = ["call me", "order ABC please", "email me at home", "card ending in four"]
    for text in texts:
        for name in NEED_DIGIT | NEED_AT:
            assert PATTERNS[name].search(text) is None
    assert "order_number" in find_cues("order #A1234567 missing", {})
    assert "email" in find_cues("write to jo@example.com", {})


def test_batch_cues_equal_one_text_at_a_time() -> None:
    """`find_cues_many` over the curated corpus (and repeats of it) finds `find_cues`'s sets."""
    from pathlib import Path

    import pandas as pd

    from switchboard.routing.cues import find_cues_many

    curated = Path(__file__).resolve().parents[2] / "datasets" / "curated"
    texts = pd.concat([pd.read_csv(f) for f in sorted(curated.glob("*.csv"))])["text"]
    texts = [*texts.astype(str), "order #A1234567 missing", "order #A1234567 missing"]
    found = find_cues_many(texts, WORDS)
    assert found == [find_cues(t, WORDS) for t in texts]
    assert sum(1 for cues in found if cues) > len(texts) // 4  # cues are found, not none
