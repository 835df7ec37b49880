"""Feature building: raw case fields in, one sparse matrix out, for training and serving alike.

`CaseFeatures` is the only place where text becomes numbers. Training fits it on the training
rows and saves the fitted object in the bundle; the service hands the same object the raw
fields of a mention. Heads share one matrix, so a mention is vectorised once however many
heads read it.

Input is anything indexable by column name that yields sequences: a pandas DataFrame, or a
plain `dict[str, list]` (what the service builds, because a one-row DataFrame costs more than
scoring it).

Serving speed: scikit-learn's `TfidfVectorizer.transform` and scipy's `csr_matrix` spend most
of their time on input checks, not arithmetic, when they see one mention (bench/serving.py
measured ~1 ms). `CaseFeatures.rows` therefore builds the CSR arrays itself, with the fitted
vectorisers' vocabularies and idf weights, so it yields exactly the matrix
`TfidfVectorizer.transform` would (tests/ml/test_fast_paths.py, tests/ml/test_hashed_ngrams.py).
A batch is cut into n-grams and looked up in numpy, all texts at once (ml/hashed_ngrams.py);
one mention's word n-grams are cut in C and its char n-grams come per remembered word
(`_char_ids`); vectorisers the hashed path does not reproduce keep the Python analyzers.
`transform` is `rows(...).to_csr()`: training's validation and test rows, evaluation and the
service all go through it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from switchboard.ml.hashed_ngrams import TOKEN_PATTERN, CodePoints, NgramIndex, Powers
from switchboard.ml.text import (
    SURFACE_NAMES,
    normalise,
    normalise_batch,
    surface_matrix,
    surface_stats,
)

# Words whose n-gram columns an explanation remembers (`CaseFeatures.word_columns`), per
# featuriser: a few MB at most, emptied when full.
WORD_CACHE = 50_000
# Unseen words of one text cut by the analyzer one by one; more go through the hashed path.
INLINE_WORDS = 8
_TOKEN = re.compile(TOKEN_PATTERN)

CHANNELS: tuple[str, ...] = ("twitter", "facebook", "instagram", "review", "forum", "other")
Columns = Mapping[str, Sequence[Any]]
Ids = tuple[np.ndarray, np.ndarray]  # (row, vocabulary column) of each n-gram of a batch


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
    """Channel and surface features of one case; a missing channel counts as "other".

    The author's reach is deliberately not a feature: influence may buy speed (priority,
    SLA, in the policy), never a different reply or tier (datasets/RUBRIC.md), and a head that
    read follower counts learnt exactly that. Its two columns stay, always zero, so that
    bundles trained before keep their column layout.
    """
    return [0.0, 0.0, *_channel(channel), *surface_stats(text)]


def _channel(channel: Any) -> list[float]:
    ch = str(channel).lower() if not _is_missing(channel) else "other"
    onehot = [1.0 if ch == c else 0.0 for c in CHANNELS]
    if ch not in CHANNELS:
        onehot[-1] = 1.0
    return onehot


def meta_block(X: Columns, raw: list[str]) -> np.ndarray:
    """`meta_row` of every case of a batch, (n, len(META_NAMES)) float64: the surface
    features in one numpy pass over the batch (`surface_matrix`), not per text."""
    n = len(raw)
    meta = np.zeros((n, len(META_NAMES)), dtype=np.float64)
    if n:
        meta[:, 2 : 2 + len(CHANNELS)] = [_channel(c) for c in column(X, "channel", n)]
        meta[:, 2 + len(CHANNELS) :] = surface_matrix(raw)
    return meta


# The case columns `meta_row` reads besides the text, in its argument order.
META_INPUTS: tuple[str, ...] = ("author_followers", "author_verified", "channel")

META_NAMES: tuple[str, ...] = (
    "log_followers",
    "verified",
    *(f"channel={c}" for c in CHANNELS),
    *SURFACE_NAMES,
)


@dataclass(frozen=True, slots=True)
class Rows:
    """A batch of feature rows as raw CSR arrays (float32 data, int32 indices, int64 indptr).

    Heads read these directly (`models/heads.py`); `to_csr` makes a scipy matrix when a
    library needs one.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.width

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature indices and values of row `i`."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.indices[lo:hi], self.data[lo:hi]

    def to_csr(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def with_dense(self, dense: np.ndarray) -> Rows:
        """These rows with `dense`'s columns appended after `width` (the semantic block).

        Plain numpy, no scipy hstack: on one mention this is a few µs, not ~100.
        """
        n, d = dense.shape
        if n == 1:  # one mention: two concatenations
            cols = np.arange(self.width, self.width + d, dtype=np.int32)
            return Rows(
                np.concatenate([self.data, dense[0].astype(np.float32, copy=False)]),
                np.concatenate([self.indices, cols]),
                np.array([0, len(self.data) + d], dtype=np.int64),
                self.width + d,
            )
        counts = np.diff(self.indptr)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts + d, out=indptr[1:])
        data = np.empty(indptr[-1], dtype=np.float32)
        indices = np.empty(indptr[-1], dtype=np.int32)
        starts = indptr[:-1]
        sparse_pos = np.repeat(starts - self.indptr[:-1], counts) + np.arange(len(self.data))
        data[sparse_pos], indices[sparse_pos] = self.data, self.indices
        dense_pos = ((starts + counts)[:, None] + np.arange(d)).ravel()
        data[dense_pos] = dense.ravel()
        indices[dense_pos] = np.tile(np.arange(self.width, self.width + d, dtype=np.int32), n)
        return Rows(data, indices, indptr, self.width + d)


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer (no lower-casing, no accent stripping), 2-3x faster.

    Each whitespace-separated word, padded with one space, gives its n-grams for n in
    [lo, hi]; a word no longer than n gives itself once. `fit_transform` uses scikit-learn's
    own analyzer, so tests/model/test_features.py proves the two agree on real and odd text.
    """
    grams: list[str] = []
    for word in text.split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            if size <= n:
                grams.append(w)
                break
            grams += [w[i : i + n] for i in range(size - n + 1)]
    return grams


def word_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """scikit-learn's `word` analyzer for `TOKEN_PATTERN` (no lower-casing, no stop words):
    the regex and the joins run in C (`map`), no Python loop per n-gram."""
    tokens = _TOKEN.findall(text)
    grams = list(tokens) if lo <= 1 else []
    for n in range(max(lo, 2), hi + 1):
        grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
    return grams


@dataclass(frozen=True, slots=True)
class _Block:
    """What one fitted tf-idf vectoriser contributes: analyzer, vocabulary, idf, column offset."""

    analyse: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int

    @classmethod
    def of(cls, vec: TfidfVectorizer, offset: int) -> _Block:
        idf = np.asarray(vec.idf_, dtype=np.float64)
        analyse = vec.build_analyzer()
        plain = not vec.lowercase and vec.strip_accents is None and vec.preprocessor is None
        if vec.analyzer == "char_wb" and plain:
            analyse = partial(char_wb_ngrams, lo=vec.ngram_range[0], hi=vec.ngram_range[1])
        elif (
            vec.analyzer == "word"
            and plain
            and vec.tokenizer is None
            and vec.stop_words is None
            and vec.token_pattern == TOKEN_PATTERN
        ):
            analyse = partial(word_ngrams, lo=vec.ngram_range[0], hi=vec.ngram_range[1])
        return cls(analyse, vec.vocabulary_, idf, offset)

    def term_ids(self, text: str) -> np.ndarray:
        """Vocabulary index of every n-gram of `text`, -1 for n-grams outside the vocabulary."""
        grams = self.analyse(text)
        return np.fromiter(map(self.vocabulary.get, grams, repeat(-1)), np.int64, len(grams))

    def weigh(
        self, rows: np.ndarray, terms: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, value) of sublinear tf x idf, L2-normalised per row, for a batch of `n`
        texts whose n-grams are (`rows`, `terms`), in any order, -1 for unknown terms.

        The arithmetic of `TfidfVectorizer.transform`, done once for the whole batch.
        """
        width = len(self.idf)
        known = terms >= 0
        keys, tf = np.unique(rows[known] * width + terms[known], return_counts=True)
        row, col = np.divmod(keys, width)
        vals = (np.log(tf) + 1.0) * self.idf[col]
        norms = np.sqrt(np.bincount(row, vals * vals, minlength=n))
        return row, col + self.offset, vals / norms[row]


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
            token_pattern=TOKEN_PATTERN,
            **common,
        )
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, **common)
        return word, char

    def _prepare(self, X: Columns) -> tuple[list[str], sp.csr_matrix]:
        """Normalised texts and the meta block: the work shared by fit and transform."""
        raw = list(X["text"])
        meta = meta_block(X, raw).astype(np.float32)
        return normalise_batch(raw), sp.csr_matrix(meta * self.meta_weight)

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
        self._blocks = None
        self._fast = False
        self._idf_all = None
        return sp.hstack([*blocks, meta], format="csr", dtype=np.float32)

    def fit(self, X: Columns, y: Any = None) -> CaseFeatures:
        self.fit_transform(X)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_blocks", None)  # derived from the vectorisers; rebuilt after loading
        state.pop("_words", None)
        state.pop("_fast", None)
        state.pop("_chars", None)
        state.pop("_idf_all", None)
        return state

    def _fitted_blocks(self) -> tuple[_Block, _Block]:
        blocks = getattr(self, "_blocks", None)
        if blocks is None:
            check_is_fitted(self, "word_")
            n_word = len(self.word_.vocabulary_)
            blocks = (_Block.of(self.word_, 0), _Block.of(self.char_, n_word))
            self._blocks = blocks
        return blocks

    def _fast_index(self) -> tuple[NgramIndex, NgramIndex, Powers] | None:
        """Both vocabularies as sorted hashes (ml/hashed_ngrams.py), built on first use; None
        when either block cannot be reproduced exactly there, and the Python path serves."""
        fast = getattr(self, "_fast", False)
        if fast is False:
            check_is_fitted(self, "word_")
            powers = Powers()
            word = NgramIndex.of(self.word_, powers)
            char = NgramIndex.of(self.char_, powers)
            fast = (word, char, powers) if word is not None and char is not None else None
            self._fast = fast
        return fast

    def text_ids(self, texts: list[str], fast: bool = True) -> tuple[Ids, Ids]:
        """(row, vocabulary column) of every word and every char n-gram of the normalised
        `texts`, one pair of arrays per block, in no particular order (-1: not in the
        vocabulary). `fast=False` is the Python path (an n-gram list and a dict look-up each),
        kept for vectorisers the hashed path does not reproduce and to test it against."""
        index = self._fast_index() if fast else None
        if index is not None:
            word_index, char_index, powers = index
            points = CodePoints.of(texts, powers)
            return word_index.ids(points), char_index.ids(points)
        word, char = self._fitted_blocks()
        out = []
        for block in (word, char):
            ids = [block.term_ids(t) for t in texts]
            rows = np.repeat(np.arange(len(ids)), [len(x) for x in ids])
            out.append((rows, np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)))
        return out[0], out[1]

    def rows(self, X: Columns, fast: bool = True) -> Rows:
        """The feature rows of `X` as CSR arrays; the fast path every transform goes through.

        One pass for the whole batch: normalise each text, cut and look up every n-gram of
        every text together (`text_ids`), weigh them together.
        """
        word, char = self._fitted_blocks()
        raw = list(X["text"])
        n = len(raw)
        if n == 1:  # the service's single-mention path: no batch bookkeeping
            return self._one_row(X, raw[0], word, char, fast)
        (word_rows, word_ids), (char_rows, char_ids) = self.text_ids(normalise_batch(raw), fast)
        meta = meta_block(X, raw)
        meta *= self.meta_weight
        meta_row_, meta_col = np.nonzero(meta)
        parts = [
            word.weigh(word_rows, word_ids, n),
            char.weigh(char_rows, char_ids, n),
            (
                meta_row_,
                meta_col + self.n_features_out_ - len(META_NAMES),
                meta[meta_row_, meta_col],
            ),
        ]
        row = np.concatenate([p[0] for p in parts])
        order = np.argsort(row, kind="stable")  # by row; columns stay ascending within a row
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
        return Rows(
            np.concatenate([p[2] for p in parts])[order].astype(np.float32),
            np.concatenate([p[1] for p in parts])[order].astype(np.int32),
            indptr,
            self.n_features_out_,
        )

    def _one_row(self, X: Columns, raw: str, word: _Block, char: _Block, fast: bool) -> Rows:
        """One text. Its ~20 word n-grams are cut and looked up in C (`word_ngrams`, `map`):
        cheaper than the hashed path's fixed ~30 numpy calls. Its ~400 char n-grams are each
        word's, remembered per word (`_char_ids`)."""
        text = normalise(raw)
        word_ids = word.term_ids(text)
        char_ids = self._char_ids(text) if fast else char.term_ids(text)
        # Both blocks in one np.unique: columns sorted, the word block is a prefix.
        ids = np.concatenate([word_ids[word_ids >= 0], char_ids[char_ids >= 0] + char.offset])
        col, tf = np.unique(ids, return_counts=True)
        vals = (np.log(tf) + 1.0) * self._idf()[col]
        split = int(np.searchsorted(col, char.offset))
        for part in (vals[:split], vals[split:]):
            if len(part):
                part /= math.sqrt(float(part @ part))
        meta = np.asarray(
            meta_row(*(column(X, c, 1)[0] for c in META_INPUTS), raw), dtype=np.float64
        )
        meta_col = np.flatnonzero(meta)
        indices = np.concatenate([col, meta_col + self.text_width]).astype(np.int32)
        data = np.concatenate([vals, meta[meta_col] * self.meta_weight]).astype(np.float32)
        return Rows(
            data, indices, np.array([0, len(indices)], dtype=np.int64), self.n_features_out_
        )

    def _char_ids(self, text: str) -> np.ndarray:
        """Char-block columns of the char_wb n-grams of a normalised text, as the concatenation
        of its words' (char_wb n-grams never cross a space).

        Why remembered: a mention's words were nearly all seen in earlier mentions, and one
        dict look-up per word replaces ~20 n-grams' cutting and look-ups. Unseen words are cut
        by the hashed path in one numpy pass when there are many (a pasted essay), else by
        the analyzer. Bounded like `_words`: emptied when full, never pickled.
        """
        memo = getattr(self, "_chars", None)
        if memo is None or len(memo) >= WORD_CACHE:
            memo = self._chars = {}
        words = text.split()
        parts = list(map(memo.get, words))
        missing = [w for w, p in zip(words, parts, strict=True) if p is None]
        if missing:
            memo.update(self._words_char_ids(list(dict.fromkeys(missing))))
            parts = [memo[w] for w in words]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _words_char_ids(self, words: list[str]) -> dict[str, np.ndarray]:
        """Each word's char-block columns (read-only arrays, shared through the memo)."""
        index = self._fast_index()
        if index is None or len(words) <= INLINE_WORDS:
            char = self._fitted_blocks()[1]
            out = {w: char.term_ids(w) for w in words}
            out = {w: ids[ids >= 0] for w, ids in out.items()}
        else:
            rows, cols = index[1].ids(CodePoints.of(words, index[2]))
            order = np.argsort(rows, kind="stable")
            cuts = np.cumsum(np.bincount(rows, minlength=len(words)))[:-1]
            out = dict(zip(words, np.split(cols[order], cuts), strict=True))
        for ids in out.values():
            ids.flags.writeable = False
        return out

    def _idf(self) -> np.ndarray:
        """The idf of every text column, word block then char block (derived, not pickled)."""
        idf = getattr(self, "_idf_all", None)
        if idf is None:
            word, char = self._fitted_blocks()
            idf = self._idf_all = np.concatenate([word.idf, char.idf])
        return idf

    def transform(self, X: Columns) -> sp.csr_matrix:
        return self.rows(X).to_csr()

    @property
    def text_width(self) -> int:
        """Columns of the text blocks (word and char n-grams); meta features come after."""
        return self.n_features_out_ - len(META_NAMES)

    def word_columns(
        self, words: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Which feature columns each of a text's words accounts for: an explanation maps the
        heads' per-column contributions back onto the words of the mention.

        `words` are the text's whitespace-separated words as written; each is normalised on its
        own (what `normalise` does to a whole text, up to placeholders spanning a space).
        Returns the columns of every word's character n-grams and word unigrams, repeated as
        often as they occur, with the index of the word each belongs to (two arrays); then each
        word n-gram longer than one as (column, first word, last word).
        """
        word, _ = self._fitted_blocks()
        lo, hi = self.word_.ngram_range
        known = list(map(self._one_word, words))
        if not known:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), []
        cols = np.concatenate([k[0] for k in known])
        owner = np.repeat(np.arange(len(known)), [len(k[0]) for k in known])
        tokens = [t for k in known for t in k[1]]
        owners = [i for i, k in enumerate(known) for _ in k[1]]
        vocab, spans = word.vocabulary, []
        for n in range(max(lo, 2), hi + 1):
            grams = map(" ".join, zip(*(tokens[j:] for j in range(n)), strict=False))
            for k, c in enumerate(map(vocab.get, grams)):
                if c is not None:
                    spans.append((c + word.offset, owners[k], owners[k + n - 1]))
        return cols, owner, spans

    def _one_word(self, raw: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """A word's n-gram columns and word tokens, remembered: most words of a mention ("my",
        "order") were seen in an earlier one, and normalising and cutting them is the cost."""
        cache = getattr(self, "_words", None)
        if cache is None or len(cache) >= WORD_CACHE:
            cache = self._words = {}  # derived, dropped when full; never pickled
        known = cache.get(raw)
        if known is not None:
            return known
        word, char = self._fitted_blocks()
        text = normalise(raw)
        grams = map(char.vocabulary.get, char.analyse(text))
        cols = [c + char.offset for c in grams if c is not None]
        toks = tuple(_TOKEN.findall(text))
        if self.word_.ngram_range[0] <= 1:
            cols += [word.vocabulary[t] + word.offset for t in toks if t in word.vocabulary]
        array = np.asarray(cols, dtype=np.int64)
        array.flags.writeable = False
        cache[raw] = array, toks
        return array, toks

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "word_")
        return np.concatenate(
            [
                np.char.add("w:", self.word_.get_feature_names_out().astype(str)),
                np.char.add("c:", self.char_.get_feature_names_out().astype(str)),
                np.asarray([f"m:{n}" for n in META_NAMES]),
            ]
        )
