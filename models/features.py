"""Feature building: raw case fields in, one sparse matrix out, for training and serving alike.

`CaseFeatures` is the only place where text becomes numbers. Training fits it on the training
rows and saves the fitted object in the bundle; the service hands the same object the raw
fields of a mention. Heads share one matrix, so a mention is vectorised once however many
heads read it.

Input is anything indexable by column name that yields sequences: a pandas DataFrame, or a
plain `dict[str, list]` (what the service builds, because a one-row DataFrame costs more than
scoring it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from models.text import SURFACE_NAMES, normalise, surface_stats

CHANNELS: tuple[str, ...] = ("twitter", "facebook", "instagram", "review", "forum", "other")
Columns = Mapping[str, Sequence[Any]]


def column(frame: Columns, name: str, n: int, default: Any = None) -> list[Any]:
    """A column as a list with None for missing values, or `n` defaults when absent."""
    if name not in frame:
        return [default] * n
    values = frame[name]
    if hasattr(values, "isna"):  # pandas: turn NA/NaT/NaN into None
        values = values.astype(object).where(values.notna(), None)
    return list(values)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def meta_row(followers: Any, verified: Any, channel: Any, text: str) -> list[float]:
    """Author and surface features of one case; missing values count as zero/unknown."""
    f = 0.0 if _is_missing(followers) else max(float(followers), 0.0)
    v = 1.0 if (not _is_missing(verified) and bool(verified)) else 0.0
    ch = str(channel).lower() if not _is_missing(channel) else "other"
    onehot = [1.0 if ch == c else 0.0 for c in CHANNELS]
    if ch not in CHANNELS:
        onehot[-1] = 1.0
    return [math.log1p(f) / 16.0, v, *onehot, *surface_stats(text)]


META_NAMES: tuple[str, ...] = (
    "log_followers",
    "verified",
    *(f"channel={c}" for c in CHANNELS),
    *SURFACE_NAMES,
)


class CaseFeatures(TransformerMixin, BaseEstimator):
    """Word and character tf-idf of the normalised text plus author/surface features.

    Word n-grams carry topic; character n-grams survive typos, elongations, emoji and
    languages without whitespace tokenisation; the meta block lets influence and shouting
    matter without hand-written rules.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_features: int = 200_000,
        meta_weight: float = 1.0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.meta_weight = meta_weight

    def _vectorisers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        common = {
            "lowercase": False,
            "min_df": self.min_df,
            "max_features": self.max_features,
            "sublinear_tf": True,
            "dtype": np.float32,
        }
        word = TfidfVectorizer(
            analyzer="word",
            ngram_range=self.word_ngrams,
            token_pattern=r"(?u)\b\w+\b|[^\w\s]",
            **common,
        )
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, **common)
        return word, char

    def _prepare(self, X: Columns) -> tuple[list[str], sp.csr_matrix]:
        """Normalised texts and the meta block: the work shared by fit and transform."""
        raw = list(X["text"])
        n = len(raw)
        meta = np.asarray(
            [
                meta_row(f, v, c, t)
                for f, v, c, t in zip(
                    column(X, "author_followers", n),
                    column(X, "author_verified", n),
                    column(X, "channel", n),
                    raw,
                    strict=True,
                )
            ],
            dtype=np.float32,
        ).reshape(n, len(META_NAMES))
        return [normalise(t) for t in raw], sp.csr_matrix(meta * self.meta_weight)

    def fit_transform(self, X: Columns, y: Any = None, **_: Any) -> sp.csr_matrix:
        """Fit and transform in one pass over the texts (training's hot spot)."""
        texts, meta = self._prepare(X)
        word, char = self._vectorisers()
        blocks = []
        for vec in (word, char):
            try:
                blocks.append(vec.fit_transform(texts))
            except ValueError:  # a tiny corpus may leave no term with min_df documents
                blocks.append(vec.set_params(min_df=1).fit_transform(texts))
        self.word_ = word
        self.char_ = char
        self.n_features_out_ = len(word.vocabulary_) + len(char.vocabulary_) + len(META_NAMES)
        return sp.hstack([*blocks, meta], format="csr", dtype=np.float32)

    def fit(self, X: Columns, y: Any = None) -> CaseFeatures:
        self.fit_transform(X)
        return self

    def transform(self, X: Columns) -> sp.csr_matrix:
        check_is_fitted(self, "word_")
        texts, meta = self._prepare(X)
        blocks = [self.word_.transform(texts), self.char_.transform(texts), meta]
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "word_")
        return np.concatenate(
            [
                np.char.add("w:", self.word_.get_feature_names_out().astype(str)),
                np.char.add("c:", self.char_.get_feature_names_out().astype(str)),
                np.asarray([f"m:{n}" for n in META_NAMES]),
            ]
        )
