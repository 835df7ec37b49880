"""Text normalisation and feature building, shared by training and serving."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard.ml.features import META_NAMES, CaseFeatures
from switchboard.ml.text import clean, normalise, normalise_batch, surface_matrix, surface_stats


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


SURFACE_TEXTS = [
    "",
    "   ",
    "a",
    "WHERE IS MY REFUND!!! 😡😡 ??",
    "x" * 400,
    "see https://t.co/abc and www.x.example, @acme @b_c #tag",
    "line one\nline two @next\nhttp://a.b",
    "Ǆ ǅ ǆ ΣΑΣ ß İ ½ ² ٣ 9 _ __ ①",
    "東京 の 注文 #A1234567 はどこ? طلبي لم يصل",
    "lone \ud800 surrogate ✈️ ⬛ 🀄",
]


def test_batch_surface_stats_equal_the_per_text_ones() -> None:
    from tests.conftest import make_cases

    texts = SURFACE_TEXTS + make_cases(200)["text"].tolist()
    matrix = surface_matrix(texts)
    for i, t in enumerate(texts):
        assert tuple(matrix[i]) == surface_stats(t), t
    assert surface_matrix([]).shape == (0, 7)


def test_surface_flags_are_the_regex_and_str_predicates() -> None:
    import re

    from switchboard.ml import text as text_module

    flags = text_module._surface_flags()
    for cp in [*range(0x3000), *range(0x3000, 0x110000, 89), 0x1F600, 0x2B50, 0x1D400]:
        ch = chr(cp)
        assert bool(flags[cp] & 1) == bool(re.fullmatch(r"[^\W\d_]", ch)), hex(cp)
        assert bool(flags[cp] & 2) == ch.isupper(), hex(cp)
        assert bool(flags[cp] & 4) == bool(text_module._EMOJI.fullmatch(ch)), hex(cp)


def test_batch_normalising_equals_normalising_each_text() -> None:
    import pandas as pd

    from switchboard.data.shipped import curated_files
    from tests.conftest import REPO_ROOT

    sample = pd.read_csv(REPO_ROOT / "datasets" / "sample" / "cases.csv")["text"].tolist()
    curated = pd.concat([pd.read_csv(f, usecols=["text"]) for f in curated_files()])
    odd = [*SURFACE_TEXTS, "&amp", "&#10;x&#0;", "\u0301start", "end&", "a\r\n\tb", "ʼn İ ǅ ﬁ"]
    for texts in (odd, sample[:2000], curated["text"].tolist()[:2000]):
        assert normalise_batch(texts) == [normalise(t) for t in texts]


def test_a_text_holding_the_batch_separator_is_normalised_alone() -> None:
    texts = ["a \U0010ffff b", "Hi @you"]
    assert normalise_batch(texts) == [normalise(t) for t in texts]
