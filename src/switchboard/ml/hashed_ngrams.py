"""Normalised texts -> vocabulary columns of their word and char_wb n-grams, for a whole batch,
in numpy: no Python work per character.

Why: cutting a tweet into ~400 character n-grams and looking each up in a dict is ~200 µs of
Python per mention, the largest share of scoring one (issue #14). Here the texts of a batch
are one array of code points; every n-gram is a window (char_wb) or a token span (words) of it,
hashed with a 64-bit polynomial hash computed from prefix sums in wrapping uint64 arithmetic,
and looked up with `np.searchsorted` among the sorted hashes of the fitted vocabulary. The
number of numpy calls per batch is fixed, so one mention costs tens of µs and a batch of 1,000
costs a few µs each.

Exactness: the windows and tokens are scikit-learn's (`char_wb` padding and short-word rule,
the word `token_pattern` `(?u)\\b\\w+\\b|[^\\w\\s]` as maximal runs of word characters plus
single other non-space characters, n-grams joined by one space), with Python's own notion of
`\\w` and `\\s` (a table made by numpy's `str.isalnum`/`isspace`, identical to `re`'s, checked
in tests/ml/test_hashed_ngrams.py). A vocabulary whose hashes collide is refused
(`NgramIndex.of` returns None and the caller keeps the Python path). An n-gram outside the
vocabulary could in principle share a 64-bit hash with one inside it: with ~10^5 terms and
~10^3 n-grams per mention that is a chance of ~10^-11 per mention, accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.feature_extraction.text import TfidfVectorizer

_B = 0x100000001B3  # the FNV-64 prime: odd, so invertible modulo 2^64
_B_INV = pow(_B, -1, 2**64)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # times the length, so that lengths separate hashes
_SPACE = np.uint64(32)
# The word analyzer's token pattern this module reproduces (features.py uses it).
TOKEN_PATTERN = r"(?u)\b\w+\b|[^\w\s]"
WORD, SPACE = 1, 2  # code point classes
PAD = 8  # spaces after a batch's texts: the longest char n-gram this module cuts


@cache
def char_classes() -> np.ndarray:
    """Class of every code point: WORD where `re` matches `\\w`, SPACE where it matches `\\s`.

    numpy's string ufuncs use the same Unicode database predicates as `re` (isalnum or "_"
    for `\\w`, isspace for `\\s`); ~0.1 s once per process, read-only afterwards.
    """
    chars = np.arange(0x110000, dtype=np.uint32).view("<U1")
    out = np.where(np.strings.isalnum(chars) | (chars == "_"), WORD, 0).astype(np.uint8)
    out[np.strings.isspace(chars)] = SPACE
    out.flags.writeable = False
    return out


class Powers:
    """B^k and B^-k modulo 2^64 for k up to the longest batch seen, grown by doubling.

    Derived state, rebuilt on demand; a reader keeps the arrays it took, so growing while
    another thread reads is safe.
    """

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)
        self.down = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        up, down = self.up, self.down
        if len(up) <= n:
            size = max(n + 1, 2 * len(up), 1024)
            up = np.cumprod(np.full(size, _B, dtype=np.uint64))
            up = np.concatenate([np.ones(1, dtype=np.uint64), up[:-1]])
            down = np.cumprod(np.full(size, _B_INV, dtype=np.uint64))
            down = np.concatenate([np.ones(1, dtype=np.uint64), down[:-1]])
            self.up, self.down = up, down
        return up, down


@dataclass(frozen=True, slots=True)
class CodePoints:
    """The texts of a batch as one array, each text padded with a space on either side.

    `prefix[i]` is a polynomial prefix hash such that the span [a, b) hashes to
    `prefix[b] - prefix[a] * B^(b-a)`, whatever its length; whitespace reads as " ".
    """

    cp: np.ndarray  # uint64 code points (whitespace -> 32), `pad` trailing spaces
    space: np.ndarray  # bool, len(cp)
    word: np.ndarray  # bool, len(cp)
    prefix: np.ndarray  # uint64, len(cp) + 1
    starts: np.ndarray  # int64, first position of each text's padding, plus the end
    size: int  # positions that belong to texts (the rest is padding)
    up: np.ndarray  # B^k

    @classmethod
    def of(cls, texts: list[str], powers: Powers) -> CodePoints:
        joined = "".join(f" {t} " for t in texts) + " " * PAD
        raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kind = char_classes()[raw]
        space = kind == SPACE
        cp = raw.astype(np.uint64)
        cp[space] = _SPACE
        up, down = powers.upto(len(cp) + 1)
        prefix = np.zeros(len(cp) + 1, dtype=np.uint64)
        np.cumsum(cp * down[: len(cp)], out=prefix[1:])
        prefix *= up[: len(prefix)]
        if len(texts) == 1:
            starts = np.array([0, len(texts[0]) + 2], dtype=np.int64)
        else:
            starts = np.zeros(len(texts) + 1, dtype=np.int64)
            np.cumsum([len(t) + 2 for t in texts], out=starts[1:])
        return cls(cp, space, kind == WORD, prefix, starts, int(starts[-1]), up)

    def rows_of(self, positions: np.ndarray) -> np.ndarray:
        """The text each position belongs to."""
        if len(self.starts) == 2:
            return np.zeros(len(positions), dtype=np.int64)
        return np.searchsorted(self.starts, positions, side="right") - 1

    def span_hashes(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Raw polynomial hash of every span [a, b) (no length mixed in)."""
        return self.prefix[b] - self.prefix[a] * self.up[b - a]


