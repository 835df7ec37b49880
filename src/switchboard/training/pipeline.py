"""The training pipeline behind `switchboard train` and `evaluate`: fit, register, track.

Kept apart from the command line so that notebooks, tests and the CLI run the same steps.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from switchboard.errors import UserError
from switchboard.ml.bundle import Bundle, load_bundle, save_bundle, sha256_file
from switchboard.ml.registry import CHALLENGER, CHAMPION, Registry, UnknownVersionError
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, TrainResult, fit_bundle
from switchboard.training.lifecycle import DEFAULT_TOLERANCE


class PipelineError(UserError):
    """A user error in what was asked of the pipeline; `exit_code` is the CLI's."""

    exit_code = 2


class NothingToTrainError(PipelineError):
    exit_code = 3


class ModelNotFoundError(PipelineError):
    exit_code = 2


def policy_version(settings: Settings) -> str:
    try:
        with settings.policy_file.open("rb") as fh:
            return str(tomllib.load(fh).get("version", ""))
    except (OSError, tomllib.TOMLDecodeError):
        return ""


@dataclass(slots=True)
class TrainOutcome:
    """What `train_and_register` did: the version (or None with `out`), its figures, and
    whether and how it became champion."""

    version: str | None
    metrics: dict[str, Any]
    promoted: bool = False
    # Why not promoted, or the gate's objections when `promote` was asked and refused.
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    card: str = ""


def train_and_register(
    frame: pd.DataFrame | None,
    settings: Settings,
    data_files: Sequence[str],
    mlflow: bool = True,
    promote: bool | None = None,
    out: Path | None = None,
    config: TrainConfig | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    benchmark: bool = True,
    quiet: bool = False,
    fitted: TrainResult | None = None,
) -> TrainOutcome:
    """Fit; then either write the bundle to `out` (nothing else), or register it (and log it to
    MLflow) as a new version.

    Promotion: `promote=None` (the default) promotes only when there is no champion yet — the
    first version has nothing to beat — and otherwise makes the new version the `challenger`;
    `promote=True` asks the gate (`lifecycle.gate`) and promotes when it passes; `promote=False`
    never promotes.

    `fitted`: a result trained elsewhere (the streaming trainer, training/stream.py, which never
    holds a frame); `frame` is then None and only the files are logged as MLflow inputs.
    """
    from switchboard.routing.policy import load_policy
    from switchboard.routing.router import Router
    from switchboard.training import lifecycle
    from switchboard.training.card import build_card, data_sources
    from switchboard.training.progress import progress

    registry = Registry(settings.registry_path)
    if fitted is not None:
        result = fitted
    elif frame is not None:
        result = fit_bundle(
            frame,
            config,
            progress=progress("heads", "head", quiet),
            policy_version=policy_version(settings),
            stages=progress("training", "stage", quiet),
        )
    else:
        raise ValueError("train_and_register needs a frame or a fitted result")
    if not result.bundle.heads and result.bundle.expertise is None:
        raise NothingToTrainError(f"no head had enough labelled rows to train: {result.skipped}")
    bundle = result.bundle
    policy = load_policy(settings.policy_file)
    bundle.metadata["data_files"] = list(data_files)
    bundle.metadata["data_sources"] = data_sources(data_files)
    note = "--no-benchmark"
    if benchmark:
        decision, note = lifecycle.decision_benchmark(Router(bundle, policy))
        bundle.metadata["decision_benchmark"] = decision
    if out is not None:  # a scratch bundle: the registry and MLflow are left as they were
        bundle.metadata["version"] = "unregistered"
        save_bundle(bundle, out)
        card = build_card(
            bundle.metadata,
            result.metrics,
            lifecycle.compatibility_problems(bundle.metadata, policy),
            bundle.metadata.get("decision_benchmark"),
            note,
        )
        return TrainOutcome(None, result.metrics, notes=[f"bundle written to {out}"], card=card)

    version = registry.next_version()
    bundle.metadata["version"] = version
    champion = lifecycle.read_metadata(registry, CHAMPION) if registry.has(CHAMPION) else None
    card = build_card(
        bundle.metadata,
        result.metrics,
        lifecycle.compatibility_problems(bundle.metadata, policy, champion),
        bundle.metadata.get("decision_benchmark"),
        note,
    )
    entry = registry.register(bundle, version)
    registry.write_card(version, card)
    if mlflow:
        from switchboard.training.tracking import log_run

        info = log_run(
            settings,
            result,
            entry.path,
            data_files,
            frame=frame,
            card=card,
            progress=progress("MLflow", "step", quiet),
        )
        registry.annotate(version, **info)
    outcome = TrainOutcome(version, result.metrics, card=card)
    if promote is None and champion is not None:
        outcome.refused = [
            f"{CHAMPION} is {registry.get(CHAMPION).version}; pass --promote "
            "to ask the gate, or `switchboard models promote`"
        ]
    elif promote is False:
        outcome.refused = ["--no-promote"]
    else:
        try:
            _, gate, warning = lifecycle.promote(
                settings,
                version,
                policy,
                tolerance=tolerance,
                reason="" if champion else "first version: nothing to beat",
            )
            outcome.promoted = True
            outcome.notes += gate.notes + ([warning] if warning else [])
        except lifecycle.PromotionRefused as exc:
            outcome.refused = [str(exc)]
    if not outcome.promoted:
        warning = lifecycle.set_challenger(settings, version)
        outcome.notes += [f"{version} is the {CHALLENGER}"] + ([warning] if warning else [])
    return outcome


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
