"""Normalised texts -> vocabulary columns of their word and char_wb n-grams, for a whole batch,
in numpy: no Python work per character.

Why: cutting a tweet into ~400 character n-grams and looking each up in a dict is ~200 µs of
Python per mention, the largest share of scoring one (issue #14). Here the texts of a batch
are one array of code points; every n-gram is a window (char_wb) or a token span (words) of it,
hashed with a 64-bit polynomial hash computed from prefix sums in wrapping uint64 arithmetic,
and looked up in an open-addressing table of the fitted vocabulary's hashes. The number of
numpy calls per batch is fixed (~60), so a batch of 1,000 costs ~10-20 µs a mention on the
2-core machine; one mention alone would pay all ~60 calls, which is why `CaseFeatures` serves
a single mention from per-word memos instead (features.py `_char_ids`).

Why numpy and not numba or a Rust extension: no new dependency, nothing to compile on a fresh
machine, and once the per-character Python is gone the batch cost is dominated by work this
module does not do (normalising, the semantic block, explanations; bench/serving.py).

Exactness: the windows and tokens are scikit-learn's (`char_wb` padding and short-word rule,
the word `token_pattern` `(?u)\\b\\w+\\b|[^\\w\\s]` as maximal runs of word characters plus
single other non-space characters, n-grams joined by one space), with Python's own notion of
`\\w` and `\\s` (a table made by numpy's `str.isalnum`/`isspace`, identical to `re`'s, checked
in tests/ml/test_hashed_ngrams.py). A vocabulary whose hashes collide is refused
(`NgramIndex.of` returns None and the caller keeps the Python path). An n-gram outside the
vocabulary could in principle share a 64-bit hash with one inside it: with ~10^5 terms and
~10^3 n-grams per mention that is a chance of ~10^-11 per mention, accepted (a deliberately
crafted text of thousands of characters could force such a collision for modulus 2^64; its
effect would be one extra n-gram feature on that text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

# Odd 64-bit constants with well-spread bits (golden ratio, and the murmur3 and splitmix64
# finalisers'): the base is invertible modulo 2^64, and short strings' hashes differ in their
# top bits too, which pick the table slot after one more multiplication (Fibonacci hashing).
_B = 0x9E3779B97F4A7C15
_B_INV = pow(_B, -1, 2**64)
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)  # times the length, so that lengths separate hashes
_SLOT = np.uint64(0xBF58476D1CE4E5B9)
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
        self.tables = (np.ones(1, dtype=np.uint64),) * 2 + (np.zeros(1, dtype=np.int64),)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(B^k, B^-k, k) for k in 0..n at least."""
        tables = self.tables
        if len(tables[0]) <= n:
            size = max(n + 1, 2 * len(tables[0]), 4096)
            up = np.cumprod(np.full(size, _B, dtype=np.uint64))
            down = np.cumprod(np.full(size, _B_INV, dtype=np.uint64))
            one = np.ones(1, dtype=np.uint64)
            tables = np.concatenate([one, up[:-1]]), np.concatenate([one, down[:-1]])
            tables += (np.arange(size, dtype=np.int64),)
            self.tables = tables
        return tables


