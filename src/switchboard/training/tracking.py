"""MLflow: every training run's parameters, data fingerprint, metrics, plots and model.

The tracking store defaults to SQLite under the data dir (`Settings.tracking_uri`), artifacts
under `<data dir>/mlartifacts`; any tracking URI works by setting `SWITCHBOARD_MLFLOW_TRACKING_URI`.
The model is registered under `Settings.registered_model_name` and promoted with the
`champion` alias (MLflow's stages are deprecated).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema
from mlflow.types.utils import _infer_schema

from switchboard.data.schema import FEEDBACK_SIDECAR_SUFFIX as FEEDBACK_SIDECAR
from switchboard.ml.registry import CHAMPION
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router
from switchboard.settings import Settings
from switchboard.training.fit import TrainResult
from switchboard.training.plots import write_plots
from switchboard.training.pyfunc import INPUT_COLUMNS, predictions_frame

EXPERIMENT = "switchboard"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/switchboard: shipped with the model


def _flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for head, report in metrics["heads"].items():
        for key, value in report.items():
            if isinstance(value, int | float) and value is not None:
                out[f"{head}.{key}"] = float(value)
    return out


def _experiment_id(settings: Settings) -> str:
    existing = mlflow.get_experiment_by_name(EXPERIMENT)
    if existing is not None:
        return existing.experiment_id
    settings.artifact_root.mkdir(parents=True, exist_ok=True)
    return mlflow.create_experiment(
        EXPERIMENT, artifact_location=settings.artifact_root.resolve().as_uri()
    )


def _log_feedback(data_files: Sequence[str]) -> None:
    """Files made by `export-feedback` go in whole, with their manifest, so the run records
    exactly which reviewed predictions it learnt from."""
    feedback = [Path(f) for f in data_files if Path(f + FEEDBACK_SIDECAR).is_file()]
    for path in feedback:
        mlflow.log_artifact(str(path), "feedback")
        mlflow.log_artifact(str(path) + FEEDBACK_SIDECAR, "feedback")
    if feedback:
        rows = sum(
            json.loads(Path(str(p) + FEEDBACK_SIDECAR).read_text())["rows"] for p in feedback
        )
        mlflow.set_tags({"feedback_files": ", ".join(map(str, feedback)), "feedback_rows": rows})


def log_run(
    settings: Settings,
    result: TrainResult,
    bundle_dir: Path,
    data_files: Sequence[str],
    promote: bool = True,
) -> dict[str, str]:
    """Log one training run and register its model; returns run id and registry version."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    bundle = result.bundle
    with mlflow.start_run(experiment_id=_experiment_id(settings)) as run:
        mlflow.log_params({f"config.{k}": v for k, v in bundle.metadata["config"].items()})
        mlflow.log_params({f"{h}.C": s["C"] for h, s in result.selection.items()})
        mlflow.set_tags(
            {
                "data_fingerprint": bundle.metadata["data_fingerprint"],
                "data_files": ", ".join(data_files),
                "split_rule": bundle.metadata["split_rule"],
                "bundle_version": bundle.version,
                "policy_version": bundle.metadata.get("policy_version", ""),
            }
        )
        mlflow.log_dict(bundle.metadata, "metadata.json")
        _log_feedback(data_files)
        mlflow.log_metrics(_flat_metrics(result.metrics))
        mlflow.log_metrics({f"time.{k}": v for k, v in result.timings.items()})
        if result.test_outcomes:
            with tempfile.TemporaryDirectory() as tmp:
                write_plots(result.test_outcomes, result.metrics, Path(tmp))
                mlflow.log_artifacts(tmp, "plots")
        example = _input_example(result.test_inputs)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PACKAGE_DIR / "training" / "pyfunc_entry.py"),
            artifacts={"bundle": str(bundle_dir), "policy": str(settings.policy_file)},
            code_paths=[str(PACKAGE_DIR)],
            signature=_signature(Router(bundle, load_policy(settings.policy_file)), example),
            input_example=example,
            registered_model_name=settings.registered_model_name,
        )
        version = str(info.registered_model_version)
        client = MlflowClient()
        client.set_model_version_tag(
            settings.registered_model_name, version, "bundle_version", bundle.version
        )
        if promote:
            client.set_registered_model_alias(settings.registered_model_name, CHAMPION, version)
    return {"run_id": run.info.run_id, "mlflow_version": version}


def _signature(router: Router, example: pd.DataFrame) -> ModelSignature:
    """Only `text` is required; the other inputs improve predictions when present."""
    inputs = Schema(
        [
            ColSpec("string", "text"),
            ColSpec("string", "channel", required=False),
            ColSpec("double", "author_followers", required=False),
            ColSpec("boolean", "author_verified", required=False),
        ]
    )
    return ModelSignature(inputs, _infer_schema(predictions_frame(router, example)))


def _input_example(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in INPUT_COLUMNS if c in frame]
    example = frame[cols].head(3).copy() if len(frame) else pd.DataFrame({"text": ["hi"]})
    for c in INPUT_COLUMNS:
        if c not in example:
            example[c] = None
    example["text"] = example["text"].astype(str)
    example["channel"] = example["channel"].astype(object).where(example["channel"].notna(), "")
    example["author_followers"] = example["author_followers"].astype("float64")
    example["author_verified"] = (
        example["author_verified"].astype("boolean").fillna(False).astype(bool)
    )
    return example.reset_index(drop=True)
