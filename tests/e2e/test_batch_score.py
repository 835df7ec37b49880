"""`switchboard batch-score`: the service's decisions for a file of mentions, in-process or on
Spark, with the context the service would have given each mention.

Identity with the service: the service decides a mention with the author history and brand
volume of what it scored before, at its wall clock. The test feeds the same mentions to the
app one at a time in time order with the clock set to each mention's `created_at` (the
batch job's `now`), caches off and the prediction log flushed after each, so both count the
same mentions in the same windows; then every decision field must be equal, row for row.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from switchboard.cli import main
from switchboard.ml.bundle import save_bundle
from switchboard.ml.registry import CHAMPION, Registry
from switchboard.settings import Settings
from tests.conftest import make_cases
from tests.live import free_port

SCORE_KEY = "batch-score-key"


@pytest.fixture
def registered(tmp_path: Path, trained_bundle) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "var", api_keys=f"{SCORE_KEY}:score", database_url="", max_batch=20
    )
    registry = Registry(settings.registry_path)
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    return settings


def mentions(n: int, start: datetime, seed: int = 1) -> pd.DataFrame:
    """A stream over nine days: sparse, then dense (a volume spike), with a repeat complainer
    (the repeat-rager rule) among a few authors; every optional column in a forgiving type."""
    cases = make_cases(n, seed=seed)
    sparse = n // 2
    when = [start + timedelta(hours=4 * i) for i in range(sparse)]
    when += [when[-1] + timedelta(days=1, minutes=2 * i) for i in range(n - sparse)]
    rager = cases["intent"] == "complaint"
    authors = [("rager" if r else f"u{i % 7}") for i, r in enumerate(rager)]
    return pd.DataFrame(
        {
            "mention_id": [f"m{i:05d}" for i in range(n)],
            "text": cases["text"],
            "created_at": pd.to_datetime(when, utc=True),
            "channel": cases["channel"],
            "brand": ["acme" if i % 5 else "globex" for i in range(n)],
            "author_id": authors,
            "author_followers": cases["author_followers"].astype("int64"),  # int64 on purpose
            "author_verified": cases["author_verified"],
        }
    )


def stream_start() -> datetime:
    """Tomorrow on the hour: the service's housekeeping purges counters older than a week of
    its real clock, so a stream in the past would lose its first days there, not here."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(days=1)


def decision_fields(r: dict[str, Any]) -> dict[str, Any]:
    """The /v1/score response's decision fields, in batch-score's column names."""
    return {
        "mention_id": r["id"],
        "model_version": r["model_version"],
        "policy_version": r["policy_version"],
        "intent": r["intent"]["label"],
        "intent_confidence": r["intent"]["confidence"],
        "sentiment": r["sentiment"]["label"],
        "sentiment_confidence": r["sentiment"]["confidence"],
        "reply_action": r["reply"]["action"],
        "reply_reasons": r["reply"]["reasons"],
        "tier": r["tier"]["level"],
        "tier_name": r["tier"]["name"],
        "priority": r["priority"],
        "sla_seconds": r["sla_seconds"],
        "abstain": r["abstain"],
        "rule_codes": [rule["code"] for rule in r["explanation"]["rules"]],
    }