@dataclass(frozen=True, slots=True)
class CodePoints:
    """The texts of a batch as one array, each text padded with a space on either side.

    `prefix[i]` is a polynomial prefix hash such that the span [a, b) hashes to
    `prefix[b] - prefix[a] * B^(b-a)`, whatever its length; whitespace reads as " ".
    """

    kind: np.ndarray  # uint8 class of each code point (WORD, SPACE or 0), PAD trailing spaces
    space: np.ndarray  # bool, len(kind)
    prefix: np.ndarray  # uint64, len(kind) + 1
    starts: np.ndarray  # int64, first position of each text's padding, plus the end
    size: int  # positions that belong to texts (the rest is padding)
    up: np.ndarray  # B^k
    position: np.ndarray  # 0, 1, 2, ... (at least len(kind))

    @classmethod
    def of(cls, texts: list[str], powers: Powers) -> CodePoints:
        joined = "".join(f" {t} " for t in texts) + " " * PAD
        raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kind = char_classes()[raw]
        space = kind == SPACE
        up, down, position = powers.upto(len(raw) + 1)
        prefix = _prefix(np.where(space, _SPACE, raw), up, down)
        if len(texts) == 1:
            starts = np.array([0, len(texts[0]) + 2], dtype=np.int64)
        else:
            starts = np.zeros(len(texts) + 1, dtype=np.int64)
            np.cumsum([len(t) + 2 for t in texts], out=starts[1:])
        return cls(kind, space, prefix, starts, int(starts[-1]), up, position)

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
    """A fitted vectoriser's vocabulary as an open-addressing hash table, and how to cut a
    text into its n-grams.

    Why a table and not `np.searchsorted` on sorted hashes: a batch looks up ~10^5 n-grams,
    and a binary search per n-gram measured ~10x slower than one or two probes of a table
    four times larger than the vocabulary (a few MB).
    """

    char_wb: bool  # analyzer: char_wb windows, else word tokens
    ngram_range: tuple[int, int]
    slots: np.ndarray  # uint64 hash in each slot (0: empty)
    columns: np.ndarray  # int32 vocabulary column in each slot (-1: empty)
    shift: np.uint64  # a hash's home slot: (hash * _SLOT) >> shift
    lengths: np.ndarray  # int64 n of each char n-gram size, as a column (k x 1)
    ups: np.ndarray  # uint64 B^n, same shape
    mixes: np.ndarray  # uint64 n x _MIX, same shape

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
        unique = np.unique(hashes)
        if len(unique) < len(hashes) or (len(unique) and unique[0] == 0):
            return None
        bits = max(int(2 * len(terms) - 1).bit_length(), 4)  # at most half full
        shift = np.uint64(64 - bits)
        slots, columns = _table(hashes, ids, bits, shift)
        up, _, _ = powers.upto(hi + 1)
        n = np.arange(lo, hi + 1, dtype=np.int64)[:, None]
        mixes = n.astype(np.uint64) * _MIX
        return cls(vec.analyzer == "char_wb", (lo, hi), slots, columns, shift, n, up[n], mixes)

    def lookup(self, rows: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, vocabulary column) of every hash found in the vocabulary."""
        slot = ((hashes * _SLOT) >> self.shift).astype(np.intp)
        found = self.slots[slot] == hashes
        miss = np.flatnonzero(~found & (self.slots[slot] != 0))
        mask = len(self.slots) - 1
        while len(miss):  # linear probing: the few not in their home slot, or not there at all
            slot[miss] = (slot[miss] + 1) & mask
            seen = self.slots[slot[miss]]
            hit = seen == hashes[miss]
            found[miss[hit]] = True
            miss = miss[~hit & (seen != 0)]
        return rows[found], self.columns[slot[found]]

    def ids(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """(row, vocabulary column) of every n-gram of every text, in no particular order."""
        rows, hashes = self.char_grams(text) if self.char_wb else self.word_grams(text)
        return self.lookup(rows, hashes)

    def char_grams(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's char_wb n-grams: the windows of each space-padded word.

        A window [p, p + n) lies in one padded word exactly when none of its inner n - 2
        characters is a space, i.e. n <= (next space after p) - p + 1, and it is not two
        spaces; a word shorter than n has no such window, which is the analyzer's "count a
        short word once" (lo <= 3, see `of`).
        """
        size = text.size
        pos = text.position[:size]
        spaces = np.flatnonzero(text.space)
        reach = spaces[np.searchsorted(spaces, pos, side="right")] - pos + 1
        if self.ngram_range[0] == 2:
            reach -= text.space[:size] & text.space[1 : size + 1]
        valid = reach >= self.lengths
        prefix = text.prefix
        hashes = prefix[pos + self.lengths] - prefix[:size] * self.ups + self.mixes
        rows = text.rows_of(np.nonzero(valid)[1]) if len(text.starts) > 2 else None
        hashes = hashes[valid]
        return (np.zeros(len(hashes), np.int64) if rows is None else rows), hashes

    def word_grams(self, text: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """The word analyzer's tokens and their n-grams (joined by one space) within a text.

        Tokens are maximal runs of word characters and single other non-space characters
        (`TOKEN_PATTERN`); every text starts with a padding space, so position 0 starts none.
        """
        lo, hi = self.ngram_range
        kind = text.kind[: text.size]
        word, other = kind == WORD, kind == 0
        a = np.flatnonzero((word[1:] & ~word[:-1]) | other[1:]) + 1
        b = np.flatnonzero((word[:-1] & ~word[1:]) | other[:-1]) + 1
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
                mixed = gram + gram_len.astype(np.uint64) * _MIX
                if n == 1 or len(text.starts) == 2:
                    out_rows.append(rows[: len(gram)])
                    out_hashes.append(mixed)
                else:  # an n-gram must not run from one text into the next
                    same = rows[: len(gram)] == rows[n - 1 :]
                    out_rows.append(rows[: len(gram)][same])
                    out_hashes.append(mixed[same])
        if not out_rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
        if len(out_rows) == 1:
            return out_rows[0], out_hashes[0]
        return np.concatenate(out_rows), np.concatenate(out_hashes)


def _table(
    hashes: np.ndarray, ids: np.ndarray, bits: int, shift: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """Open addressing with linear probing, filled in rounds: in each, every unplaced key
    tries its current slot, the first claimant of each free slot takes it, the rest move on."""
    slots = np.zeros(1 << bits, dtype=np.uint64)
    columns = np.full(1 << bits, -1, dtype=np.int32)
    slot = ((hashes * _SLOT) >> shift).astype(np.intp)
    todo = np.arange(len(hashes))
    mask = (1 << bits) - 1
    while len(todo):
        free = slots[slot[todo]] == 0
        cand = todo[free]
        first = np.unique(slot[cand], return_index=True)[1]
        won = cand[first]
        slots[slot[won]] = hashes[won]
        columns[slot[won]] = ids[won]
        placed = np.zeros(len(hashes), dtype=bool)
        placed[won] = True
        todo = todo[~placed[todo]]
        slot[todo] = (slot[todo] + 1) & mask
    return slots, columns


def _prefix(points: np.ndarray, up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Prefix hashes of code points: prefix[b] - prefix[a] * B^(b-a) hashes the span [a, b)."""
    prefix = np.zeros(len(points) + 1, dtype=np.uint64)
    np.cumsum(points.astype(np.uint64) * down[: len(points)], out=prefix[1:])
    prefix *= up[: len(prefix)]
    return prefix


def term_hashes(terms: list[str], powers: Powers) -> np.ndarray:
    """The hash of each whole string, as `char_grams`/`word_grams` hash the same n-gram."""
    if not terms:
        return np.empty(0, dtype=np.uint64)
    joined = "".join(terms)
    raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    up, down, _ = powers.upto(len(raw) + 1)
    prefix = _prefix(np.where(char_classes()[raw] == SPACE, _SPACE, raw), up, down)
    length = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    b = np.cumsum(length)
    a = b - length
    return prefix[b] - prefix[a] * up[length] + length.astype(np.uint64) * _MIX
