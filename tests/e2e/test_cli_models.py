"""`switchboard train --promote` and `switchboard models ...`, end to end on small files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.cli import main
from switchboard.ml.registry import CHALLENGER, CHAMPION, Registry
from switchboard.settings import Settings
from tests.conftest import make_cases

FAST = ["--featurisations", "tfidf", "--no-benchmark"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A full care file, and a complaints-style file with only an `actionable` label."""
    full, actionable = tmp_path / "cases.csv", tmp_path / "complaints.csv"
    make_cases(300).to_csv(full, index=False)
    make_cases(300, seed=1)[["case_id", "text", "created_at", "actionable"]].to_csv(
        actionable, index=False
    )
    return {"full": full, "actionable": actionable}


def _train(settings: Settings, path: Path, *extra: str) -> int:
    return main(["train", "--data", str(path), "--no-mlflow", *FAST, *extra], settings)


def test_issue_12_a_complaints_run_does_not_replace_the_champion(
    files: dict[str, Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the issue's story: the actionable-only v2 is refused (exit 4), v1 keeps serving."""
    assert _train(settings, files["full"]) == 0
    assert "registered v1 and promoted it to champion" in capsys.readouterr().out
    assert _train(settings, files["actionable"], "--promote") == 4
    out = capsys.readouterr().out
    assert "registered v2; not promoted" in out and "no `intent` head" in out
    registry = Registry(settings.registry_path)
    assert registry.get(CHAMPION).version == "v1" and registry.get(CHALLENGER).version == "v2"
    assert main(["models", "promote", "v2"], settings) == 4
    assert "not promoted" in capsys.readouterr().err


def test_force_needs_a_reason_and_records_it(
    files: dict[str, Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check `models promote --force` without --reason is exit 2; with one it is in the history."""
    _train(settings, files["full"])
    _train(settings, files["actionable"])
    assert main(["models", "promote", "v2", "--force"], settings) == 2
    assert "--force needs --reason" in capsys.readouterr().err
    args = ["models", "promote", "v2", "--force", "--reason", "demo only"]
    assert main(args, settings) == 0
    assert "champion: v1 -> v2 (force)" in capsys.readouterr().out
    assert main(["models", "history", "--alias", CHAMPION], settings) == 0
    assert "force    champion -> v2 (was v1)" in capsys.readouterr().out
    assert Registry(settings.registry_path).history(CHAMPION)[-1]["reason"] == "demo only"


def test_rollback_restores_the_previous_champion(
    files: dict[str, Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check promote v2 then rollback: v1 is champion again; a second rollback is exit 2."""
    _train(settings, files["full"])
    _train(settings, files["full"])
    assert main(["models", "promote", "v2"], settings) == 0
    assert main(["models", "rollback", "--reason", "bad week"], settings) == 0
    assert "champion: v2 -> v1 (rollback)" in capsys.readouterr().out
    assert Registry(settings.registry_path).get(CHAMPION).version == "v1"
    assert main(["models", "rollback"], settings) == 2
    assert "nothing to roll back to" in capsys.readouterr().err


def test_out_leaves_the_registry_as_it_was(
    files: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Check `train --out DIR` writes DIR and leaves registry.json byte for byte as it was."""
    _train(settings, files["full"])
    index = Registry(settings.registry_path).index_path
    before = index.read_bytes()
    out = tmp_path / "scratch"
    assert _train(settings, files["actionable"], "--out", str(out)) == 0
    assert (out / "MANIFEST.json").is_file()
    assert index.read_bytes() == before
    args = ["train", "--data", str(files["full"]), "--out", str(out), "--promote"]
    assert main(args, settings) == 2


def test_list_show_and_compare(
    files: dict[str, Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check list (aliases, heads), show (history + model card) and compare (changed share)."""
    _train(settings, files["full"])
    _train(settings, files["actionable"])
    capsys.readouterr()
    assert main(["models", "list", "--json"], settings) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [v["aliases"] for v in listed["versions"]] == [[CHAMPION], [CHALLENGER]]
    assert listed["versions"][1]["heads"] == ["actionable"]
    assert "not checked (no version is registered in MLflow)" in listed["mirror"][0]
    assert main(["models", "show", CHAMPION], settings) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("v1 [champion]") and "first    champion -> v1" in shown
    assert "# Switchboard model v1" in shown and "## Known limits" in shown
    args = ["models", "compare", "v1", "v2", "--data", str(files["full"]), "--json"]
    assert main(args, settings) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"] == ["v1", "v2"] and report["n"] == 300
    assert report["changed"]["n"] > 0 and report["changed"]["examples"]
    assert main(["models", "show", "v9"], settings) == 2


@pytest.mark.slow
def test_mlflow_mirrors_the_registry_after_promote_and_rollback(
    files: dict[str, Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that MLflow's aliases follow the registry, drift is flagged, and sync repairs it."""
    from mlflow.tracking import MlflowClient

    def mlflow_alias(alias: str) -> str | None:
        model = MlflowClient(tracking_uri=settings.tracking_uri).get_registered_model(name)
        found = model.aliases.get(alias)
        return None if found is None else str(found)

    def registry_alias(alias: str) -> str:
        return Registry(settings.registry_path).get(alias).extra["mlflow_version"]

    name = settings.registered_model_name
    base = ["train", "--data", str(files["full"]), *FAST]
    assert main(base, settings) == 0
    assert main(base, settings) == 0
    assert mlflow_alias(CHAMPION) == registry_alias(CHAMPION) == "1"
    assert mlflow_alias(CHALLENGER) == registry_alias(CHALLENGER) == "2"
    assert main(["models", "promote", "v2"], settings) == 0
    assert mlflow_alias(CHAMPION) == "2" and mlflow_alias(CHALLENGER) is None
    assert main(["models", "rollback"], settings) == 0
    assert mlflow_alias(CHAMPION) == "1"

    client = MlflowClient(tracking_uri=settings.tracking_uri)
    client.set_registered_model_alias(name, CHAMPION, "2")  # someone edits MLflow by hand
    capsys.readouterr()
    assert main(["models", "list"], settings) == 0
    assert "champion DRIFTED" in capsys.readouterr().out
    assert main(["models", "sync"], settings) == 0
    assert mlflow_alias(CHAMPION) == "1"

    version = client.get_model_version(name, "1")
    run = client.get_run(version.run_id)
    assert run.info.run_name.startswith("cases-") and len(run.info.run_name) == 21
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert {"cases.csv", "training-cases"} <= set(inputs)
    tags = {t.key: t.value for t in inputs["cases.csv"].tags}
    assert len(tags["sha256"]) == 64
    card = Registry(settings.registry_path).card("v1")
    assert version.description == card
    artifacts = [a.path for a in client.list_artifacts(version.run_id)]
    assert "model_card.md" in artifacts
