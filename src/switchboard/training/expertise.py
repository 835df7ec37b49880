"""Learn responder expertise from handled cases (see models/expertise.py for how it is used)."""

from __future__ import annotations

import pandas as pd

from switchboard.ml.expertise import ExpertiseModel, shrink
from switchboard.ml.heads import LinearHead


def success(frame: pd.DataFrame) -> pd.Series:
    """A handling succeeded when it resolved the case, or, lacking that label, was fast.

    "Fast" is at most the median first response of the history, so that half the team is not
    an expert by definition whatever the absolute speeds are.
    """
    fast = pd.Series(False, index=frame.index)
    if "first_response_s" in frame and frame["first_response_s"].notna().any():
        median = frame["first_response_s"].median()
        fast = frame["first_response_s"].le(median).fillna(False)
    if "resolved" in frame and frame["resolved"].notna().any():
        resolved = frame["resolved"].astype("boolean")
        return resolved.fillna(fast).astype(bool)
    return fast.astype(bool)


def _quality_tables(
    frame: pd.DataFrame, ok: pd.Series, strength: float
) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    team = float(ok.mean())
    by_resp = ok.groupby(frame["responder_id"]).agg(["sum", "count"])
    quality = {str(r): shrink(s, n, team, strength) for r, (s, n) in by_resp.iterrows()}
    by_intent: dict[str, dict[str, float]] = {}
    if "intent" in frame and frame["intent"].notna().any():
        labelled = frame["intent"].notna()
        grouped = ok[labelled].groupby([frame["responder_id"][labelled], frame["intent"][labelled]])
        for (r, intent), g in grouped:
            base = quality[str(r)]
            by_intent.setdefault(str(r), {})[str(intent)] = shrink(g.sum(), len(g), base, strength)
    return team, quality, by_intent


def fit_expertise(
    frame: pd.DataFrame, affinity: LinearHead | None, strength: float = 10.0
) -> ExpertiseModel | None:
    """Quality tables from the rows of `frame` that name a responder; None if none do.

    `affinity` is the responder classifier training fitted like any other head.
    """
    if "responder_id" not in frame:
        return None
    has = frame["responder_id"].notna().to_numpy()
    if not has.any():
        return None
    rows = frame[has]
    ok = success(rows)
    team, quality, by_intent = _quality_tables(rows, ok, strength)
    counts = {str(k): int(v) for k, v in rows["responder_id"].value_counts().items()}
    brand_of: dict[str, str] = {}
    if "brand" in rows and rows["brand"].notna().any():
        top = (
            rows.dropna(subset=["brand"])
            .groupby("responder_id")["brand"]
            .agg(lambda b: b.value_counts().index[0])
        )
        brand_of = {str(k): str(v) for k, v in top.items()}
    return ExpertiseModel(
        affinity=affinity,
        counts=counts,
        quality=quality,
        quality_by_intent=by_intent,
        brand_of=brand_of,
        team_quality=team,
        strength=strength,
    )