def batch_fields(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["reply_reasons"] = list(out["reply_reasons"])
    out["rule_codes"] = list(out["rule_codes"])
    sla = out["sla_seconds"]
    out["sla_seconds"] = None if sla is None or sla != sla else int(sla)
    return {k: out[k] for k in decision_fields_keys()}


def decision_fields_keys() -> list[str]:
    from switchboard.batch.decisions import OUTPUT_COLUMNS

    return list(OUTPUT_COLUMNS)


def service_decisions(settings: Settings, frame: pd.DataFrame, monkeypatch) -> list[dict]:
    """POST each mention to /v1/score in time order, the service's clock at its created_at."""
    from litestar.testing import TestClient

    from switchboard.service.app import create_app
    from switchboard.service.routes import scoring

    clock: list[datetime] = []

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return clock[-1]

    monkeypatch.setattr(scoring, "datetime", Clock)
    out = []
    with TestClient(app=create_app(settings)) as c:
        state = c.app.state
        for cache in (state.author_history_cache, state.brand_volume_cache):
            cache.ttl_s = 0.0  # every read goes to the counters, as the batch job's fold does
        c.headers["Authorization"] = f"Bearer {SCORE_KEY}"
        for rec in frame.sort_values("created_at", kind="stable").to_dict("records"):
            clock.append(rec["created_at"].to_pydatetime())
            body = {
                "id": rec["mention_id"],
                "text": rec["text"],
                "channel": rec["channel"],
                "brand": rec["brand"],
                "created_at": rec["created_at"].isoformat(),
                "author": {
                    "id": rec["author_id"],
                    "followers": int(rec["author_followers"]),
                    "verified": bool(rec["author_verified"]),
                },
            }
            r = c.post("/v1/score", json=body)
            assert r.status_code == 200, r.text
            out.append(decision_fields(r.json()))
            state.log.flush()  # the counters hold this mention before the next one is read
    return out


def test_local_engine_decides_as_the_service_row_for_row(
    tmp_path: Path, registered: Settings, monkeypatch
) -> None:
    """Check batch-score (local) returns /v1/score's decision for every mention of a stream
    fed to both in time order, context computed from the data; and that context mattered."""
    frame = mentions(120, stream_start())
    frame.sample(frac=1.0, random_state=3).to_parquet(tmp_path / "in.parquet")  # any order
    args = ["batch-score", "--input", str(tmp_path / "in.parquet")]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 0
    got = pd.read_parquet(tmp_path / "out.parquet").set_index("mention_id", drop=False)
    want = service_decisions(registered, frame, monkeypatch)
    assert len(got) == len(want) == 120
    for w in want:
        assert batch_fields(got.loc[w["mention_id"]].to_dict()) == w, w["mention_id"]
    codes = {c for w in want for c in w["rule_codes"]}
    assert {"repeat_rager", "crisis_volume_spike"} <= codes
    assert got["author_recent_mentions"].max() > 0 and got["brand_volume_ratio"].max() >= 5.0


def test_given_context_columns_are_used_as_given(tmp_path: Path, registered: Settings) -> None:
    """Check explicit context columns (in forgiving types) decide, and are not recomputed."""
    frame = pd.DataFrame(
        {
            "text": ["my phone broke again, so annoyed"] * 3,
            "brand": ["acme"] * 3,
            "author_id": ["a", "b", "c"],
            "author_followers": pd.array([10, None, 3], dtype="Int32"),
            "author_recent_mentions": [0, 8, 0],
            "author_recent_negative": [0, 8, 0],
            "brand_volume_ratio": [1.0, 1.0, 9.0],
        }
    )
    frame.to_parquet(tmp_path / "in.parquet")
    args = ["batch-score", "--input", str(tmp_path / "in.parquet")]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 0
    got = pd.read_parquet(tmp_path / "out.parquet")
    codes = [set(c) for c in got["rule_codes"]]
    assert "repeat_rager" not in codes[0] and "crisis_volume_spike" not in codes[0]
    assert "repeat_rager" in codes[1]
    assert "crisis_volume_spike" in codes[2] and got["tier"][2] == 5
    assert got["author_recent_negative"].tolist() == [0, 8, 0]


def test_bad_rows_are_quarantined_with_the_reason(tmp_path: Path, registered: Settings) -> None:
    """Check rows failing validation go to the rejects file naming row and reason, the rest
    are scored, and the exit code is 0."""
    frame = pd.DataFrame(
        {
            "mention_id": ["a", "b", "c", "d"],
            "text": ["where is my order #A1234567?", "   ", "x" * 10_001, "love the app"],
            "created_at": ["2026-01-01T10:00:00Z", None, None, "not a time"],
            "author_recent_abusive": [None, None, None, None],
            "brand_volume_ratio": [1.0, 1.0, 1.0, -2.0],
        }
    )
    frame.to_parquet(tmp_path / "in.parquet")
    rejects = tmp_path / "rejects.csv"
    args = ["batch-score", "--input", str(tmp_path / "in.parquet"), "--rejects", str(rejects)]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 0
    assert pd.read_parquet(tmp_path / "out.parquet")["mention_id"].tolist() == ["a"]
    rej = pd.read_csv(rejects)
    assert rej["row"].tolist() == [2, 3, 4]
    assert rej["reason"].tolist() == ["empty_text", "bad_text", "bad_created_at"]
    assert "the limit is 10,000" in rej["detail"][1]


def test_negative_context_is_a_reject_naming_the_column(
    tmp_path: Path, registered: Settings
) -> None:
    """Check a context column out of range is a bad_value reject naming the column."""
    pd.DataFrame({"text": ["hi there", "hello"], "brand_volume_ratio": [1.0, -2.0]}).to_parquet(
        tmp_path / "in.parquet"
    )
    rejects = tmp_path / "rejects.csv"
    args = ["batch-score", "--input", str(tmp_path / "in.parquet"), "--rejects", str(rejects)]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 0
    rej = pd.read_csv(rejects)
    assert rej["reason"].tolist() == ["bad_value"] and rej["row"].tolist() == [2]
    assert "brand_volume_ratio" in rej["detail"][0]


def test_missing_text_column_exits_2_naming_it(
    tmp_path: Path, registered: Settings, capsys
) -> None:
    """Check a file without `text` is refused as a whole, naming the column and the file."""
    pd.DataFrame({"body": ["hi"]}).to_parquet(tmp_path / "in.parquet")
    args = ["batch-score", "--input", str(tmp_path / "in.parquet")]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 2
    err = capsys.readouterr().err
    assert "switchboard batch-score: error:" in err and "'text' is missing" in err
    assert "in.parquet" in err and not (tmp_path / "out.parquet").exists()


def test_unreadable_input_exits_2(tmp_path: Path, registered: Settings, capsys) -> None:
    """Check a file that is not Parquet, and one that does not exist, exit 2 naming it."""
    (tmp_path / "bad.parquet").write_text("not parquet")
    for name in ("bad.parquet", "absent.parquet"):
        args = ["batch-score", "--input", str(tmp_path / name)]
        assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 2
        assert name in capsys.readouterr().err


def test_spark_engine_without_pyspark_names_the_extra(
    tmp_path: Path, registered: Settings, capsys, monkeypatch
) -> None:
    """Check --engine spark without pyspark exits 2 saying which extra to install."""
    monkeypatch.setitem(sys.modules, "pyspark", None)
    pd.DataFrame({"text": ["hi"]}).to_parquet(tmp_path / "in.parquet")
    args = ["batch-score", "--engine", "spark", "--input", str(tmp_path / "in.parquet")]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 2
    assert "pip install 'switchboard[spark]'" in capsys.readouterr().err


@pytest.fixture
def decision_model(tmp_path: Path, trained_bundle, registered: Settings) -> Iterator[Path]:
    """The MLflow decision model of the bundle, saved to a directory (no tracking server)."""
    from switchboard.training.pyfunc import save_decision_model

    save_bundle(trained_bundle, tmp_path / "bundle")
    yield save_decision_model(tmp_path / "bundle", registered.policy_file, tmp_path / "model")
    shutil.rmtree(tmp_path / "model", ignore_errors=True)


def test_a_model_that_is_not_the_decision_model_exits_2(
    tmp_path: Path, registered: Settings, decision_model: Path, capsys
) -> None:
    """Check an MLflow model with other outputs (an older registered pyfunc) is refused."""
    mlmodel = decision_model / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("reply_action", "reply"))
    pd.DataFrame({"text": ["hi"]}).to_parquet(tmp_path / "in.parquet")
    args = ["batch-score", "--input", str(tmp_path / "in.parquet"), "--model", str(decision_model)]
    assert main([*args, "--output", str(tmp_path / "out.parquet")], registered) == 2
    assert "not a Switchboard decision model" in capsys.readouterr().err


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'switchboard[spark]')"
    if shutil.which("java") is None:
        return "no java on PATH (make java installs openjdk-17-jre-headless)"
    return None


