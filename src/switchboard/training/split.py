"""The split rule: which rows train, which choose hyperparameters, which measure.

In order of precedence:
1. a `split` column given by the data (official splits, SPLIT_RULE.md adapters) is obeyed;
   rows it leaves empty, and a missing `val` part, fall back to the rules below;
2. with `created_at` on every row: time-ordered, the latest 20 % test, the 10 % before val,
   because a router is always used on mentions newer than its training data;
3. otherwise a stable hash of `case_id` (SPLIT_RULE.md's bucket), so a row never changes side
   between runs.
"""

from __future__ import annotations

import pandas as pd

from switchboard.data.splits import bucket

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1


def hash_split(ids: pd.Series) -> pd.Series:
    test = ids.map(lambda k: bucket(k) == 0)
    val = ids.map(lambda k: bucket(k, 8, salt="val:") == 0) & ~test
    return pd.Series("train", index=ids.index).mask(val, "val").mask(test, "test")


def _time_split(created: pd.Series) -> pd.Series:
    # Rank with the index as tie-breaker so equal timestamps split deterministically.
    order = created.reset_index(drop=True).sort_values(kind="stable").index
    n = len(created)
    n_test = round(n * TEST_FRACTION)
    n_val = round(n * VAL_FRACTION)
    labels = pd.Series("train", index=range(n))
    labels.iloc[order[n - n_test :]] = "test"
    labels.iloc[order[n - n_test - n_val : n - n_test]] = "val"
    return pd.Series(labels.to_numpy(), index=created.index)


def split_rule(frame: pd.DataFrame) -> str:
    """Name of the rule `assign_split` applies to this frame (for logs and metadata)."""
    if "split" in frame and frame["split"].notna().any():
        return "given"
    if "created_at" in frame and len(frame) and frame["created_at"].notna().all():
        return "time"
    return "hash"


def assign_split(frame: pd.DataFrame) -> pd.Series:
    """'train' / 'val' / 'test' for every row, by the rule in the module docstring."""
    rule = split_rule(frame)
    if rule == "time":
        return _time_split(frame["created_at"])
    fallback = hash_split(frame["case_id"].astype(str))
    if rule == "hash":
        return fallback
    given = frame["split"].astype("object").where(frame["split"].notna(), None)
    out = given.fillna(fallback)
    if not (out == "val").any():
        # No validation part given: carve it out of the given training rows.
        carve = (out == "train") & (fallback == "val")
        out = out.mask(carve, "val")
    return out.astype(str)
