"""Text normalisation for social mentions: pure functions shared by training and serving.

Social text carries signal in its noise (an order number says "take it private", a URL is
often spam, "soooo" is emphasis) but the exact handle, link or digits are noise to a classifier.
So we replace them with placeholder tokens instead of deleting them, and keep emoji and
non-Latin scripts untouched: the char n-grams downstream read them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache

import numpy as np

URL_TOKEN = " xxurl "
MENTION_TOKEN = " xxuser "
HASHTAG_PREFIX = " xxtag "
ORDERNUM_TOKEN = " xxordernum "
NUMBER_TOKEN = " xxnum "
EMAIL_TOKEN = " xxemail "

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_MENTION = re.compile(r"(?<!\w)@\w+")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
# Six or more digits, possibly with a letter prefix or dashes: order, booking, account numbers.
_ORDERNUM = re.compile(r"(?<!\w)#?[A-Za-z]{0,3}[-#]?\d[\d-]{4,}\d\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_REPEAT = re.compile(r"(.)\1{2,}")
_SPACE = re.compile(r"\s+")
# Lone surrogates and C0 controls other than whitespace cannot be scored or stored safely.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LETTER = re.compile(r"[^\W\d_]")
# Emoji and pictographs (the blocks that matter on social media), dingbats, misc symbols.
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")


def clean(text: str) -> str:
    """Unicode-normalise, unescape HTML entities and drop control characters."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    return _CONTROL.sub(" ", text)


def normalise(text: str) -> str:
    """Canonical lower-cased text with placeholders for URLs, handles, order numbers, numbers.

    Hashtags keep their word (`#fail` -> `xxtag fail`) because the word carries meaning.
    Runs of 3+ identical characters shrink to two (`soooo` -> `soo`, `!!!!` -> `!!`).
    """
    text = clean(text)
    text = _URL.sub(URL_TOKEN, text)
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _MENTION.sub(MENTION_TOKEN, text)
    text = _ORDERNUM.sub(ORDERNUM_TOKEN, text)  # before hashtags: "#A1234567" is an order
    text = _HASHTAG.sub(lambda m: HASHTAG_PREFIX + m.group(1), text)
    text = _NUMBER.sub(NUMBER_TOKEN, text)
    text = _REPEAT.sub(r"\1\1", text)
    return _SPACE.sub(" ", text.lower()).strip()


# Between the texts of a batch in `normalise_batch`: a line break stops every pattern above
# (`\S`, `.` and `\b` all end there), and U+10FFFF (a noncharacter) marks where to cut.
_SEPARATOR = "\n\U0010ffff\n"


def normalise_batch(texts: list[str]) -> list[str]:
    """`normalise` of every text, with each regex run once over the whole batch (C speed)
    instead of once per text; equal to it text by text (tests/ml/test_text.py). A text that
    contains the separator itself goes the per-text way."""
    if len(texts) < 2 or any(_SEPARATOR[1] in t for t in texts):
        return [normalise(t) for t in texts]
    text = clean(_SEPARATOR.join(texts))
    text = _URL.sub(URL_TOKEN, text)
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _MENTION.sub(MENTION_TOKEN, text)
    text = _ORDERNUM.sub(ORDERNUM_TOKEN, text)
    text = _HASHTAG.sub(lambda m: HASHTAG_PREFIX + m.group(1), text)
    text = _NUMBER.sub(NUMBER_TOKEN, text)
    text = _REPEAT.sub(r"\1\1", text)
    out = [" ".join(t.split()) for t in text.lower().split(_SEPARATOR)]
    if len(out) != len(texts):  # cannot happen (the separator survives every step); be safe
        return [normalise(t) for t in texts]
    return out


def surface_stats(text: str) -> tuple[float, ...]:
    """Cheap shape features of the raw text that tf-idf cannot see.

    Returns (length, exclamations, questions, capitals ratio, urls, mentions, emoji-ish
    symbols), each squashed to roughly [0, 1] so that a linear model can weigh them.
    """
    n = len(text)
    letters = len(_LETTER.findall(text))
    capitals = sum(map(str.isupper, text))
    symbols = len(_EMOJI.findall(text))
    return (
        min(n, 280) / 280.0,
        min(text.count("!"), 5) / 5.0,
        min(text.count("?"), 5) / 5.0,
        capitals / letters if letters else 0.0,
        min(len(_URL.findall(text)), 3) / 3.0,
        min(len(_MENTION.findall(text)), 5) / 5.0,
        min(symbols, 5) / 5.0,
    )


# Code point flags for `surface_matrix`: what `_LETTER` matches, `str.isupper`, `_EMOJI`.
_IS_LETTER, _IS_UPPER, _IS_EMOJI = 1, 2, 4
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF))


@cache
def _surface_flags() -> np.ndarray:
    """Per code point: letter (`[^\\W\\d_]`: alphanumeric, not a decimal digit, not "_"),
    upper case (`str.isupper`), emoji-ish (`_EMOJI`). The same Unicode predicates as `re` and
    `str`, through numpy's string ufuncs; ~0.1 s once per process, read-only afterwards."""
    chars = np.arange(0x110000, dtype=np.uint32).view("<U1")
    letter = np.strings.isalnum(chars) & ~np.strings.isdecimal(chars) & (chars != "_")
    flags = np.where(letter, _IS_LETTER, 0) | np.where(np.strings.isupper(chars), _IS_UPPER, 0)
    for lo, hi in _EMOJI_RANGES:
        flags[lo : hi + 1] |= _IS_EMOJI
    flags = flags.astype(np.uint8)
    flags.flags.writeable = False
    return flags


def surface_matrix(texts: list[str]) -> np.ndarray:
    """`surface_stats` of every text of a batch as an (n, 7) float64 array, in one numpy pass
    over the batch's code points (plus one C regex scan each for URLs and handles) instead of
    ~6 Python-level passes per text; equal to `surface_stats` row by row (tests/ml/test_text.py).
    """
    n = len(texts)
    out = np.zeros((n, len(SURFACE_NAMES)), dtype=np.float64)
    if not n:
        return out
    joined = "\n".join(texts)  # a separator no pattern below can match across
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    length = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(length[:-1] + 1, out=starts[1:])
    row = np.repeat(np.arange(n), length + 1)[: len(cp)]
    flags = _surface_flags()[cp]

    def per_row(mask: np.ndarray) -> np.ndarray:
        return np.bincount(row[mask], minlength=n).astype(np.float64)

    letters, capitals = per_row((flags & _IS_LETTER) != 0), per_row((flags & _IS_UPPER) != 0)
    out[:, 0] = np.minimum(length, 280) / 280.0
    out[:, 1] = np.minimum(per_row(cp == ord("!")), 5) / 5.0
    out[:, 2] = np.minimum(per_row(cp == ord("?")), 5) / 5.0
    np.divide(capitals, letters, out=out[:, 3], where=letters > 0)
    for col, pattern, cap in ((4, _URL, 3), (5, _MENTION, 5)):
        hits = [m.start() for m in pattern.finditer(joined)]
        if hits:
            counts = np.bincount(np.searchsorted(starts, hits, side="right") - 1, minlength=n)
            out[:, col] = np.minimum(counts, cap) / cap
    out[:, 6] = np.minimum(per_row((flags & _IS_EMOJI) != 0), 5) / 5.0
    return out


SURFACE_NAMES: tuple[str, ...] = (
    "len",
    "exclamations",
    "questions",
    "caps_ratio",
    "urls",
    "mentions",
    "emoji",
)
