"""`pip install 'switchboard[serve]'` serves without the training stack (MLflow, matplotlib,
pyarrow), and a training command without it says which extra to install.

A real `[serve]`-only install is not made here (no network, minutes of pip): instead the
`switchboard` command runs in a child process whose import system refuses the `train` extra's
modules, exactly as if they were not installed (`ModuleNotFoundError` on import).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests.conftest import REPO_ROOT, make_cases
from tests.live import free_port, stop, wait_ready

TRAIN_ONLY = ("mlflow", "matplotlib", "pyarrow")
KEY = "packaging-test-key"

# `python -c PRELUDE switchboard-args...`: refuse TRAIN_ONLY, then run `python -m switchboard`.
PRELUDE = f"""
import runpy, sys

class RefuseTrainingExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {TRAIN_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, RefuseTrainingExtras())
sys.argv = ["switchboard", *sys.argv[1:]]
runpy.run_module("switchboard", run_name="__main__", alter_sys=True)
"""


def _without_training_extras(args: list[str]) -> list[str]:
    return [sys.executable, "-c", PRELUDE, *args]


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_API_KEYS": f"{KEY}:score",
    }


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_serve_extra_holds_no_training_dependency() -> None:
    """Check pyproject: core + `serve` list neither MLflow nor matplotlib; `train` and `all` do."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    serving = _requirement_names(project["dependencies"] + extras["serve"])
    assert serving.isdisjoint({"mlflow", "matplotlib", "pyarrow"}), serving
    assert {"litestar", "uvicorn", "sqlalchemy", "alembic"} <= serving
    assert {"mlflow", "matplotlib"} <= _requirement_names(extras["train"])
    assert extras["all"] == ["switchboard[serve,train,client,spark]"]
    assert _requirement_names(extras["spark"]) == {"pyspark"}
    assert '-e ".[all]"' in (REPO_ROOT / "Makefile").read_text(), "make run installs everything"


@pytest.mark.slow
def test_service_scores_without_training_extras(tmp_path: Path) -> None:
    """Check `switchboard serve` starts and scores a mention with mlflow/matplotlib refused."""
    data = tmp_path / "cases.csv"
    make_cases(300).to_csv(data, index=False)
    settings = Settings(data_dir=tmp_path / "var")
    train = ["train", "--data", str(data), "--no-mlflow", "--no-second-opinion"]
    assert main([*train, "--no-benchmark", "--quiet"], settings) == 0

    port = free_port()
    log = tmp_path / "serve.log"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _without_training_extras(serve),
            cwd=tmp_path,
            env=_env(settings.data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc)
            reply = httpx.post(
                f"{base}/v1/score",
                json={"id": "m1", "text": "where is my order #A123456 for the phone?"},
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=30,
            )
        finally:
            stop(proc)
    assert reply.status_code == 200, reply.text
    assert reply.json()["model_version"] == "v1"
    assert "Traceback" not in log.read_text(errors="replace")


def test_train_without_training_extras_names_the_extra(tmp_path: Path) -> None:
    """Check `switchboard train` refuses with one line naming the extra, no traceback."""
    data = tmp_path / "cases.csv"
    make_cases(30).to_csv(data, index=False)
    done = subprocess.run(
        _without_training_extras(["train", "--data", str(data)]),
        cwd=tmp_path,
        env=_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        "`switchboard train` needs the training extras: pip install 'switchboard[train]'"
        in done.stderr
    )
    assert "missing: mlflow, matplotlib, pyarrow" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var" / "registry").exists(), "refused before any work"


def test_import_of_a_missing_extra_midway_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check a command whose import of an extra's module fails halfway exits 2 naming the
    extra (e.g. `models promote` mirroring to MLflow on a serve-only install)."""
    from switchboard.cli import offline

    def needs_mlflow(*_: object) -> int:
        raise ModuleNotFoundError("No module named 'mlflow'", name="mlflow.pyfunc")

    monkeypatch.setattr(offline, "cmd_synth", needs_mlflow)
    code = main(["synth", "--n", "1", "--out", str(tmp_path / "x.csv")], Settings(tmp_path))
    assert code == 2
    assert (
        "`switchboard synth` needs the training extras: pip install 'switchboard[train]' "
        "(missing: mlflow.pyfunc)" in capsys.readouterr().err
    )


def test_unrelated_missing_module_is_not_blamed_on_an_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check a missing module no extra provides still fails loudly (a bug, not an install)."""
    from switchboard.cli import offline

    def broken(*_: object) -> int:
        raise ModuleNotFoundError("No module named 'nosuchthing'", name="nosuchthing")

    monkeypatch.setattr(offline, "cmd_synth", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["synth", "--n", "1", "--out", str(tmp_path / "x.csv")], Settings(tmp_path))
