"""MLflow pyfunc flavour of a bundle plus the policy: the registered model recommends exactly
as the service does, through `Router.recommend`, so batch tooling (`mlflow models serve`,
`spark_udf`) gets reply, tier and priority, not raw head outputs. Only the training side
imports this module (it imports mlflow); the service loads bundles through the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from switchboard.ml.bundle import load_bundle
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router, mentions_from_records

INPUT_COLUMNS = ("text", "channel", "author_followers", "author_verified")


def predictions_frame(router: Router, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per input: every head's label and confidence, then the recommendation."""
    records = frame.to_dict("records")
    rows: list[dict[str, Any]] = []
    for rec in router.recommend(mentions_from_records(records)):
        row: dict[str, Any] = {}
        for head, hp in rec.heads.items():
            row[f"{head}_label"] = hp.label
            row[f"{head}_confidence"] = hp.confidence
        d = rec.decision
        row |= {
            "reply": d.reply_action,
            "tier": d.tier,
            "priority": d.priority,
            "abstain": d.abstain,
            "reasons": ",".join(d.reply_reasons),
            "policy_version": router.policy.version,
        }
        rows.append(row)
    return pd.DataFrame(rows, index=frame.index)


class SwitchboardPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the checksummed bundle and the policy in `load_context`; `predict` stays thin."""

    def load_context(self, context: Any) -> None:
        bundle = load_bundle(Path(context.artifacts["bundle"]))
        self.router = Router(bundle, load_policy(Path(context.artifacts["policy"])))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return predictions_frame(self.router, model_input)
