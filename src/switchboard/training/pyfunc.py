"""MLflow pyfunc flavour of a bundle, so the registry's model can be loaded and served by
MLflow tooling too. Only the training side imports this module (it imports mlflow); the
Switchboard service loads bundles directly through `switchboard.ml.registry`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from switchboard.ml.bundle import Bundle, load_bundle

INPUT_COLUMNS = ("text", "channel", "author_followers", "author_verified")


def predictions_frame(bundle: Bundle, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per input: `<head>_label` and `<head>_confidence` for every head."""
    preds = bundle.predict(frame)
    rows: list[dict[str, Any]] = []
    for p in preds:
        row: dict[str, Any] = {}
        for head, hp in p.items():
            row[f"{head}_label"] = hp.label
            row[f"{head}_confidence"] = hp.confidence
        rows.append(row)
    return pd.DataFrame(rows, index=frame.index)


class SwitchboardPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the checksummed bundle in `load_context`; `predict` stays a thin call."""

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts["bundle"]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return predictions_frame(self.bundle, model_input)
