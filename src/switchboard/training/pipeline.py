"""The training pipeline behind `switchboard train` and `evaluate`: fit, register, track.

Kept apart from the command line so that notebooks, tests and the CLI run the same steps.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from switchboard.errors import UserError
from switchboard.ml.bundle import Bundle, load_bundle, sha256_file
from switchboard.ml.registry import CHAMPION, Registry, UnknownVersionError
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, fit_bundle


class PipelineError(UserError):
    """A user error in what was asked of the pipeline; `exit_code` is the CLI's."""

    exit_code = 2


class NothingToTrainError(PipelineError):
    exit_code = 3


class ModelNotFoundError(PipelineError):
    exit_code = 2


def _policy_version(settings: Settings) -> str:
    try:
        with settings.policy_file.open("rb") as fh:
            return str(tomllib.load(fh).get("version", ""))
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def train_and_register(
    frame: pd.DataFrame,
    settings: Settings,
    data_files: Sequence[str],
    mlflow: bool = True,
    promote: bool = True,
    out: Path | None = None,
    config: TrainConfig | None = None,
) -> tuple[str, dict]:
    """Fit, register in the bundle registry (and MLflow), optionally promote; returns version."""
    from tqdm import tqdm

    result = fit_bundle(
        frame,
        config,
        progress=lambda steps, total: tqdm(
            steps, total=total, desc="training heads", unit="head", file=sys.stderr
        ),
        policy_version=_policy_version(settings),
    )
    if not result.bundle.heads and result.bundle.expertise is None:
        raise NothingToTrainError(f"no head had enough labelled rows to train: {result.skipped}")
    registry = Registry(settings.registry_path)
    version = registry.next_version()
    result.bundle.metadata["version"] = version
    result.bundle.metadata["data_files"] = list(data_files)
    entry = registry.register(result.bundle, version)
    if mlflow:
        from switchboard.training.tracking import log_run

        info = log_run(settings, result, entry.path, data_files, promote=promote)
        registry.annotate(version, **info)
    if promote:
        registry.set_alias(CHAMPION, version)
    if out is not None:
        shutil.copytree(entry.path, out, dirs_exist_ok=True)
    return version, result.metrics


def resolve_model(spec: str, settings: Settings, allow_unregistered: bool = False) -> Bundle:
    """A registry version/alias, or a bundle directory whose manifest the registry knows."""
    registry = Registry(settings.registry_path)
    path = Path(spec)
    if not path.is_dir():
        try:
            return registry.load(spec)
        except UnknownVersionError as exc:  # a corrupt registry reports itself, unwrapped
            raise ModelNotFoundError(f"--model {spec}: not a directory and {exc}") from exc
    manifest = path / "MANIFEST.json"
    if not manifest.is_file():
        raise ModelNotFoundError(f"--model {spec}: no MANIFEST.json; not a Switchboard bundle")
    sha = sha256_file(manifest)
    known = [v for v in registry.versions() if registry.get(v).manifest_sha256 == sha]
    if not known and not allow_unregistered:
        raise ModelNotFoundError(
            f"--model {spec}: its manifest matches no version in {registry.index_path}; "
            "pass --allow-unregistered to trust the bundle's own manifest"
        )
    return load_bundle(path, sha)
