"""The serving fast paths compute exactly what the plain scikit-learn / scipy paths compute.

`CaseFeatures.rows` re-implements `TfidfVectorizer.transform` on raw arrays, and the stacked
heads re-implement each head's product and its explanation; a drift between them and what
training fitted would be silent train/serve skew, so every path is compared here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from switchboard.ml.features import META_INPUTS, CaseFeatures, Rows, char_wb_ngrams, meta_row
from switchboard.ml.heads import LinearHead
from switchboard.ml.text import normalise
from switchboard.training.fit import TrainResult, fit_bundle

ODD_TEXTS = [
    "a",
    "  spaced    out\ttext\n",
    "I  ❤️ it!!! 😡😡 #fail",
    "東京 の 注文 #A1234567 はどこ?",
    "x" * 300,
    "ab cd ef gh",
]


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    from tests.conftest import make_cases

    return make_cases(400)


@pytest.fixture(scope="module")
def trained(cases: pd.DataFrame) -> TrainResult:
    return fit_bundle(cases)


def _sklearn_reference(feats: CaseFeatures, frame: pd.DataFrame) -> np.ndarray:
    """What the fitted vectorisers themselves produce, plus the meta block."""
    texts = [normalise(t) for t in frame["text"]]
    meta = np.array(
        [
            meta_row(*(frame[c].iloc[i] if c in frame else None for c in META_INPUTS), t)
            for i, t in enumerate(frame["text"])
        ]
    )
    return sp.hstack(
        [feats.word_.transform(texts), feats.char_.transform(texts), sp.csr_matrix(meta)]
    ).toarray()


def test_char_ngrams_match_scikit_learn_on_odd_text() -> None:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False)
    analyse = vec.build_analyzer()
    for text in ODD_TEXTS:
        assert char_wb_ngrams(text, 2, 5) == analyse(text)


def test_rows_equal_scikit_learn_transform(cases: pd.DataFrame) -> None:
    feats = CaseFeatures(min_df=1)
    feats.fit(cases)
    frame = pd.concat([cases.head(50), pd.DataFrame({"text": ODD_TEXTS})], ignore_index=True)
    assert np.allclose(
        feats.transform(frame).toarray(), _sklearn_reference(feats, frame), atol=1e-6
    )


def test_training_rows_get_the_serving_transform(cases: pd.DataFrame) -> None:
    """fit_transform (scikit-learn's pass) and transform (the serving pass) agree."""
    feats = CaseFeatures(min_df=1)
    fitted = feats.fit_transform(cases).toarray()
    assert np.allclose(fitted, feats.transform(cases).toarray(), atol=1e-6)


def test_one_row_path_equals_batch_path(cases: pd.DataFrame) -> None:
    feats = CaseFeatures(min_df=1)
    feats.fit(cases)
    frame = cases.head(5)
    batch = feats.transform(frame).toarray()
    for i in range(len(frame)):
        one = feats.rows(frame.iloc[i : i + 1]).to_csr().toarray()
        assert np.allclose(one, batch[i : i + 1], atol=1e-6)


@pytest.mark.parametrize("n", [1, 5, 40])  # gather path (<= 8 rows) and scipy path
def test_stacked_heads_equal_each_head(trained: TrainResult, cases: pd.DataFrame, n: int) -> None:
    bundle = trained.bundle
    X = bundle.rows(cases.head(n))
    stacked = bundle.stacked().probabilities(X)
    for name, head in bundle.heads.items():
        assert np.allclose(stacked[name], head.predict_proba(X.to_csr()), atol=1e-5)


def test_head_gather_path_equals_sparse_product(trained: TrainResult, cases: pd.DataFrame) -> None:
    head: LinearHead = trained.bundle.heads["intent"]
    X = trained.bundle.rows(cases.head(3))
    assert np.allclose(head.logits(X), head.logits(X.to_csr()), atol=1e-5)


def test_explanations_are_the_same_alone_and_in_a_batch(
    trained: TrainResult, cases: pd.DataFrame
) -> None:
    bundle = trained.bundle
    frame = cases.head(12)
    batch = bundle.predict(frame, explain=5)
    for i in range(len(frame)):
        alone = bundle.predict(frame.iloc[i : i + 1], explain=5)[0]
        for name, pred in alone.items():
            assert pred.label == batch[i][name].label
            assert pred.top_features == batch[i][name].top_features
            assert all(w > 0 for _, w in pred.top_features)


def test_explaining_afterwards_gives_the_features_of_predicting_with_explain(
    trained: TrainResult, cases: pd.DataFrame
) -> None:
    """`explain_heads` (the service's path, explaining only when asked) fills in the same top
    features that `predict_heads(explain=...)` computes, for a batch and for one row alone, and
    leaves the answers as they were."""
    bundle = trained.bundle
    for frame in (cases.head(12), cases.head(1)):
        X = bundle.rows(frame)
        with_explain = bundle.predict_heads(X, explain=5)
        plain = bundle.predict_heads(X)
        before = [{k: (p.label, p.probabilities) for k, p in h.items()} for h in plain]
        bundle.explain_heads(X, plain, 5)
        assert before == [{k: (p.label, p.probabilities) for k, p in h.items()} for h in plain]
        for a, b in zip(plain, with_explain, strict=True):
            for name in a:
                assert a[name].top_features == b[name].top_features, name


def test_explanation_is_the_largest_weight_times_value(
    trained: TrainResult, cases: pd.DataFrame
) -> None:
    """The top feature really is the entry with the largest positive contribution."""
    bundle = trained.bundle
    row = bundle.rows(cases.head(1))
    pred = bundle.predict_heads(row, explain=3)[0]["intent"]
    head = bundle.heads["intent"]
    k = head.classes.index(pred.label)
    contrib = row.data * head.coef[k, row.indices]
    assert pred.top_features[0][0] == bundle.feature_names()[row.indices[contrib.argmax()]]


def test_empty_row_scores_to_the_intercepts(trained: TrainResult) -> None:
    head = trained.bundle.heads["sentiment"]
    width = head.coef.shape[1]
    empty = Rows(np.empty(0, np.float32), np.empty(0, np.int32), np.zeros(2, np.int64), width)
    assert np.allclose(head.logits(empty), head.intercept)


def test_appending_dense_columns_equals_scipy_hstack(cases: pd.DataFrame) -> None:
    """Check that `Rows.with_dense` builds exactly scipy's hstack, empty rows included."""
    features = CaseFeatures().fit(cases)
    frame = {"text": ["", *cases["text"].head(5)]}
    rows = features.rows(frame)
    dense = np.random.default_rng(0).normal(size=(rows.shape[0], 7)).astype(np.float32)
    got = rows.with_dense(dense).to_csr()
    want = sp.hstack([rows.to_csr(), sp.csr_matrix(dense)], format="csr")
    assert got.shape == want.shape and (got != want).nnz == 0


def test_semantic_block_serves_the_matrix_it_was_trained_on(cases: pd.DataFrame) -> None:
    """Check that a bundle whose heads chose the semantic block scores identically through the
    fast row path and the training path (tf-idf + block, stacked by scipy)."""
    from switchboard.ml.embedding import SemanticBlock
    from switchboard.training.fit import TrainConfig

    bundle = fit_bundle(cases, TrainConfig(min_embedding_gain=-1.0), evaluate=False).bundle
    assert isinstance(bundle.embedder, SemanticBlock)
    frame = {"text": list(cases["text"].head(20)) + ODD_TEXTS}
    fast, slow = bundle.rows(frame), bundle.vectorise(frame)
    assert (fast.to_csr() != slow).nnz == 0
    for head in bundle.heads.values():
        np.testing.assert_allclose(head.predict_proba(fast), head.predict_proba(slow), rtol=1e-5)


def test_batch_explanation_survives_a_short_last_row(
    trained: TrainResult, cases: pd.DataFrame
) -> None:
    """Check a batch whose last row has fewer entries than the explanation asks for (a one-
    character text after a long one) is explained as each row alone, not an IndexError."""
    bundle = trained.bundle
    frame = cases.head(2).copy()
    frame["text"] = ["my bag never arrived and nobody answers the phone, so annoyed", "("]
    batch = bundle.predict(frame, explain=5)
    for i in range(len(frame)):
        alone = bundle.predict(frame.iloc[i : i + 1], explain=5)[0]
        assert {n: p.top_features for n, p in alone.items()} == {
            n: p.top_features for n, p in batch[i].items()
        }
