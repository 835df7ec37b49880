"""The two engines of `switchboard batch-score`: both turn input rows (INPUT_COLUMNS) into
decision rows (OUTPUT_COLUMNS) with the same index, through `batch.decisions.decision_frame`.

- local: in the process, on pandas chunks; from a registry bundle + the policy, or from an
  MLflow decision model (a directory or `models:/` URI) loaded with `mlflow.pyfunc`.
- spark: `mlflow.pyfunc.spark_udf` on the MLflow decision model, in Spark local mode or on the
  cluster `--master` names. Workers run this interpreter (`PYSPARK_PYTHON`); the driver binds
  to 127.0.0.1 with the UI off unless `--spark-conf` says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd

from switchboard.batch.decisions import INPUT_COLUMNS, OUTPUT_COLUMNS, decision_frame, spark_schema
from switchboard.routing.router import Router

Score = Callable[[pd.DataFrame], pd.DataFrame]
CHUNK_ROWS = 2_000  # one vectorisation per chunk: large enough to amortise, small in memory

# Spark SQL types of the input columns: every column is passed, null when absent, because
# spark_udf hands columns to the model by position in the signature's order.
INPUT_TYPES = {
    "text": "string",
    "mention_id": "string",
    "created_at": "timestamp",  # passed as ISO 8601 text, see spark_input
    "channel": "string",
    "brand": "string",
    "language": "string",
    "author_id": "string",
    "author_followers": "double",
    "author_verified": "boolean",
    "author_recent_mentions": "bigint",
    "author_recent_negative": "bigint",
    "author_recent_abusive": "bigint",
    "author_recent_replied": "bigint",
    "brand_volume_ratio": "double",
}
assert tuple(INPUT_TYPES) == INPUT_COLUMNS

SPARK_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def chunked(predict: Score, rows: int = CHUNK_ROWS) -> Score:
    def score(frame: pd.DataFrame) -> pd.DataFrame:
        parts = [predict(frame.iloc[i : i + rows]) for i in range(0, len(frame), rows)]
        return pd.concat(parts) if parts else predict(frame)

    return score


def local_router(router: Router) -> Score:
    """The in-process path: `decision_frame` on chunks."""
    return chunked(lambda chunk: decision_frame(router, chunk))


def local_mlflow(model_uri: str) -> Score:
    """The registered decision model, loaded in this process (what each Spark worker runs)."""
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)

    def predict(chunk: pd.DataFrame) -> pd.DataFrame:
        out = model.predict(chunk.reset_index(drop=True))
        return out.set_axis(chunk.index)

    return chunked(predict)


def spark_input(frame: pd.DataFrame) -> pd.DataFrame:
    """Every input column, in the signature's order, in a dtype Arrow maps to its Spark type."""
    out = pd.DataFrame(index=frame.index)
    for name, kind in INPUT_TYPES.items():
        col = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        if kind == "string":
            out[name] = (
                col.astype(object)
                .where(col.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
        elif kind == "timestamp":
            # ISO 8601 text, exact to the microsecond: pyspark's Arrow path cannot convert
            # pandas 3 datetime columns (it reads `.values` of a tz-aware series).
            when = pd.to_datetime(col, utc=True)
            out[name] = [None if pd.isna(t) else t.isoformat() for t in when]
        elif kind == "double":
            out[name] = pd.to_numeric(col).astype("float64")
        elif kind == "bigint":
            out[name] = pd.to_numeric(col).astype("Int64")
        else:
            out[name] = col.astype("boolean")
    return out


@contextmanager
def spark_session(master: str, conf: Mapping[str, str]) -> Iterator[Any]:
    """A SparkSession whose workers run this interpreter; stopped (JVM included) on exit."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never another interface
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # pyspark 4 warns on every pandas >= 3 conversion, and trips on pandas 3 deprecations in
    # its Arrow path when warnings are errors; tests/e2e/test_batch_score.py checks results.
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"pyspark\.")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("switchboard-batch-score")
    for key, value in {**SPARK_DEFAULTS, **conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        context = type(spark.sparkContext)
        gateway = context._gateway
        spark.stop()
        if gateway is not None:
            _stop_jvm(gateway)
        context._gateway = None  # a later session launches a new JVM
        context._jvm = None


def _stop_jvm(gateway: Any) -> None:
    """End the JVM pyspark started: it exits when its stdin closes (waited for, so that its
    CPU time counts as this process's children's); killed if it has not within 30 s."""
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def spark_udf_engine(spark: Any, model_uri: str) -> Score:
    """Score with `mlflow.pyfunc.spark_udf` on the decision model; order and index are kept."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=spark_schema(), env_manager="local")
    types = {k: ("string" if v == "timestamp" else v) for k, v in INPUT_TYPES.items()}
    schema = ", ".join(f"{k} {v}" for k, v in types.items()) + ", _pos bigint"

    def score(frame: pd.DataFrame) -> pd.DataFrame:
        data = spark_input(frame).reset_index(drop=True)
        data["_pos"] = range(len(data))
        sdf = spark.createDataFrame(data, schema=schema)
        args = [F.col(c) for c in INPUT_COLUMNS]
        got = sdf.select("_pos", udf(*args).alias("d")).select("_pos", "d.*").toPandas()
        got = got.sort_values("_pos").drop(columns="_pos")
        return got[list(OUTPUT_COLUMNS)].set_axis(frame.index)

    return score
