"""Text normalisation and feature building, shared by training and serving."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard.ml.features import META_NAMES, CaseFeatures
from switchboard.ml.text import clean, normalise, surface_stats


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Check https://t.co/abc NOW", "check xxurl now"),
        ("@united where is my bag", "xxuser where is my bag"),
        ("#fail again", "xxtag fail again"),
        ("order #A1234567 missing", "order xxordernum missing"),
        ("waited 45 minutes", "waited xxnum minutes"),
        ("soooo slow!!!!", "soo slow!!"),
        ("mail me at jo@example.com", "mail me at xxemail"),
        ("fish &amp; chips", "fish & chips"),
    ],
)
def test_normalise_replaces_noise_with_placeholders(raw: str, expected: str) -> None:
    """Check that URLs, handles, order numbers and elongations become stable tokens."""
    assert normalise(raw) == expected


def test_non_latin_scripts_and_emoji_survive_normalisation() -> None:
    """Check that Arabic, Japanese and emoji are kept for the char n-grams to read."""
    assert normalise("الخدمة سيئة 😡") == "الخدمة سيئة 😡"
    assert normalise("配達が遅い") == "配達が遅い"


def test_control_characters_are_removed() -> None:
    """Check that NUL and other C0 controls never reach the vectoriser."""
    assert "\x00" not in clean("a\x00b\x07c")


def test_surface_stats_see_shouting_and_emoji() -> None:
    """Check that capitals, exclamations and emoji are measured on the raw text."""
    calm = surface_stats("thanks for the help")
    loud = surface_stats("WHERE IS MY REFUND!!! 😡😡")
    assert loud[1] > calm[1] and loud[3] > calm[3] and loud[6] > calm[6]


def test_features_are_identical_for_batch_and_single_row() -> None:
    """Check that a mention gets the same vector alone as inside a batch (serving == training)."""
    texts = ["my order never came", "love it 😍", "@brand refund please!!"]
    feats = CaseFeatures(min_df=1).fit({"text": texts * 3})
    batch = feats.transform({"text": texts, "author_followers": [1, 2000, None]})
    single = feats.transform({"text": texts[1:2], "author_followers": [2000]})
    assert np.allclose(batch[1].toarray(), single.toarray())


def test_feature_names_cover_every_column() -> None:
    """Check that explanations can name every feature, meta features included."""
    feats = CaseFeatures(min_df=1).fit({"text": ["a b c", "b c d"]})
    names = feats.get_feature_names_out()
    assert len(names) == feats.transform({"text": ["a"]}).shape[1] == feats.n_features_out_
    assert names[-len(META_NAMES)] == "m:log_followers"


def test_missing_author_fields_count_as_unknown() -> None:
    """Check that absent followers/verified/channel do not break vectorising."""
    feats = CaseFeatures(min_df=1).fit({"text": ["x y", "y z"]})
    X = feats.transform({"text": ["x"], "author_verified": [None], "channel": [float("nan")]})
    assert X.shape[0] == 1
