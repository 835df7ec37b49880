"""MLflow: every training run's parameters, datasets, metrics, plots, model card and model.

The tracking store defaults to SQLite under the data dir (`Settings.tracking_uri`), artifacts
under `<data dir>/mlartifacts`; any tracking URI works by setting `SWITCHBOARD_MLFLOW_TRACKING_URI`.
Runs are named after their data and time (`cases+curated-20261201-101500`); every training file
is logged as a run input with its SHA-256, and the combined training rows as a pandas dataset.
The model is registered under `Settings.registered_model_name` with the model card as the
version's description. Aliases (`champion`, `challenger`; MLflow's stages are deprecated) are
not set here: they mirror the local registry and are written by `switchboard.training.lifecycle`
through `set_aliases`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from switchboard.data.schema import FEEDBACK_SIDECAR_SUFFIX as FEEDBACK_SIDECAR
from switchboard.settings import Settings
from switchboard.training.fit import TrainResult
from switchboard.training.plots import write_plots
from switchboard.training.progress import Progress
from switchboard.training.pyfunc import model_arguments

EXPERIMENT = "switchboard"


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


def run_name(data_files: Sequence[str], when: datetime | None = None) -> str:
    """`<data stems joined by +>-<UTC time>`, e.g. `cases+airline-20261201-101500`."""
    stems = "+".join(dict.fromkeys(Path(f).stem or Path(f).name for f in data_files)) or "data"
    if len(stems) > 60:
        stems = stems[:57] + "..."
    return f"{stems}-{(when or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}"


def _log_inputs(frame: pd.DataFrame, bundle_metadata: dict[str, Any]) -> None:
    """Every training file as a dataset input with its SHA-256; the combined rows as one more."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    for src in bundle_metadata.get("data_sources", []):
        with warnings.catch_warnings():  # "can be interpreted in multiple ways": both local
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(Path(src["path"]).resolve().as_uri())
        digest = (src["sha256"] or "missing")[:32]
        mlflow.log_input(
            MetaDataset(source, name=Path(src["path"]).name, digest=digest),
            context="training file",
            tags={"sha256": str(src["sha256"]), "bytes": str(src["bytes"])},
        )
    cols = [
        c
        for c in (
            "case_id",
            "text",
            "channel",
            "intent",
            "sentiment",
            "actionable",
            "reply_action",
            "tier",
            "responder_id",
        )
        if c in frame
    ]
    mlflow.log_input(
        mlflow.data.from_pandas(
            frame[cols].astype(str).reset_index(drop=True),
            name="training-cases",
            digest=bundle_metadata["data_fingerprint"],
        ),
        context="training",
    )


def log_run(
    settings: Settings,
    result: TrainResult,
    bundle_dir: Path,
    data_files: Sequence[str],
    frame: pd.DataFrame | None = None,
    card: str = "",
    progress: Progress | None = None,
) -> dict[str, str]:
    """Log one training run and register its model; returns run id/name and MLflow version."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    bundle = result.bundle
    steps = ["parameters", "datasets", "metrics", "plots", "model card", "model"]
    ticks: Iterable[Any] = progress(steps, len(steps)) if progress else steps
    tick = iter(ticks)
    name = run_name(data_files)
    with mlflow.start_run(experiment_id=_experiment_id(settings), run_name=name) as run:
        next(tick, None)
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
        next(tick, None)
        if frame is not None:
            _log_inputs(frame, bundle.metadata)
        _log_feedback(data_files)
        next(tick, None)
        mlflow.log_metrics(_flat_metrics(result.metrics))
        mlflow.log_metrics({f"time.{k}": v for k, v in result.timings.items()})
        for set_name, r in (bundle.metadata.get("decision_benchmark") or {}).items():
            mlflow.log_metrics({f"decision.{set_name}.{k}": float(v) for k, v in r.items()})
        next(tick, None)
        if result.test_outcomes:
            with tempfile.TemporaryDirectory() as tmp:
                write_plots(result.test_outcomes, result.metrics, Path(tmp))
                mlflow.log_artifacts(tmp, "plots")
        next(tick, None)
        if card:
            mlflow.log_text(card, "model_card.md")
        next(tick, None)
        info = mlflow.pyfunc.log_model(
            name="model",
            **model_arguments(bundle_dir, settings.policy_file),
            registered_model_name=settings.registered_model_name,
        )
        version = str(info.registered_model_version)
        client = MlflowClient()
        client.set_model_version_tag(
            settings.registered_model_name, version, "bundle_version", bundle.version
        )
        if card:
            client.update_model_version(settings.registered_model_name, version, card)
        for _ in tick:
            pass
    return {"run_id": run.info.run_id, "run_name": name, "mlflow_version": version}


def set_aliases(settings: Settings, aliases: dict[str, str | None]) -> None:
    """Point each MLflow alias at its version, or delete it (None): the registry's mirror."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    name = settings.registered_model_name
    current = read_aliases(settings, list(aliases), client)
    for alias, version in aliases.items():
        if version is not None and current.get(alias) != version:
            client.set_registered_model_alias(name, alias, version)
        elif version is None and current.get(alias) is not None:
            client.delete_registered_model_alias(name, alias)


def read_aliases(
    settings: Settings, aliases: Sequence[str], client: MlflowClient | None = None
) -> dict[str, str | None]:
    """The MLflow version each alias points at (None when unset or no such model)."""
    from mlflow.exceptions import MlflowException

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    client = client or MlflowClient(tracking_uri=settings.tracking_uri)
    try:
        model = client.get_registered_model(settings.registered_model_name)
    except MlflowException:
        return dict.fromkeys(aliases)
    found = dict(model.aliases or {})
    return {a: (str(found[a]) if a in found else None) for a in aliases}
