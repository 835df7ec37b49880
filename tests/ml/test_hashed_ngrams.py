"""The hashed numpy n-gram path builds exactly the matrix training's vectorisers build.

`CaseFeatures.rows` cuts and looks up n-grams in numpy (ml/hashed_ngrams.py); any difference
from `TfidfVectorizer.transform` would be silent train/serve skew, so it is compared with it and
with the Python path on every kind of text the service may see.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from switchboard.data.shipped import curated_files
from switchboard.ml import hashed_ngrams
from switchboard.ml.features import META_INPUTS, CaseFeatures, meta_row, word_ngrams
from switchboard.ml.text import normalise
from tests.conftest import REPO_ROOT, make_cases, shared_dataset

ODD_TEXTS = [
    "",
    "   ",
    "\t\n ",
    "a",
    "a b c d e",
    "I  ❤️ it!!! 😡😡 #fail 👩‍👩‍👧",
    "東京 の 注文 #A1234567 はどこ? 我的订单在哪里",
    "طلبي لم يصل بعد! שלום עולם",
    "e\u0301 cafe\u0301 Zürich ﬁne ℌ ①",
    "x" * 300,
    "word " * 200,
    "_ __ a_b snake_case x²3 ½ ٣",
    "tab\tsep\u00a0nbsp\u2003em\u3000ideo",
    "!!!???...",
    "lone surrogate \ud800 here",
    "ab cd ef gh",
    " ".join(f"essay{i} w{i % 7}" for i in range(60)),  # many unseen words at once
]


def _reference(feats: CaseFeatures, texts: list[str]) -> sp.csr_matrix:
    """What the fitted scikit-learn vectorisers produce, plus the meta block."""
    norm = [normalise(t) for t in texts]
    meta = np.array([meta_row(*(None for _ in META_INPUTS), t) for t in texts])
    return sp.hstack(
        [feats.word_.transform(norm), feats.char_.transform(norm), sp.csr_matrix(meta)],
        format="csr",
    )


def _assert_exact(feats: CaseFeatures, texts: list[str]) -> None:
    """Fast batch == Python batch == scikit-learn, and fast single rows == the batch."""
    assert feats._fast_index() is not None, "the hashed path must be in use"
    frame = {"text": texts}
    fast = feats.rows(frame).to_csr()
    slow = feats.rows(frame, fast=False).to_csr()
    assert np.array_equal(fast.indptr, slow.indptr)
    assert np.array_equal(fast.indices, slow.indices)
    assert np.allclose(fast.data, slow.data, atol=1e-7)
    assert abs(fast - _reference(feats, texts)).max() < 1e-6
    for _ in range(2):  # words unseen, then remembered (`CaseFeatures._char_ids`)
        for i in range(0, len(texts), max(1, len(texts) // 25)):
            one = feats.rows({"text": [texts[i]]}).to_csr()
            assert np.array_equal(one.indices, fast[i].indices), texts[i]
            assert np.allclose(one.data, fast[i].data, atol=1e-7), texts[i]


def _fitted(texts: list[str]) -> CaseFeatures:
    """Featuriser fitted on `texts` with min_df=1, so every n-gram of them is in the vocabulary."""
    feats = CaseFeatures(min_df=1)
    feats.fit({"text": list(texts)})
    return feats


def test_code_point_classes_are_the_regex_classes() -> None:
    classes = hashed_ngrams.char_classes()
    sample = [*range(0x3000), *range(0x3000, 0x110000, 97), 0x1F600, 0x20000, 0xE0041]
    for cp in sample:
        ch = chr(cp)
        assert (classes[cp] == hashed_ngrams.WORD) == bool(re.match(r"\w", ch)), hex(cp)
        assert (classes[cp] == hashed_ngrams.SPACE) == bool(re.match(r"\s", ch)), hex(cp)


def test_word_ngrams_match_scikit_learn_on_odd_text() -> None:
    for lo, hi in ((1, 1), (1, 2), (1, 3), (2, 3)):
        vec = TfidfVectorizer(
            ngram_range=(lo, hi), lowercase=False, token_pattern=hashed_ngrams.TOKEN_PATTERN
        )
        analyse = vec.build_analyzer()
        for text in ODD_TEXTS:
            assert word_ngrams(text, lo, hi) == analyse(text), (lo, hi, text)


def test_odd_text_gets_the_training_matrix() -> None:
    feats = _fitted([*ODD_TEXTS, *make_cases(100)["text"]])
    _assert_exact(feats, ODD_TEXTS)


def test_synthetic_sample_gets_the_training_matrix() -> None:
    texts = pd.read_csv(REPO_ROOT / "datasets" / "sample" / "cases.csv")["text"].tolist()
    feats = CaseFeatures()  # min_df=2: part of each text's n-grams is out of the vocabulary
    feats.fit(pd.DataFrame({"text": texts[:1500]}))
    _assert_exact(feats, texts[-500:] + ODD_TEXTS)


@pytest.mark.slow
def test_curated_corpus_gets_the_training_matrix() -> None:
    texts = pd.concat([pd.read_csv(f, usecols=["text"]) for f in curated_files()])["text"].tolist()
    feats = CaseFeatures()
    feats.fit(pd.DataFrame({"text": texts[::2]}))
    _assert_exact(feats, texts[1::4])


@pytest.mark.slow
@pytest.mark.realdata
def test_real_tweets_get_the_training_matrix() -> None:
    path = shared_dataset("airline_sentiment")
    texts = pd.read_csv(path / "Tweets.csv", usecols=["text"])["text"].astype(str).tolist()
    feats = CaseFeatures()
    feats.fit(pd.DataFrame({"text": texts[:3000]}))
    _assert_exact(feats, texts[-1000:])


def test_empty_batch_texts_get_empty_rows() -> None:
    feats = _fitted(["hello world", "hello there"])
    rows = feats.rows({"text": ["", "   "]})
    assert rows.shape == (2, feats.n_features_out_)
    assert len(rows.indices) == _reference(feats, ["", "   "]).count_nonzero()


def test_colliding_vocabulary_keeps_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        hashed_ngrams, "term_hashes", lambda terms, powers: np.zeros(len(terms), np.uint64)
    )
    feats = _fitted(["my order is late", "where is my order"])
    assert feats._fast_index() is None
    texts = ["my order?", "late again"]
    assert abs(feats.transform({"text": texts}) - _reference(feats, texts)).max() < 1e-6


def test_a_vectoriser_cut_differently_keeps_the_python_path() -> None:
    feats = _fitted(["my order is late", "where is my order"])
    feats.word_.set_params(lowercase=True)
    assert hashed_ngrams.NgramIndex.of(feats.word_, hashed_ngrams.Powers()) is None
    feats.char_.set_params(ngram_range=(4, 6))
    assert hashed_ngrams.NgramIndex.of(feats.char_, hashed_ngrams.Powers()) is None


def test_the_hashed_index_is_not_pickled() -> None:
    import pickle

    feats = _fitted(["my order is late", "where is my order"])
    feats.rows({"text": ["my order"]})
    restored = pickle.loads(pickle.dumps(feats))
    assert not {"_fast", "_chars", "_idf_all"} & set(restored.__dict__)
    assert np.allclose(
        restored.transform({"text": ["late order"]}).toarray(),
        feats.transform({"text": ["late order"]}).toarray(),
    )
