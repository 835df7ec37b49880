"""Evidence: the words of a mention that moved each head, as they appear in the mention.

A head is linear, so how far it prefers its answer to the runner-up is a sum, over the
features of the mention, of feature value x (answer's weight - runner-up's weight). The
features are n-grams of the normalised text (`c:rde`, `w:my order`) and a few shape and
semantic columns, which mean nothing to a care lead. Here each n-gram's share goes back onto
the words it came from: a character n-gram onto the word that contains it, a word n-gram onto
its words (a longer one split evenly), an n-gram found in several places split between them.
Each word then has one number per head, and the few largest become spans of the original text
with their offsets (neighbouring words of one sign joined), so a page can highlight them.

Meta features (length, exclamation marks, channel) and semantic dimensions are left out: they
are not words of the mention. The cost is a gather of the chosen classes' weights (what the
heads' own explanations already do) and a dictionary look-up per n-gram of the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from switchboard.ml.bundle import Bundle, HeadPrediction
from switchboard.ml.features import Rows
from switchboard.routing.types import Evidence, Mention

# Spans per head in an explanation: enough to show why, few enough to read at a glance.
SPANS = 4
# A word whose share is under this fraction of the head's largest is not evidence.
MIN_SHARE = 0.2
_WORD = re.compile(r"\S+")
_CORE = re.compile(r"\w(?:.*\w)?", re.S)  # a word without its leading/trailing punctuation


def evidence(
    bundle: Bundle,
    X: Rows,
    heads: Sequence[Mapping[str, HeadPrediction]],
    mentions: Sequence[Mention],
    spans: int = SPANS,
) -> list[dict[str, tuple[Evidence, ...]]]:
    """Per mention and head, the spans of its text that pushed the head towards (weight > 0)
    or against its answer, strongest first.

    `heads` are the final answers: when the second opinion decided, the spans are the words
    the fast heads (which read the words) weighed for or against that answer.
    """
    if not bundle.heads:
        return [{} for _ in mentions]
    chosen = [_chosen(bundle, h) for h in heads]
    names = list(chosen[0]) if chosen else []
    if names and all(list(c) == names for c in chosen):
        return _batch(bundle, X, [m.text for m in mentions], chosen, names, spans)
    return [  # heads differ between mentions (a head without an answer): one at a time
        _one(bundle, X.row(i), m.text, c, spans)
        for i, (m, c) in enumerate(zip(mentions, chosen, strict=True))
    ]


def _batch(
    bundle: Bundle,
    X: Rows,
    texts: list[str],
    chosen: list[dict[str, tuple[int, int]]],
    names: list[str],
    spans: int,
) -> list[dict[str, tuple[Evidence, ...]]]:
    """`_one` for every mention of a batch whose heads all answered, with the arithmetic done
    once for the batch: one weight gather, one look-up of every word's columns, one bincount.
    Per mention only its words' (remembered) columns and the spans are Python."""
    n, heads, width = len(texts), len(names), bundle.features.text_width
    answer = np.array([[c[h][0] for h in names] for c in chosen], dtype=np.intp)
    second = np.array([[c[h][1] for h in names] for c in chosen], dtype=np.intp)
    row = np.repeat(np.arange(n), np.diff(X.indptr))
    keep = X.indices < width
    idx, row, vals = X.indices[keep].astype(np.int64), row[keep], X.data[keep].astype(np.float64)
    key = row * width + idx  # ascending when each row's columns are, as `CaseFeatures` makes them
    if len(key) > 1 and bool(np.any(np.diff(key) < 0)):
        order = np.argsort(key, kind="stable")
        key, idx, row, vals = key[order], idx[order], row[order], vals[order]
    weights = bundle.stacked().cols
    contrib = (weights[idx[:, None], answer[row]] - weights[idx[:, None], second[row]]) * vals[
        :, None
    ]
    words = [[(m.start(), m.end()) for m in _WORD.finditer(t)] for t in texts]
    first_word = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(w) for w in words], out=first_word[1:])
    cols, owner, frac = [], [], []
    for i, (text, ws) in enumerate(zip(texts, words, strict=True)):
        c, o, f = _occurrences(bundle, text, ws)
        cols.append(c + i * width)
        owner.append(o + first_word[i])
        frac.append(f)
    scores = np.zeros((int(first_word[-1]), heads))
    if len(key) and scores.size:
        wanted = np.concatenate(cols)
        pos = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
        found = key[pos] == wanted
        pos, owner_, frac_ = pos[found], np.concatenate(owner)[found], np.concatenate(frac)[found]
        # Each occurrence gets its column's contribution divided by the column's occurrences.
        shares = np.bincount(pos, weights=frac_, minlength=len(key))
        where = (owner_[:, None] * heads + np.arange(heads)).ravel()
        parts = (contrib[pos] * (frac_ / shares[pos])[:, None]).ravel()
        scores = np.bincount(where, parts, minlength=scores.size).reshape(scores.shape)
    out = []
    for i, (text, ws) in enumerate(zip(texts, words, strict=True)):
        mine = scores[first_word[i] : first_word[i + 1]]
        strongest = np.argsort(-np.abs(mine), axis=0, kind="stable")[:spans].T.tolist()
        by_head = mine.T.tolist()
        out.append(
            {
                name: _spans(text, ws, by_head[h], strongest[h]) if ws else ()
                for h, name in enumerate(names)
            }
        )
    return out


