"""`switchboard`: the command line of the offline side (and the quick start).

Exit codes: 0 success; 1 `validate` found rejects; 2 bad input (unreadable data, missing
column, bad --map, unknown model); 3 nothing trainable in the data.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from switchboard.data.errors import DataError
from switchboard.data.loaders import FORMATS, LoadReport, load_cases, parse_mapping
from switchboard.ml.bundle import Bundle, BundleIntegrityError, load_bundle, sha256_file
from switchboard.ml.registry import CHAMPION, Registry, RegistryError
from switchboard.settings import SHIPPED_DATA, Settings, get_settings
from switchboard.training.fit import TrainConfig, cross_validate, fit_bundle

SAMPLE_CASES = SHIPPED_DATA / "sample" / "cases.csv"
SAMPLE_ROSTER = SHIPPED_DATA / "sample" / "roster.json"


class CliError(Exception):
    """A user error: printed without a traceback."""

    exit_code = 2


class NothingToTrain(CliError):
    exit_code = 3


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def _data_args(p: argparse.ArgumentParser, many: bool = True) -> None:
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        action="append" if many else "store",
        help="labelled cases (.csv, .jsonl, .parquet) or a dataset dir for --format"
        + (" ; repeat to combine files" if many else ""),
    )
    p.add_argument("--format", default="auto", choices=FORMATS, help="adapter (default: auto)")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="TARGET=SOURCE",
        help="rename a source column onto a schema column, e.g. --map text=tweet_body",
    )
    p.add_argument("--rejects", type=Path, help="where rejected rows go (default: under data dir)")


def _load(args: argparse.Namespace, settings: Settings) -> LoadReport:
    paths = args.data if isinstance(args.data, list) else [args.data]
    rejects = args.rejects or settings.data_dir / "rejects" / f"{paths[0].stem}-rejects.csv"
    report = load_cases(paths, args.format, parse_mapping(args.map), rejects_path=rejects)
    _say(report.summary())
    return report


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

    from switchboard.training.split import assign_split

    result = fit_bundle(
        frame,
        config,
        progress=lambda steps, total: tqdm(
            steps, total=total, desc="training heads", unit="head", file=sys.stderr
        ),
        policy_version=_policy_version(settings),
    )
    if not result.bundle.heads and result.bundle.expertise is None:
        raise NothingToTrain(f"no head had enough labelled rows to train: {result.skipped}")
    registry = Registry(settings.registry_path)
    version = registry.next_version()
    result.bundle.metadata["version"] = version
    result.bundle.metadata["data_files"] = list(data_files)
    entry = registry.register(result.bundle, version)
    if mlflow:
        from switchboard.training.tracking import log_run

        frame = frame.reset_index(drop=True)
        test = frame[(assign_split(frame) == "test").to_numpy()]
        info = log_run(settings, result, test, entry.path, data_files, promote=promote)
        registry.annotate(version, **info)
    if promote:
        registry.set_alias(CHAMPION, version)
    if out is not None:
        shutil.copytree(entry.path, out, dirs_exist_ok=True)
    return version, result.metrics


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.training.evaluate import format_report

    report = _load(args, settings)
    config = TrainConfig(
        featurisations=tuple(args.featurisations.split(",")),
        latency_budget_ms=args.latency_budget_ms,
    )
    if args.cv:
        cv = cross_validate(report.accepted, args.cv, config)
        print(f"{args.cv}-fold cross-validation (pooled out-of-fold predictions):")
        print(format_report(cv, per_class=args.per_class))
        if args.cv_json:
            args.cv_json.write_text(json.dumps(cv, indent=2))
    version, metrics = train_and_register(
        report.accepted,
        settings,
        [str(p) for p in args.data],
        mlflow=not args.no_mlflow,
        promote=not args.no_promote,
        out=args.out,
        config=config,
    )
    print(f"registered {version}" + ("" if args.no_promote else f" as {CHAMPION}"))
    if metrics["heads"]:
        print("held-out test split:")
        print(format_report(metrics, per_class=args.per_class))
    return 0


def resolve_model(spec: str, settings: Settings, allow_unregistered: bool = False) -> Bundle:
    """A registry version/alias, or a bundle directory whose manifest the registry knows."""
    registry = Registry(settings.registry_path)
    path = Path(spec)
    if not path.is_dir():
        try:
            return registry.load(spec)
        except RegistryError as exc:
            raise CliError(f"--model {spec}: not a directory and {exc}") from exc
    manifest = path / "MANIFEST.json"
    if not manifest.is_file():
        raise CliError(f"--model {spec}: no MANIFEST.json; not a Switchboard bundle")
    sha = sha256_file(manifest)
    known = [v for v in registry.versions() if registry.get(v).manifest_sha256 == sha]
    if not known and not allow_unregistered:
        raise CliError(
            f"--model {spec}: its manifest matches no version in {registry.index_path}; "
            "pass --allow-unregistered to trust the bundle's own manifest"
        )
    return load_bundle(path, sha)


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.routing.policy import load_policy
    from switchboard.training.evaluate import abstention_report, evaluate_bundle, format_report
    from switchboard.training.split import assign_split

    bundle = resolve_model(args.model, settings, args.allow_unregistered)
    frame = _load(args, settings).accepted.reset_index(drop=True)
    if args.split == "test":
        frame = frame[(assign_split(frame) == "test").to_numpy()]
    if frame.empty:
        raise CliError(f"no rows to evaluate in the {args.split!r} split")
    X = bundle.vectorise(frame)
    report = evaluate_bundle(bundle, frame, X)
    if "is_oos" in frame:
        report["abstention"] = abstention_report(
            bundle, load_policy(settings.policy_file), frame, X
        )
    if args.json:
        print(json.dumps({"model_version": bundle.version, "split": args.split, **report}))
    else:
        print(f"model {bundle.version} on {len(frame)} rows ({args.split} split)")
        print(format_report(report, per_class=True))
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    report = _load(args, settings)
    return 1 if len(report.rejects) else 0


def _since(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"--since must be a date like 2026-11-01, got {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_export_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.service.db import make_engine, migrate
    from switchboard.service.feedback import export, sidecar

    url = settings.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise CliError(f"no service database at {url.removeprefix('sqlite:///')}")
    since = _since(args.since)
    engine = make_engine(url)
    try:
        migrate(engine)
        report = export(engine, since, args.out)
    finally:
        engine.dispose()
    print(
        f"exported {report.rows} labelled cases ({report.reviewed} reviewed, "
        f"{report.outcome_only} from outcomes only) to {args.out}; manifest {sidecar(args.out)}"
    )
    return 0


def cmd_synth(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.data.synth import generate, write

    data = generate(args.n, seed=args.seed)
    write(data, args.out, args.roster)
    _say(
        f"wrote {len(data.cases)} cases to {args.out}"
        + (f", roster to {args.roster}" if args.roster else "")
    )
    return 0


def _serve_argv(args: argparse.Namespace, seed_roster: Path | None) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "switchboard.cli.service",
        "serve",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    if seed_roster is not None:
        argv += ["--seed-roster", str(seed_roster)]
    return argv


def _exec_service(argv: list[str]) -> int:
    """Replace this process with the service: it must not carry the training side in memory."""
    if importlib.util.find_spec("switchboard.cli.service") is None:
        _say("the scoring service (service/) is not part of this build yet; nothing to serve")
        return 0
    os.execv(argv[0], argv)
    return 0  # pragma: no cover


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    return _exec_service(_serve_argv(args, args.seed_roster))


def cmd_quickstart(args: argparse.Namespace, settings: Settings) -> int:
    registry = Registry(settings.registry_path)
    if registry.has(CHAMPION):
        _say(f"champion {registry.get(CHAMPION).version} found in {registry.index_path}")
    else:
        _say(f"no champion model yet: training on the shipped sample {SAMPLE_CASES}")
        report = load_cases(
            [SAMPLE_CASES], "auto", {}, settings.data_dir / "rejects" / "sample.csv"
        )
        _say(report.summary())
        version, _ = train_and_register(report.accepted, settings, [str(SAMPLE_CASES)])
        _say(f"trained and promoted {version}")
    if args.no_serve:
        return 0
    return _exec_service(_serve_argv(args, SAMPLE_ROSTER))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train every head the data has labels for, and register it")
    _data_args(p)
    p.add_argument("--out", type=Path, help="also copy the bundle to this directory")
    p.add_argument("--cv", type=int, metavar="K", help="first report K-fold cross-validation")
    p.add_argument("--cv-json", type=Path, help="write the CV report as JSON here")
    p.add_argument("--no-mlflow", action="store_true", help="skip MLflow logging/registration")
    p.add_argument("--no-promote", action="store_true", help="register without the champion alias")
    p.add_argument("--per-class", action="store_true", help="print per-class figures too")
    p.add_argument(
        "--featurisations",
        default="tfidf",
        help="candidates compared per head: tfidf or tfidf,tfidf+minilm (needs `make embed`)",
    )
    p.add_argument(
        "--latency-budget-ms",
        type=float,
        default=TrainConfig().latency_budget_ms,
        help="per-mention cost an extra featurisation may add (default: %(default)s)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a registered model against labelled cases")
    p.add_argument("--model", required=True, help="bundle dir, registry version (v3) or alias")
    _data_args(p, many=False)
    p.add_argument("--split", choices=("test", "all"), default="test", help="default: test")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--allow-unregistered", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="check data; write rejects; exit 1 if any row is rejected")
    _data_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "export-feedback", help="reviewed predictions and outcomes as labelled cases (CSV)"
    )
    p.add_argument("--since", required=True, help="verdicts/outcomes recorded from this date on")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_export_feedback)

    p = sub.add_parser("synth", help="generate deterministic synthetic cases and a roster")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--roster", type=Path)
    p.set_defaults(func=cmd_synth)

    for name, func, text in (
        ("serve", cmd_serve, "run the scoring service"),
        ("quickstart", cmd_quickstart, "train on the shipped sample if needed, then serve"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        p.set_defaults(func=func)
    sub.choices["serve"].add_argument("--seed-roster", type=Path)
    sub.choices["quickstart"].add_argument("--no-serve", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings or get_settings()
    if getattr(args, "host", "") is None:
        args.host = settings.host
    if getattr(args, "port", 0) is None:
        args.port = settings.port
    try:
        return int(args.func(args, settings))
    except (CliError, DataError, BundleIntegrityError) as exc:
        _say(f"switchboard {args.command}: error: {exc}")
        return exc.exit_code if isinstance(exc, CliError) else 2


if __name__ == "__main__":
    sys.exit(main())
