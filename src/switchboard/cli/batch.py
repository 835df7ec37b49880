"""`switchboard batch-score`: a file of mentions to a Parquet file of the service's decisions.

    switchboard batch-score --input X.parquet --output Y.parquet [--engine local|spark]
                            [--model SPEC] [--master local[2]] [--rejects PATH]

Rows are checked (batch/inputs.py; failures go to the rejects file), given the context the
service would have given them, computed from the data in time order unless the input has the
context columns (batch/context.py), and scored by the engine (batch/engines.py). The output
holds, per accepted row in input order, the decision columns (batch/decisions.py) and the
context columns used.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from switchboard.cli.common import CliError, say
from switchboard.cli.extras import require_extra
from switchboard.data.errors import NoRowsError
from switchboard.settings import Settings


def _is_mlflow_model(spec: str) -> bool:
    return ":/" in spec or (Path(spec) / "MLmodel").is_file()


def mlflow_uri(spec: str | None, settings: Settings) -> str:
    """An MLflow model directory or URI as given; a registry version (v3) or alias (champion,
    the default) as the registered decision model's URI in the project's MLflow registry."""
    import mlflow

    from switchboard.ml.registry import CHAMPION, Registry, RegistryError

    mlflow.set_tracking_uri(settings.tracking_uri)
    spec = spec or CHAMPION
    if _is_mlflow_model(spec):
        return spec
    try:
        entry = Registry(settings.registry_path).get(spec)
    except RegistryError as exc:
        raise CliError(f"--model {spec}: {exc}") from exc
    version = entry.extra.get("mlflow_version")
    if not version:
        raise CliError(
            f"--model {spec}: version {entry.version} has no MLflow model (trained with "
            "--no-mlflow?); pass an MLflow model directory or URI"
        )
    return f"models:/{settings.registered_model_name}/{version}"


def check_decision_model(uri: str) -> str:
    """Refuse (exit 2) an MLflow model that is not the decision model, e.g. one registered
    before it, whose pyfunc returned head outputs: Spark would fail far less clearly."""
    from mlflow.exceptions import MlflowException
    from mlflow.models import get_model_info

    from switchboard.batch.decisions import OUTPUT_COLUMNS

    try:
        signature = get_model_info(uri).signature
    except (MlflowException, OSError) as exc:
        raise CliError(f"--model {uri}: cannot be read as an MLflow model ({exc})") from exc
    outputs = signature.outputs.input_names() if signature and signature.outputs else []
    if list(outputs) != list(OUTPUT_COLUMNS):
        raise CliError(
            f"--model {uri}: not a Switchboard decision model (its outputs are {outputs}); "
            "retrain with this version, or pass a registry version or bundle to --engine local"
        )
    return uri


def _local_engine(spec: str | None, settings: Settings) -> Callable[[pd.DataFrame], pd.DataFrame]:
    from switchboard.batch.engines import local_mlflow, local_router
    from switchboard.ml.registry import CHAMPION
    from switchboard.routing.policy import load_policy
    from switchboard.routing.router import Router
    from switchboard.training.pipeline import resolve_model

    if spec is not None and _is_mlflow_model(spec):
        require_extra("batch-score", "train")
        return local_mlflow(check_decision_model(spec))
    bundle = resolve_model(spec or CHAMPION, settings)
    return local_router(Router(bundle, load_policy(settings.policy_file)))


def _spark_conf(items: list[str]) -> dict[str, str]:
    conf = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--spark-conf {item!r}: expected KEY=VALUE, e.g. spark.ui.enabled=true")
        conf[key] = value
    return conf


def cmd_batch_score(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.batch.context import with_context
    from switchboard.batch.inputs import check_rows
    from switchboard.data.loaders import read_table
    from switchboard.data.validate import write_rejects
    from switchboard.routing.policy import load_policy

    if args.engine == "spark":
        require_extra("batch-score", "train")
        require_extra("batch-score", "spark")
    if args.output.suffix.lower() != ".parquet":
        raise CliError(f"--output {args.output}: write a .parquet file")
    conf = _spark_conf(args.spark_conf)
    checked = check_rows(read_table(args.input), str(args.input), settings.max_text_chars)
    rejects = args.rejects or settings.data_dir / "rejects" / f"{args.input.stem}-rejects.csv"
    rejects.unlink(missing_ok=True)
    if len(checked.rejects):
        write_rejects(checked.rejects, rejects)
    say(
        f"{args.input}: {checked.n_in:,} rows = {len(checked.accepted):,} to score + "
        f"{len(checked.rejects):,} rejected" + (f" (see {rejects})" if len(checked.rejects) else "")
    )
    if checked.accepted.empty:
        raise NoRowsError(f"{args.input}: no row to score")
    started = time.perf_counter()
    policy = load_policy(settings.policy_file)
    if args.engine == "spark":
        from switchboard.batch.engines import spark_session, spark_udf_engine

        uri = check_decision_model(mlflow_uri(args.model, settings))
        with spark_session(args.master, conf) as spark:
            done = with_context(checked.accepted, spark_udf_engine(spark, uri), policy)
    else:
        done = with_context(checked.accepted, _local_engine(args.model, settings), policy)
    write_output(done.frame, done.decided, args.output)
    seconds = time.perf_counter() - started
    say(
        f"scored {len(done.decided):,} rows in {seconds:.1f} s ({args.engine}; "
        f"{done.rescored:,} again with their author's history) -> {args.output}"
    )
    return 0


def write_output(frame: pd.DataFrame, decided: pd.DataFrame, path: Path) -> None:
    """Decisions, then the context each row was decided with, in input order."""
    from switchboard.batch.decisions import CONTEXT_COLUMNS

    out = pd.concat([decided, frame[["created_at", *CONTEXT_COLUMNS]]], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_parquet(path, index=False)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch-score",
        help="score a file of mentions as /v1/score would, in-process or on Spark",
    )
    p.add_argument("--input", type=Path, required=True, help=".parquet (or .csv, .jsonl) mentions")
    p.add_argument("--output", type=Path, required=True, help="the decisions, a .parquet file")
    p.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local: in this process (default); spark: mlflow.pyfunc.spark_udf",
    )
    p.add_argument(
        "--model",
        help="registry version or alias (default: champion), a bundle dir (local), or an MLflow "
        "model directory or URI",
    )
    p.add_argument("--master", default="local[2]", help="Spark master (default: %(default)s)")
    p.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting, e.g. spark.driver.port=7078 (repeat)",
    )
    p.add_argument(
        "--rejects",
        type=Path,
        help="where rejected rows go (default: under the data dir); replaced on every run",
    )
    p.set_defaults(func=cmd_batch_score)