@dataclass(frozen=True, slots=True)
class NgramIndex:
    """A fitted vectoriser's vocabulary as sorted hashes, and how to cut a text into n-grams."""

    char_wb: bool  # analyzer: char_wb windows, else word tokens
    ngram_range: tuple[int, int]
    keys: np.ndarray  # sorted uint64 hashes of the vocabulary's terms
    columns: np.ndarray  # int64 vocabulary index of each key

    @classmethod
    def of(cls, vec: TfidfVectorizer, powers: Powers) -> NgramIndex | None:
        """The index of `vec`, or None when it cuts text in a way not reproduced here or two
        of its terms share a hash (the caller then keeps the Python path)."""
        lo, hi = vec.ngram_range
        plain = (
            not vec.lowercase
            and vec.strip_accents is None
            and vec.preprocessor is None
            and vec.tokenizer is None
            and vec.stop_words is None
            and vec.input == "content"
        )
        if not plain or lo < 1 or hi < lo:
            return None
        if vec.analyzer == "char_wb":
            # A padded word has 3+ characters (the short-word rule holds); windows fit the padding.
            if lo < 2 or lo > 3 or hi > PAD:
                return None
        elif vec.analyzer != "word" or vec.token_pattern != TOKEN_PATTERN:
            return None
        terms = list(vec.vocabulary_)
        ids = np.fromiter(vec.vocabulary_.values(), dtype=np.int64, count=len(terms))
        hashes = term_hashes(terms, powers)
        order = np.argsort(hashes, kind="stable")
        keys = hashes[order]
        if len(keys) > 1 and bool(np.any(keys[1:] == keys[:-1])):
            return None
        return cls(vec.analyzer == "char_wb", (lo, hi), keys, ids[order])

    def lookup(self, rows: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, vocabulary column) of every hash found in the vocabulary."""
        if not len(self.keys) or not len(hashes):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        pos = np.searchsorted(self.keys, hashes)
        np.minimum(pos, len(self.keys) - 1, out=pos)
        hit = self.keys[pos] == hashes
        return rows[hit], self.columns[pos[hit]]

    def ids(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """(row, vocabulary column) of every n-gram of every text, in no particular order."""
        rows, hashes = self.char_grams(text) if self.char_wb else self.word_grams(text)
        return self.lookup(rows, hashes)

    def char_grams(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's char_wb n-grams: the windows of each space-padded word.

        A window of n characters belongs to one padded word exactly when none of its inner
        n - 2 characters is a space and it is not two spaces; a word shorter than n has no
        such window, which is the analyzer's "count a short word once" (lo <= 3, see `of`).
        """
        lo, hi = self.ngram_range
        n_pos = text.size
        ns = np.arange(lo, hi + 1)
        ends = sliding_window_view(text.prefix, hi + 1)[:n_pos]
        hashes = ends[:, ns] - ends[:, :1] * text.up[ns]
        hashes += ns.astype(np.uint64) * _MIX
        spaces = np.zeros(len(text.space) + 1, dtype=np.int32)
        np.cumsum(text.space, out=spaces[1:])
        counts = sliding_window_view(spaces, hi)[:n_pos]
        valid = (counts[:, ns - 1] - counts[:, 1:2]) == 0
        if lo == 2:
            valid[:, 0] &= ~(text.space[:n_pos] & text.space[1 : n_pos + 1])
        pos = np.nonzero(valid)[0]
        return text.rows_of(pos), hashes[valid]

    def word_grams(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """The word analyzer's tokens and their n-grams (joined by one space) within a text."""
        lo, hi = self.ngram_range
        word, space = text.word[: text.size], text.space[: text.size]
        other = ~word & ~space
        before = np.concatenate([[False], word[:-1]])
        after = np.concatenate([word[1:], [False]])
        a = np.flatnonzero((word & ~before) | other)
        b = np.flatnonzero((word & ~after) | other) + 1
        rows = text.rows_of(a)
        raw = text.span_hashes(a, b)
        length = b - a
        out_rows, out_hashes = [], []
        gram, gram_len = raw, length
        for n in range(1, hi + 1):
            if n > 1:  # extend each (n-1)-gram by the next token: "x y" = (x + " ") * B^|y|+1 + y
                nxt = length[n - 1 :]
                gram = (gram[:-1] + _SPACE) * text.up[nxt + 1] + raw[n - 1 :]
                gram_len = gram_len[:-1] + 1 + nxt
            if n >= lo and len(gram):
                same = rows[: len(gram)] == rows[n - 1 :]
                out_rows.append(rows[: len(gram)][same])
                out_hashes.append(gram[same] + gram_len[same].astype(np.uint64) * _MIX)
        if not out_rows:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.astype(np.uint64)
        return np.concatenate(out_rows), np.concatenate(out_hashes)


def term_hashes(terms: list[str], powers: Powers) -> np.ndarray:
    """The hash of each whole string, as `char_grams`/`word_grams` hash the same n-gram."""
    if not terms:
        return np.empty(0, dtype=np.uint64)
    joined = "".join(terms)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cp = cp.astype(np.uint64)
    cp[char_classes()[cp] == SPACE] = _SPACE
    up, down = powers.upto(len(cp) + 1)
    prefix = np.zeros(len(cp) + 1, dtype=np.uint64)
    np.cumsum(cp * down[: len(cp)], out=prefix[1:])
    prefix *= up[: len(prefix)]
    length = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    b = np.cumsum(length)
    a = b - length
    return prefix[b] - prefix[a] * up[length] + length.astype(np.uint64) * _MIX
