"""MLflow pyfunc flavour of a bundle plus the policy: the "decision" model.

It returns what `/v1/score` returns for each mention (reply, tier, priority, SLA, abstain,
rule codes, versions; batch/decisions.py), through `Router.recommend` as the service does, so
batch tooling (`mlflow.pyfunc.spark_udf`, `mlflow models serve`, `switchboard batch-score`)
gets decisions, not raw head outputs. Author history and brand volume are explicit input
columns (the service reads them from its counters). Only the training side imports this
module (it imports mlflow); the service loads bundles through the registry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, Schema

from switchboard.batch.decisions import INPUT_COLUMNS, OUTPUT_TYPES, decision_frame
from switchboard.ml.bundle import load_bundle
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router

ENTRY = Path(__file__).with_name("pyfunc_entry.py")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_SCALAR = {"string": "string", "double": "double", "int": "integer", "boolean": "boolean"}


def signature() -> ModelSignature:
    """`text` is the only required input. The others are typed `Any`: MLflow refuses to
    "safely" convert int64 followers to double or a tz-aware `created_at` to its naive
    datetime, and Spark, pandas and Parquet hand over every width; `decision_frame` reads them."""
    inputs = [ColSpec("string", "text")]
    inputs += [ColSpec(AnyType(), c, required=False) for c in INPUT_COLUMNS if c != "text"]
    outputs = [
        ColSpec(Array("string") if t.startswith("array") else _SCALAR[t], name)
        for name, t in OUTPUT_TYPES.items()
    ]
    return ModelSignature(Schema(inputs), Schema(outputs))


def model_arguments(bundle_dir: Path, policy_file: Path) -> dict[str, Any]:
    """What `log_model` and `save_model` share: models-from-code, the bundle and the policy as
    artifacts, this package as code (so Spark workers import the very code that trained)."""
    return {
        "python_model": str(ENTRY),
        "artifacts": {"bundle": str(bundle_dir), "policy": str(policy_file)},
        "code_paths": [str(PACKAGE_DIR)],
        "signature": signature(),
        "input_example": pd.DataFrame(
            {"text": ["where is my order #A1234567?"], "channel": ["twitter"]}
        ),
    }


def save_decision_model(bundle_dir: Path, policy_file: Path, path: Path) -> Path:
    """The decision model in a local directory (no tracking server): `--model DIR`."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.pyfunc.save_model(str(path), **model_arguments(bundle_dir, policy_file))
    return path


class SwitchboardPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the checksummed bundle and the policy in `load_context`; `predict` stays thin."""

    def load_context(self, context: Any) -> None:
        bundle = load_bundle(Path(context.artifacts["bundle"]))
        self.router = Router(bundle, load_policy(Path(context.artifacts["policy"])))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return decision_frame(self.router, model_input)
