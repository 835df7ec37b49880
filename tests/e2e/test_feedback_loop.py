"""Score, review, correct, export, retrain: the corrections reach the next model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from litestar.testing import TestClient

from switchboard.cli import main
from switchboard.data.loaders import load_cases
from switchboard.ml.registry import CHAMPION, Registry
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.settings import Settings
from switchboard.training.split import assign_split
from tests.conftest import make_cases
from tests.service.conftest import ROSTER

KEY = "qa-admin"


@pytest.mark.slow
def test_corrections_are_in_the_retrained_models_training_data(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    history = tmp_path / "history.csv"
    make_cases(300).to_csv(history, index=False)
    settings = Settings(data_dir=tmp_path / "var", api_keys=f"{KEY}:admin", review_sample_rate=1.0)
    # --no-benchmark: this test is about the corrections reaching the next model; the toy
    # models' decisions on real text (which the promotion gate would compare) are noise.
    assert main(["train", "--data", str(history), "--no-mlflow", "--no-benchmark"], settings) == 0

    texts = ["love the new seat! thank you", "my app broke again, so annoyed", "hello there"]
    with TestClient(app=create_app(settings)) as client:
        store.seed_roster(client.app.state.engine, ROSTER)
        client.headers["Authorization"] = f"Bearer {KEY}"
        for i, text in enumerate(texts):
            assert client.post("/v1/score", json={"id": f"m{i}", "text": text}).status_code == 200
        items = client.get("/v1/review/queue").json()["items"]
        assert len(items) == 3  # review_sample_rate=1.0: everything is sampled
        by_text = {it["text"]: it["prediction_id"] for it in items}
        fixes = {
            texts[0]: {"verdict": "correct", "intent": "praise", "tier": 1, "reply_action": "none"},
            texts[1]: {"verdict": "correct", "intent": "order_issue", "reply_action": "private"},
            texts[2]: {"verdict": "accept"},
        }
        for text, body in fixes.items():
            r = client.post(f"/v1/review/{by_text[text]}", json={**body, "reviewer": "qa"})
            assert r.status_code == 201, r.text

    feedback = tmp_path / "feedback.csv"
    assert main(["export-feedback", "--since", "2000-01-01", "--out", str(feedback)], settings) == 0
    exported = pd.read_csv(feedback).set_index("text")
    assert exported.loc[texts[1], "intent"] == "order_issue"
    assert exported.loc[texts[1], "reply_action"] == "private"
    assert not exported.loc[texts[0], "actionable"]

    args = ["train", "--data", str(history), "--data", str(feedback), "--promote", "--no-benchmark"]
    assert main(args, settings) == 0
    entry = Registry(settings.registry_path).get(CHAMPION)
    assert entry.version == "v2"
    frame = load_cases([history, feedback]).accepted.reset_index(drop=True)
    split = assign_split(frame)
    fed = frame[frame["case_id"].str.startswith("fb-")]
    assert len(fed) == 3 and (split[fed.index] == "train").all()
    assert set(fed["intent"]) == {"praise", "order_issue", *exported.loc[[texts[2]], "intent"]}

    run_id = (
        MlflowClient(tracking_uri=settings.tracking_uri)
        .get_model_version_by_alias(settings.registered_model_name, CHAMPION)
        .run_id
    )
    run = MlflowClient(tracking_uri=settings.tracking_uri).get_run(run_id)
    assert run.data.tags["feedback_rows"] == "3"
    logged = {
        a.path for a in MlflowClient(settings.tracking_uri).list_artifacts(run_id, "feedback")
    }
    assert logged == {"feedback/feedback.csv", "feedback/feedback.csv.feedback.json"}


def test_export_feedback_rejects_a_bad_date_and_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    out = str(tmp_path / "fb.csv")
    assert main(["export-feedback", "--since", "2026-01-01", "--out", out], settings) == 2
    assert "no service database" in capsys.readouterr().err
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "switchboard.db").touch()
    assert main(["export-feedback", "--since", "last week", "--out", out], settings) == 2
    assert "--since must be a date" in capsys.readouterr().err
