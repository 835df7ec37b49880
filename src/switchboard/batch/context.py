"""The context columns of a batch, computed from the data in time order as the service would.

The service gives a mention the author history and brand volume of what it scored before
(service/activity.py); `ActivityFold` (routing/history.py) is the same counters in memory, fed
the batch's rows ordered by `created_at` (ties in input order), each read before it is added.

Brand volume needs only the mentions. Author history counts the *predicted* sentiment, intent
and reply of the author's earlier mentions, so it needs decisions first:

1. score every row with its brand volume and an empty author history;
2. fold: each row's history from the predictions of the rows before it;
3. score again only the rows whose history changes a decision (`policy.history_decides`,
   the repeat-rager rule; every row with any history when the policy is not known to be the
   model's); the others' decisions stand;
4. fold once more for `author_recent_replied` from the final reply actions.

Step 3 is exact because the heads (sentiment, intent) do not depend on context, and the policy
reads the history only through `history_decides`, never `recent_replied`;
tests/e2e/test_batch_score.py proves the result equal to the service's, row for row.

Rows without `created_at` cannot be placed in time: they get an empty history and a volume
ratio of 1.0 and count for no other row (the service would use its wall clock instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from switchboard.batch.decisions import AUTHOR_COLUMNS
from switchboard.routing.history import ActivityFold, counts
from switchboard.routing.policy import Policy, history_decides
from switchboard.routing.types import AuthorHistory

Score = Callable[[pd.DataFrame], pd.DataFrame]  # input rows -> decision rows, same index


def time_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of the rows with a `created_at`, earliest first, ties in input order."""
    if "created_at" not in frame:
        return np.array([], dtype=int)
    when = frame["created_at"].reset_index(drop=True)
    return when[when.notna()].sort_values(kind="stable").index.to_numpy()


def _records(frame: pd.DataFrame, order: np.ndarray) -> list[tuple[int, object, object, object]]:
    def column(name: str) -> list[object]:
        if name not in frame:
            return [None] * len(frame)
        return [None if pd.isna(v) else v for v in frame[name].tolist()]

    when, author, brand = column("created_at"), column("author_id"), column("brand")
    return [(int(p), when[p], author[p], brand[p]) for p in order]


def volume_ratios(frame: pd.DataFrame) -> list[float]:
    """Each row's brand volume ratio, from the rows before it in time order."""
    out = [1.0] * len(frame)
    fold = ActivityFold()
    for p, when, _, brand in _records(frame, time_order(frame)):
        out[p] = fold.volume(brand, when)
        fold.add(None, brand, when, (1, 0, 0, 0))
    return out


def author_histories(frame: pd.DataFrame, decided: pd.DataFrame) -> np.ndarray:
    """Each row's author history (AUTHOR_COLUMNS, an n x 4 array) from the decisions of the
    author's rows before it in time order; `decided` holds intent, sentiment, reply_action."""
    out = np.zeros((len(frame), 4), dtype=np.int64)
    fold = ActivityFold()
    preds = decided[["intent", "sentiment", "reply_action"]].to_dict("records")
    for p, when, author, _ in _records(frame, time_order(frame)):
        h = fold.history(author, when)  # type: ignore[arg-type]
        out[p] = (h.recent_mentions, h.recent_negative, h.recent_abusive, h.recent_replied)
        fold.add(author, None, when, counts(preds[p]))
    return out


@dataclass(slots=True)
class Scored:
    frame: pd.DataFrame  # the input rows with every context column filled
    decided: pd.DataFrame  # their decisions, same index
    rescored: int = 0  # rows scored a second time, with their author's history


def _redo(history: np.ndarray, decided: pd.DataFrame, policy: Policy | None) -> np.ndarray:
    """Rows whose decision their author's history may change."""
    versions = set(decided["policy_version"].unique())
    if policy is None or versions != {policy.version}:
        return history[:, 0] > 0
    return np.array(
        [
            n > 0 and history_decides(AuthorHistory(*map(int, h)), policy)
            for n, h in zip(history[:, 0], history, strict=True)
        ],
        dtype=bool,
    )


def with_context(frame: pd.DataFrame, score: Score, policy: Policy | None = None) -> Scored:
    """The rows with every context column filled (given columns are kept) and their decisions.

    `frame` has a fresh RangeIndex; `score` is the engine (local or Spark); `policy` the one
    the model decides with, when known (a policy of another version is not trusted).
    """
    frame = frame.copy()
    if "brand_volume_ratio" not in frame:
        frame["brand_volume_ratio"] = volume_ratios(frame)
    if any(c in frame for c in AUTHOR_COLUMNS):  # given: used as they are (missing ones = 0)
        for c in AUTHOR_COLUMNS:
            frame[c] = frame[c].fillna(0).astype("int64") if c in frame else 0
        return Scored(frame, score(frame))
    for c in AUTHOR_COLUMNS:
        frame[c] = 0
    decided = score(frame)
    history = author_histories(frame, decided)
    frame[list(AUTHOR_COLUMNS)] = history
    redo = _redo(history, decided, policy)
    if redo.any():
        again = score(frame[redo])
        # Replaced rows, not values written into columns: a re-scored column may have another
        # dtype (all-null SLAs where the first pass had numbers), which pandas will not cast.
        decided = pd.concat([decided.drop(index=again.index), again]).reindex(decided.index)
    frame["author_recent_replied"] = author_histories(frame, decided)[:, 3]
    return Scored(frame, decided, int(redo.sum()))
