"""`switchboard train | evaluate | validate | synth`: the offline side's commands.

Heavy imports happen inside each command, so `switchboard --help` and `switchboard serve`
never load the training stack.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from switchboard.cli.common import EXIT_REFUSED, CliError, say
from switchboard.cli.extras import require_extra
from switchboard.data.loaders import FORMATS, LoadReport, load_cases, parse_mapping
from switchboard.data.readers import DEFAULT_ENCODING
from switchboard.settings import Settings


def _data_args(p: argparse.ArgumentParser, many: bool = True, required: bool = True) -> None:
    p.add_argument(
        "--data",
        type=Path,
        required=required,
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
    p.add_argument(
        "--rejects",
        type=Path,
        help="where rejected rows go (default: under data dir); replaced on every run and "
        "removed when no row is rejected",
    )
    p.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="text encoding of .csv/.tsv/.jsonl files (default: %(default)s); a file that does "
        "not decode is refused naming line and column of the first bad byte",
    )


def _load(args: argparse.Namespace, settings: Settings, purpose: str | None = None) -> LoadReport:
    """Load and validate `--data`; with a `purpose`, refuse (exit 3) when no row is usable."""
    from switchboard.training.progress import progress

    paths = args.data if isinstance(args.data, list) else [args.data]
    rejects = args.rejects or settings.data_dir / "rejects" / f"{paths[0].stem}-rejects.csv"
    report = load_cases(
        paths,
        args.format,
        parse_mapping(args.map),
        rejects_path=rejects,
        encoding=args.encoding,
        progress=progress("loading", "file", getattr(args, "quiet", False)),
    )
    say(report.summary())
    if purpose is not None:
        report.require_rows(purpose)
    return report


def _check_registry(settings: Settings) -> None:
    """Read the registry before the work, so a corrupt one is reported before a long fit."""
    from switchboard.ml.registry import Registry

    Registry(settings.registry_path).versions()


def _streaming(args: argparse.Namespace, settings: Settings) -> bool:
    """--streaming / --in-memory, else streaming when the Parquet inputs hold more than
    `SWITCHBOARD_STREAMING_ABOVE` rows (counted from Parquet metadata, nothing read)."""
    from switchboard.training.stream_source import count_rows

    if args.streaming or args.in_memory:
        return bool(args.streaming)
    if args.format != "auto" or args.cv:
        return False
    rows = count_rows(args.data)
    return rows is not None and rows > settings.streaming_above


def _train_streaming(args: argparse.Namespace, settings: Settings) -> Any:
    """Fit with the streaming trainer (training/stream.py); the result for train_and_register."""
    import pandas as pd

    from switchboard.data.validate import write_rejects
    from switchboard.training.fit import TrainConfig
    from switchboard.training.pipeline import policy_version
    from switchboard.training.progress import progress
    from switchboard.training.stream import StreamConfig, fit_stream
    from switchboard.training.stream_source import ChunkStats, ParquetSource

    if args.cv:
        raise CliError("--cv needs the in-memory trainer; drop --streaming or --cv")
    if args.format != "auto":
        raise CliError(f"--format {args.format}: the streaming trainer reads Parquet files only")
    source = ParquetSource(args.data, chunk_rows=args.chunk_rows, mapping=parse_mapping(args.map))
    say(
        f"streaming trainer: {len(source.paths)} Parquet file(s) in chunks of "
        f"{args.chunk_rows:,} rows; plain tf-idf heads (no semantic block, no second opinion)"
    )
    rejects = args.rejects or settings.data_dir / "rejects" / f"{args.data[0].stem}-rejects.csv"
    rejects.unlink(missing_ok=True)
    stats = ChunkStats()
    result = fit_stream(
        source,
        TrainConfig(featurisations=("tfidf",)),
        StreamConfig(chunk_rows=args.chunk_rows, scratch_dir=settings.data_dir),
        progress=progress("epochs", "epoch", args.quiet),
        policy_version=policy_version(settings),
        stages=progress("training", "stage", args.quiet),
        stats=stats,
    )
    where = ""
    if stats.rejects:
        write_rejects(pd.concat(stats.rejects, ignore_index=True), rejects)
        where = f" (first {sum(len(r) for r in stats.rejects):,} in {rejects})"
    say(
        f"read {stats.n_in:,} rows: {stats.n_accepted:,} accepted + "
        f"{stats.n_rejected:,} rejected{where}"
    )
    return result


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.ml.registry import CHAMPION
    from switchboard.training.evaluate import format_report
    from switchboard.training.fit import TrainConfig, cross_validate
    from switchboard.training.pipeline import train_and_register
    from switchboard.training.progress import progress

    require_extra("train", "train")
    if args.promote and args.no_promote:
        raise CliError("--promote and --no-promote contradict each other")
    if args.out is not None and args.promote:
        raise CliError("--out writes a bundle outside the registry; it cannot be promoted")
    if args.streaming and args.in_memory:
        raise CliError("--streaming and --in-memory contradict each other")
    if args.chunk_rows < 1:
        raise CliError(f"--chunk-rows must be positive, got {args.chunk_rows}")
    if args.out is None:
        _check_registry(settings)
    if _streaming(args, settings):
        fitted, frame = _train_streaming(args, settings), None
    else:
        fitted, frame = None, _load(args, settings, "train on").accepted
    config = TrainConfig(
        featurisations=tuple(args.featurisations.split(",")),
        latency_budget_ms=args.latency_budget_ms,
        second_opinion=not args.no_second_opinion,
    )
    if args.cv:
        cv = cross_validate(
            frame, args.cv, config, progress=progress("CV folds", "fold", args.quiet)
        )
        print(f"{args.cv}-fold cross-validation (pooled out-of-fold predictions):")
        print(format_report(cv, per_class=args.per_class))
        if args.cv_json:
            args.cv_json.write_text(json.dumps(cv, indent=2))
    outcome = train_and_register(
        frame,
        settings,
        [str(p) for p in args.data],
        mlflow=not args.no_mlflow and args.out is None,
        promote=True if args.promote else (False if args.no_promote else None),
        out=args.out,
        config=config,
        tolerance=args.tolerance,
        benchmark=not args.no_benchmark,
        quiet=args.quiet,
        fitted=fitted,
    )
    if outcome.version is None:
        print(f"wrote an unregistered bundle to {args.out} (the registry is unchanged)")
    elif outcome.promoted:
        print(f"registered {outcome.version} and promoted it to {CHAMPION}")
    else:
        print(f"registered {outcome.version}; not promoted: " + "; ".join(outcome.refused))
    for note in outcome.notes:
        say(note)
    if outcome.metrics["heads"]:
        print("held-out test split:")
        print(format_report(outcome.metrics, per_class=args.per_class))
    if args.promote and not outcome.promoted:
        return EXIT_REFUSED
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.routing.policy import load_policy
    from switchboard.routing.router import Router
    from switchboard.training.evaluate import abstention_report, evaluate_bundle, format_report
    from switchboard.training.pipeline import resolve_model
    from switchboard.training.split import assign_split

    bundle = resolve_model(args.model, settings, args.allow_unregistered)
    frame = _load(args, settings, "evaluate").accepted.reset_index(drop=True)
    if args.split == "test":
        frame = frame[(assign_split(frame) == "test").to_numpy()]
    if frame.empty:
        raise CliError(f"no rows to evaluate in the {args.split!r} split")
    X = bundle.vectorise(frame)
    report = evaluate_bundle(bundle, frame, X)
    if "is_oos" in frame:
        router = Router(bundle, load_policy(settings.policy_file))
        report["abstention"] = abstention_report(router, frame)
    if args.json:
        print(json.dumps({"model_version": bundle.version, "split": args.split, **report}))
    else:
        print(f"model {bundle.version} on {len(frame)} rows ({args.split} split)")
        print(format_report(report, per_class=True))
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    report = _load(args, settings)
    for line in report.reject_lines():
        say(line)
    return 1 if len(report.rejects) else 0


def cmd_synth(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.data.synth import generate, write

    if args.chunk_rows is not None:
        return _synth_chunks(args)
    data = generate(args.n, seed=args.seed)
    write(data, args.out, args.roster)
    say(
        f"wrote {len(data.cases)} cases to {args.out}"
        + (f", roster to {args.roster}" if args.roster else "")
    )
    return 0


def _synth_chunks(args: argparse.Namespace) -> int:
    """`--chunk-rows`: Parquet chunks in the directory `--out`, one chunk in memory at a time."""
    from switchboard.data.synth import build_roster
    from switchboard.data.synth.chunks import write_chunks

    if args.n < 1 or args.chunk_rows < 1:
        raise CliError(f"--n and --chunk-rows must be positive, got {args.n}, {args.chunk_rows}")
    try:
        paths = write_chunks(args.n, args.out, seed=args.seed, chunk_rows=args.chunk_rows)
    except ValueError as exc:
        raise CliError(f"--out {args.out}: {exc}") from exc
    if args.roster:
        args.roster.parent.mkdir(parents=True, exist_ok=True)
        args.roster.write_text(json.dumps(build_roster(), indent=2, ensure_ascii=False) + "\n")
    say(f"wrote {args.n:,} cases in {len(paths)} Parquet chunks to {args.out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train every head the data has labels for, and register it")
    _data_args(p)
    p.add_argument(
        "--out",
        type=Path,
        help="write the bundle to this directory only: no registry version, no MLflow run",
    )
    p.add_argument("--cv", type=int, metavar="K", help="first report K-fold cross-validation")
    p.add_argument("--cv-json", type=Path, help="write the CV report as JSON here")
    p.add_argument("--no-mlflow", action="store_true", help="skip MLflow logging/registration")
    p.add_argument(
        "--promote",
        action="store_true",
        help="promote the new version to champion if it passes the gate (exit 4 if not); "
        "without it only the first version (no champion yet) is promoted",
    )
    p.add_argument(
        "--no-promote", action="store_true", help="never promote, not even the first version"
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.02,
        help="how much worse than the champion a head's macro-F1 or the decision accuracy may "
        "be for --promote (default: %(default)s)",
    )
    p.add_argument(
        "--no-benchmark",
        action="store_true",
        help="skip the decision benchmark on real text (bench/decision.py, needs ../shared)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars (none off a terminal)")
    p.add_argument("--per-class", action="store_true", help="print per-class figures too")
    p.add_argument(
        "--featurisations",
        default="tfidf,tfidf+static",
        help="candidates compared per head: tfidf plus at most one semantic block, "
        "tfidf+static (default) or tfidf+minilm (needs `make embed`); `tfidf` alone turns "
        "the block off",
    )
    p.add_argument(
        "--latency-budget-ms",
        type=float,
        default=0.5,
        help="per-mention cost an extra featurisation may add (default: %(default)s)",
    )
    p.add_argument(
        "--no-second-opinion",
        action="store_true",
        help="do not train the cascade's second opinion (heads on the full MiniLM transformer, "
        "asked only when the fast heads are unsure); faster to train, worse on real text",
    )
    p.add_argument(
        "--streaming",
        action="store_true",
        help="train in bounded memory: two passes over Parquet chunks (a .parquet file or a "
        "directory of them); chosen automatically above SWITCHBOARD_STREAMING_ABOVE rows",
    )
    p.add_argument("--in-memory", action="store_true", help="never switch to the streaming trainer")
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=50_000,
        help="rows per chunk of the streaming trainer (default: %(default)s)",
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

    p = sub.add_parser("synth", help="generate deterministic synthetic cases and a roster")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--roster", type=Path)
    p.add_argument(
        "--chunk-rows",
        type=int,
        metavar="K",
        help="write Parquet chunks of K rows into the directory --out, never holding all "
        "cases (for millions of cases; what the streaming trainer reads)",
    )
    p.set_defaults(func=cmd_synth)
