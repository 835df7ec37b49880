"""The `switchboard` command line, end to end on small files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from switchboard.cli import main
from switchboard.ml.registry import CHAMPION, Registry
from switchboard.settings import Settings
from tests.conftest import make_cases


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    make_cases(300).to_csv(path, index=False)
    return path


def test_train_registers_champion_and_evaluate_prints_documented_json(
    cases_csv: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check train -> champion, then evaluate --json prints {"heads": {HEAD: {n, ...}}}."""
    assert main(["train", "--data", str(cases_csv), "--no-mlflow"], settings) == 0
    assert Registry(settings.registry_path).get(CHAMPION).version == "v1"
    capsys.readouterr()
    code = main(["evaluate", "--model", CHAMPION, "--data", str(cases_csv), "--json"], settings)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model_version"] == "v1"
    for head in ("intent", "sentiment", "actionable", "reply_action", "tier"):
        assert {"n", "accuracy", "macro_f1", "per_class"} <= set(report["heads"][head])
        assert report["heads"][head]["n"] == 60  # the time-ordered test fifth of 300 rows
    assert {"hit_at_1", "hit_at_3"} <= set(report["heads"]["responder"])


def test_evaluate_prints_per_class_table(
    cases_csv: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the human-readable evaluate output names heads and classes."""
    main(["train", "--data", str(cases_csv), "--no-mlflow"], settings)
    capsys.readouterr()
    main(["evaluate", "--model", "v1", "--data", str(cases_csv), "--split", "all"], settings)
    out = capsys.readouterr().out
    assert "macro_f1" in out and "order_issue" in out and "hit@3" in out


def test_rejected_rows_are_quarantined_and_counted(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that bad rows land in the rejects file and the counts add up."""
    frame = make_cases(200)
    frame.loc[3, "text"] = "   "
    frame.loc[7, "sentiment"] = "furious"
    path = tmp_path / "cases.csv"
    frame.to_csv(path, index=False)
    rejects = tmp_path / "rejects.csv"
    code = main(["train", "--data", str(path), "--rejects", str(rejects), "--no-mlflow"], settings)
    assert code == 0
    err = capsys.readouterr().err
    assert "198 accepted + 2 rejected" in err
    quarantined = pd.read_csv(rejects)
    assert sorted(quarantined["reason"]) == ["empty_text", "unknown_label"]


def test_validate_exits_1_when_rows_are_rejected(tmp_path: Path, settings: Settings) -> None:
    """Check that `validate` is usable as a gate in scripts."""
    frame = make_cases(30)
    frame.loc[0, "text"] = ""
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    assert main(["validate", "--data", str(path)], settings) == 1
    frame.loc[0, "text"] = "fine now"
    frame.to_csv(path, index=False)
    assert main(["validate", "--data", str(path)], settings) == 0


def test_missing_text_column_exits_2_naming_the_column(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a file without `text` fails fast with a message naming it."""
    path = tmp_path / "c.csv"
    make_cases(30).rename(columns={"text": "body"}).to_csv(path, index=False)
    assert main(["train", "--data", str(path), "--no-mlflow"], settings) == 2
    assert "text" in capsys.readouterr().err


def test_map_renames_source_columns(tmp_path: Path, settings: Settings) -> None:
    """Check that --map text=body trains on a file whose text column is called body."""
    path = tmp_path / "c.csv"
    make_cases(200).rename(columns={"text": "body"}).to_csv(path, index=False)
    code = main(["train", "--data", str(path), "--map", "text=body", "--no-mlflow"], settings)
    assert code == 0


def test_unlabelled_data_exits_3(tmp_path: Path, settings: Settings) -> None:
    """Check that data with no label column at all trains nothing and says so."""
    path = tmp_path / "c.csv"
    make_cases(50)[["case_id", "text"]].to_csv(path, index=False)
    assert main(["train", "--data", str(path), "--no-mlflow"], settings) == 3


def test_evaluate_refuses_unregistered_bundle_dir(
    cases_csv: Path, tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a bundle dir is only trusted when the registry knows its manifest."""
    main(["train", "--data", str(cases_csv), "--no-mlflow"], settings)
    registered = Registry(settings.registry_path).get("v1").path
    assert main(["evaluate", "--model", str(registered), "--data", str(cases_csv)], settings) == 0
    out = tmp_path / "bundle"  # `--out` writes a bundle the registry does not know
    main(["train", "--data", str(cases_csv), "--out", str(out), "--no-mlflow"], settings)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(cases_csv)], settings) == 2
    assert "matches no version" in capsys.readouterr().err
    args = ["evaluate", "--model", str(out), "--data", str(cases_csv), "--allow-unregistered"]
    assert main(args, settings) == 0
    copy = tmp_path / "copy"
    shutil.copytree(registered, copy)
    (copy / "MANIFEST.json").write_text((copy / "MANIFEST.json").read_text() + " ")
    capsys.readouterr()
    assert main(["evaluate", "--model", str(copy), "--data", str(cases_csv)], settings) == 2
    assert "matches no version" in capsys.readouterr().err