@pytest.mark.spark
@pytest.mark.slow
def test_spark_engine_decides_as_the_service_and_the_local_engine_on_1000_mentions(
    tmp_path: Path, registered: Settings, decision_model: Path, monkeypatch
) -> None:
    """Check the decision model in spark_udf (local[2]) decides 1,000 mentions exactly as
    /v1/score does (fed in time order) and as the in-process engine does, context included."""
    missing = _spark_missing()
    if missing:
        pytest.skip(missing)
    frame = mentions(1000, stream_start(), seed=4)
    frame.to_parquet(tmp_path / "in.parquet")
    base = ["batch-score", "--input", str(tmp_path / "in.parquet"), "--model", str(decision_model)]
    assert main([*base, "--output", str(tmp_path / "local.parquet")], registered) == 0
    port = str(free_port())
    spark = [
        "--engine",
        "spark",
        "--master",
        "local[2]",
        "--spark-conf",
        f"spark.driver.port={port}",
        "--spark-conf",
        f"spark.blockManager.port={int(port) + 1}",
    ]
    assert main([*base, *spark, "--output", str(tmp_path / "spark.parquet")], registered) == 0
    local = pd.read_parquet(tmp_path / "local.parquet")
    on_spark = pd.read_parquet(tmp_path / "spark.parquet")
    assert len(local) == 1000
    pd.testing.assert_frame_equal(on_spark, local, check_dtype=False)
    want = service_decisions(registered, frame, monkeypatch)
    got = on_spark.set_index("mention_id", drop=False)
    assert [batch_fields(got.loc[w["mention_id"]].to_dict()) for w in want] == want
    codes = {c for w in want for c in w["rule_codes"]}
    assert {"repeat_rager", "crisis_volume_spike"} <= codes


def test_rescored_rows_may_change_a_columns_type() -> None:
    """Check the second pass replaces the re-scored rows even when one of its columns has
    another dtype (all-null SLAs for rows that became no-reply); pandas refused to cast it."""
    from switchboard.batch.context import with_context

    frame = pd.DataFrame(
        {
            "text": ["first", "second"],
            "author_id": ["rita", "rita"],
            "created_at": pd.to_datetime(["2026-11-20T10:00Z", "2026-11-20T11:00Z"]),
        }
    )

    def score(rows: pd.DataFrame) -> pd.DataFrame:
        again = bool(rows["author_recent_mentions"].gt(0).all())
        return pd.DataFrame(
            {
                "intent": "troll",
                "sentiment": "negative",
                "reply_action": "none" if again else "public",
                "policy_version": "p",
                "sla_seconds": [None] * len(rows) if again else [3600.0] * len(rows),
            },
            index=rows.index,
        )

    scored = with_context(frame, score)  # no policy: every row with history is re-scored
    assert scored.rescored == 1
    assert scored.decided["reply_action"].tolist() == ["public", "none"]
    assert scored.decided["sla_seconds"].iloc[0] == 3600.0
    assert pd.isna(scored.decided["sla_seconds"].iloc[1])