def _occurrences(
    bundle: Bundle, text: str, words: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column, word, fraction) of every n-gram occurrence of the text's words: a word n-gram
    longer than one is shared evenly between its words."""
    cols, owner, phrases = bundle.features.word_columns([text[a:b] for a, b in words])
    frac = np.ones(len(cols))
    if phrases:
        pc, po, pf = [], [], []
        for c, first, last in phrases:
            k = last - first + 1
            pc += [c] * k
            po += range(first, last + 1)
            pf += [1.0 / k] * k
        cols = np.concatenate([cols, pc])
        owner = np.concatenate([owner, po])
        frac = np.concatenate([frac, pf])
    return cols.astype(np.int64), owner.astype(np.int64), frac


def _chosen(bundle: Bundle, heads: Mapping[str, HeadPrediction]) -> dict[str, tuple[int, int]]:
    """Each head's answer and its runner-up, as columns among the stacked heads' weights.

    Evidence is what separates the answer from the runner-up (weight of the one minus weight
    of the other): a yes/no head's "no" has no weights of its own, and a word every class
    likes decides nothing.
    """
    out = {}
    for s in bundle.stacked().spans:
        head = heads.get(s.name)
        classes = s.head.classes
        if head is None or head.label not in classes or len(classes) < 2:
            continue
        others = [c for c in classes if c != head.label]
        second = max(others, key=lambda c: head.probabilities.get(c, 0.0))
        out[s.name] = (s.lo + classes.index(head.label), s.lo + classes.index(second))
    return out


def _one(
    bundle: Bundle,
    row: tuple[np.ndarray, np.ndarray],
    text: str,
    chosen: Mapping[str, tuple[int, int]],
    spans: int,
) -> dict[str, tuple[Evidence, ...]]:
    idx, vals = row
    keep = idx < bundle.features.text_width
    idx, vals = idx[keep], vals[keep].astype(np.float64)
    if len(idx) > 1 and bool(np.any(np.diff(idx) < 0)):  # searched below: must be ascending
        order = np.argsort(idx, kind="stable")
        idx, vals = idx[order], vals[order]
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not chosen or not len(idx) or not words:
        return {name: () for name in chosen}
    names = list(chosen)
    answer, second = ([chosen[n][k] for n in names] for k in (0, 1))
    weights = bundle.stacked().cols[idx[:, None], answer + second]  # one gather, both columns
    contrib = (weights[:, : len(names)] - weights[:, len(names) :]) * vals[:, None]
    scores = _word_scores(bundle, text, words, idx, contrib)
    order = np.argsort(-np.abs(scores), axis=0, kind="stable")[:spans].T.tolist()
    return {
        name: _spans(text, words, scores[:, h].tolist(), order[h]) for h, name in enumerate(names)
    }


def _word_scores(
    bundle: Bundle,
    text: str,
    words: list[tuple[int, int]],
    idx: np.ndarray,
    contrib: np.ndarray,
) -> np.ndarray:
    """words x heads: each column's contribution shared out over its occurrences."""
    cols_, owner_, frac_ = _occurrences(bundle, text, words)
    scores = np.zeros((len(words), contrib.shape[1]))
    if not len(cols_):
        return scores
    pos = np.minimum(np.searchsorted(idx, cols_), len(idx) - 1)
    found = idx[pos] == cols_
    pos, owner_, frac_ = pos[found], owner_[found], frac_[found]
    # Each occurrence gets its column's contribution divided by the column's occurrences.
    shares = np.bincount(pos, weights=frac_, minlength=len(idx))
    heads = contrib.shape[1]
    where = (owner_[:, None] * heads + np.arange(heads)).ravel()
    weights = (contrib[pos] * (frac_ / shares[pos])[:, None]).ravel()
    return np.bincount(where, weights, minlength=scores.size).reshape(scores.shape)


def _spans(
    text: str, words: list[tuple[int, int]], score: list[float], strongest: list[int]
) -> tuple[Evidence, ...]:
    """The `strongest` words (either sign) that carry a fair share of the head's largest,
    neighbours of one sign joined into a phrase."""
    top = abs(score[strongest[0]]) if strongest else 0.0
    if top <= 1e-6:
        return ()
    picked = sorted(w for w in strongest if abs(score[w]) >= MIN_SHARE * top)
    out: list[Evidence] = []
    run: list[int] = []
    for w in [*picked, None]:
        if run and (w is None or w != run[-1] + 1 or (score[w] > 0) != (score[run[0]] > 0)):
            weight = sum(score[k] for k in run)
            out.append(_evidence(text, words[run[0]], words[run[-1]], weight))
            run = []
        if w is not None:
            run.append(w)
    return tuple(sorted(out, key=lambda e: -e.weight))


def _evidence(text: str, first: tuple[int, int], last: tuple[int, int], weight: float) -> Evidence:
    """The span from `first` to `last` word, without punctuation at its ends ("refund!" is
    "refund"), unless it is nothing but punctuation ("!!!")."""
    start, end = first[0], last[1]
    core = _CORE.search(text, start, end)
    if core is not None:
        start, end = core.start(), core.end()
    return Evidence(text[start:end], start, end, round(weight, 4))