def test_tampered_champion_is_refused_with_exit_2(
    cases_csv: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a corrupted registered bundle is not loaded and the error names the file."""
    main(["train", "--data", str(cases_csv), "--no-mlflow"], settings)
    head = Registry(settings.registry_path).get(CHAMPION).path / "head-tier.joblib"
    head.write_bytes(head.read_bytes()[:-1] + b"\x00")
    capsys.readouterr()
    assert main(["evaluate", "--model", CHAMPION, "--data", str(cases_csv)], settings) == 2
    assert "head-tier.joblib" in capsys.readouterr().err


@pytest.mark.slow
def test_training_run_is_logged_to_mlflow_and_promoted(cases_csv: Path, settings: Settings) -> None:
    """Check params, fingerprint, metrics, plots and the champion alias in the MLflow registry."""
    from mlflow.tracking import MlflowClient

    assert main(["train", "--data", str(cases_csv)], settings) == 0
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    version = client.get_model_version_by_alias(settings.registered_model_name, CHAMPION)
    run = client.get_run(version.run_id)
    assert "data_fingerprint" in run.data.tags
    assert "intent.macro_f1" in run.data.metrics
    assert "intent.C" in run.data.params
    plots = [a.path for a in client.list_artifacts(run.info.run_id, "plots")]
    assert "plots/intent-calibration.png" in plots and "plots/tier-confusion.png" in plots
    entry = Registry(settings.registry_path).get(CHAMPION)
    assert entry.extra["mlflow_version"] == str(version.version)


@pytest.mark.slow
def test_registered_mlflow_model_recommends_as_the_router_does(
    cases_csv: Path, settings: Settings
) -> None:
    """Check that the MLflow model returns the Router's reply, tier and priority, row for row,
    from forgiving input types (int64 followers, which an older signature refused)."""
    import mlflow.pyfunc

    from switchboard.routing.policy import load_policy
    from switchboard.routing.router import Router, mentions_from_records

    assert main(["train", "--data", str(cases_csv)], settings) == 0
    mlflow.set_tracking_uri(settings.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{settings.registered_model_name}@{CHAMPION}")
    frame = pd.read_csv(cases_csv).head(40)[["text", "channel", "author_followers"]]
    frame["author_followers"] = frame["author_followers"].fillna(0).astype("int64")
    got = model.predict(frame)
    router = Router(
        Registry(settings.registry_path).load(CHAMPION), load_policy(settings.policy_file)
    )
    want = router.recommend(mentions_from_records(frame.to_dict("records")))
    assert got["reply_action"].tolist() == [r.decision.reply_action for r in want]
    assert got["tier"].tolist() == [r.decision.tier for r in want]
    assert got["priority"].tolist() == [r.decision.priority for r in want]


def test_synth_command_writes_deterministic_cases_and_roster(
    tmp_path: Path, settings: Settings
) -> None:
    """Check `switchboard synth` twice with one seed gives byte-identical files."""
    for name in ("a", "b"):
        args = ["synth", "--n", "300", "--seed", "5", "--out", str(tmp_path / f"{name}.csv")]
        assert main([*args, "--roster", str(tmp_path / f"{name}.json")], settings) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_several_data_files_train_one_model(tmp_path: Path, settings: Settings) -> None:
    """Check that --data may repeat (history + feedback) and every file's rows are used."""
    frame = make_cases(300)
    frame.iloc[:150].to_csv(tmp_path / "history.csv", index=False)
    frame.iloc[150:].to_json(
        tmp_path / "feedback.jsonl", orient="records", lines=True, date_format="iso"
    )
    args = ["train", "--data", str(tmp_path / "history.csv")]
    assert main([*args, "--data", str(tmp_path / "feedback.jsonl"), "--no-mlflow"], settings) == 0
    meta = Registry(settings.registry_path).load(CHAMPION).metadata
    assert meta["n_rows"] == 300
    assert len(meta["data_files"]) == 2


def test_demo_key_hint_names_the_address_it_serves_on(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the first start prints a demo key with a curl line for the served port."""
    from switchboard.cli.service import prepare

    prepare(settings, None, "http://127.0.0.1:8031")
    err = capsys.readouterr().err
    assert "Demo API key" in err and "http://127.0.0.1:8031/v1/score" in err
