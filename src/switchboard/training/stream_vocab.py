"""Pass 1 of streaming training: n-gram counts chunk by chunk, then the fitted vectorisers.

`TfidfVectorizer.fit` needs every document at once. Here each chunk is counted with the same
analyser (a `CountVectorizer` with `CaseFeatures`' own settings), the chunk's document and
term frequencies are added to a running table, and at the end the vocabulary is chosen the
way scikit-learn chooses it: terms in at least `min_df` documents, then the `max_features`
with the highest total count (ties broken as scikit-learn breaks them), indexed in sorted
order, with smooth idf = ln((1 + n) / (1 + df)) + 1. The fitted vectorisers carry that
`vocabulary_` and `idf_`, so serving reads them exactly as after an in-memory fit.

Bounded memory, and its one approximation: the running table keeps at most `cap` terms per
analyser. When it overflows, the terms with the lowest total count so far are dropped until
half of `cap` remain (a term seen again later starts counting anew). With everything in one
chunk, or no overflow, the result is exactly scikit-learn's (tests/training/test_stream.py);
after an overflow, a term's counts can be low by at most `max_dropped` (recorded), and only
terms that rare so far can have been lost: with `cap` well above `max_features` the chosen
vocabulary's heavy hitters are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from switchboard.ml.features import char_wb_ngrams

# A table entry packs (total count << 32) | document frequency into one int.
SHIFT = 32
DF_MASK = (1 << SHIFT) - 1


@dataclass(slots=True)
class TermCounts:
    """Running document and term frequencies of one analyser, at most `cap` terms."""

    vectoriser: TfidfVectorizer
    cap: int = 2_000_000  # at least 2
    table: dict[str, int] = field(default_factory=dict)
    n_docs: int = 0
    pruned: int = 0  # how many times the table overflowed
    max_dropped: int = 0  # the highest total count of a dropped term

    def add(self, texts: list[str]) -> None:
        """Count one chunk of normalised texts."""
        if not texts:
            return
        self.n_docs += len(texts)
        params = self.vectoriser.get_params()
        if (
            params["analyzer"] == "char_wb"
            and not params["lowercase"]
            and not params["strip_accents"]
        ):
            lo, hi = params["ngram_range"]  # the same n-grams, 2-3x faster (ml/features.py)
            analyse = partial(char_wb_ngrams, lo=lo, hi=hi)
            counter = CountVectorizer(analyzer=analyse, lowercase=False, dtype=np.int64)
        else:
            counter = CountVectorizer(
                analyzer=params["analyzer"],
                ngram_range=params["ngram_range"],
                token_pattern=params["token_pattern"],
                lowercase=params["lowercase"],
                dtype=np.int64,
            )
        try:
            X = counter.fit_transform(texts).tocsc()
        except ValueError:  # no term at all in this chunk
            return
        df = np.diff(X.indptr).astype(np.int64)
        tf = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
        codes = ((tf << SHIFT) | df).tolist()
        table, get = self.table, self.table.get
        for term, code in zip(counter.get_feature_names_out().tolist(), codes, strict=True):
            table[term] = get(term, 0) + code
        if len(table) > self.cap:
            self._prune()

    def _prune(self) -> None:
        """Keep the `cap // 2` terms with the highest total count (see the module docstring)."""
        terms = list(self.table)
        codes = np.fromiter(self.table.values(), dtype=np.int64, count=len(terms))
        tf = codes >> SHIFT
        keep = np.sort(np.argpartition(-tf, self.cap // 2 - 1)[: self.cap // 2])
        dropped = np.ones(len(terms), dtype=bool)
        dropped[keep] = False
        self.max_dropped = max(self.max_dropped, int(tf[dropped].max()))
        self.table = {terms[i]: int(codes[i]) for i in keep.tolist()}
        self.pruned += 1

    def fitted(self, min_df: int, max_features: int | None) -> TfidfVectorizer:
        """The vectoriser with the chosen vocabulary_ and idf_, as `fit` would have left it."""
        if not self.table:
            raise ValueError("empty vocabulary: no text had a single term")
        terms = sorted(self.table)
        codes = np.fromiter((self.table[t] for t in terms), dtype=np.int64, count=len(terms))
        df, tf = codes & DF_MASK, codes >> SHIFT
        vec = self.vectoriser
        mask = df >= min_df
        if not mask.any():  # CaseFeatures' fallback for a tiny corpus
            min_df, mask = 1, df >= 1
            vec.set_params(min_df=1)
        if max_features is not None and mask.sum() > max_features:
            # scikit-learn's choice, same arrays and dtype (float32 totals), same tie order.
            tfs = tf.astype(vec.dtype)
            chosen = (-tfs[mask]).argsort()[:max_features]
            top = np.zeros(len(df), dtype=bool)
            top[np.flatnonzero(mask)[chosen]] = True
            mask = top
        kept = np.flatnonzero(mask)
        vec.vocabulary_ = {terms[i]: j for j, i in enumerate(kept.tolist())}
        vec.fixed_vocabulary_ = False
        n = self.n_docs + 1
        idf = np.full(len(kept), n, dtype=vec.dtype)
        idf /= df[kept].astype(vec.dtype) + 1
        np.log(idf, out=idf)
        idf += 1.0
        vec.idf_ = idf
        return vec

    def summary(self) -> dict[str, Any]:
        return {
            "documents": self.n_docs,
            "terms_counted": len(self.table),
            "overflows": self.pruned,
            "max_dropped_count": self.max_dropped,
        }


def count_vocabulary(
    word: TfidfVectorizer, char: TfidfVectorizer, chunks: Iterable[list[str]], cap: int
) -> tuple[TermCounts, TermCounts]:
    """Word and character counts over chunks of normalised texts."""
    counts = TermCounts(word, cap), TermCounts(char, cap)
    for texts in chunks:
        for c in counts:
            c.add(texts)
    return counts
