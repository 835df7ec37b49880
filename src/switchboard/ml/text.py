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


SURFACE_NAMES: tuple[str, ...] = (
    "len",
    "exclamations",
    "questions",
    "caps_ratio",
    "urls",
    "mentions",
    "emoji",
)
