"""The command line on bad input: one-line messages naming file and line, documented exit codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests.conftest import REPO_ROOT, make_cases

CORRUPTIONS = {
    "truncated": '{"versions": {"v1": {"path": "bundles/v1"',
    "not_json": "<html>502 Bad Gateway</html>",
    "wrong_shape": '{"versions": [], "aliases": {}}',
    "entry_without_checksum": '{"versions": {"v1": {"path": "bundles/v1"}}, "aliases": {}}',
    "binary": "\x00\x01\x02",
}


def _run(
    argv: list[str], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Exit code and stderr of one command."""
    capsys.readouterr()
    code = main(argv, settings)
    return code, capsys.readouterr().err


def _one_line_error(err: str, command: str) -> str:
    """The error line; fails when there is a traceback or more than one error line."""
    assert "Traceback" not in err
    errors = [
        line for line in err.splitlines() if line.startswith(f"switchboard {command}: error:")
    ]
    assert len(errors) == 1, err
    return errors[0]


def test_all_rows_rejected_train_exits_3_with_message(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that training on data whose every row is rejected exits 3 naming file and rejects."""
    path = tmp_path / "c.csv"
    path.write_text('text,sentiment\n"",positive\n"  ",negative\n')
    rejects = tmp_path / "rejects.csv"
    argv = ["train", "--data", str(path), "--rejects", str(rejects), "--no-mlflow"]
    code, err = _run(argv, settings, capsys)
    assert code == 3
    line = _one_line_error(err, "train")
    assert f"{path}: all 2 rows were rejected, nothing to train on; see {rejects}" in line


def test_all_rows_rejected_evaluate_exits_3(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that evaluating on data whose every row is rejected exits 3, not a traceback."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    make_cases(200).to_csv(good, index=False)
    assert main(["train", "--data", str(good), "--no-mlflow"], settings) == 0
    bad.write_text("text,tier\n,3\nhello,9\n")
    code, err = _run(["evaluate", "--model", "champion", "--data", str(bad)], settings, capsys)
    assert code == 3
    assert "all 2 rows were rejected, nothing to evaluate" in _one_line_error(err, "evaluate")


def test_latin1_byte_exits_2_naming_line_and_column(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the refusal names file:line, the byte and its column, and the --encoding way out."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"text\nfine\nso\xe9\n")
    code, err = _run(["validate", "--data", str(path)], settings, capsys)
    assert code == 2
    assert f"{path}:3: not UTF-8 (byte 0xe9 at column 3)" in _one_line_error(err, "validate")
    assert main(["validate", "--data", str(path), "--encoding", "latin-1"], settings) == 0


def test_bad_jsonl_line_exits_2_naming_the_line_number(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a malformed JSON line is reported by line number, not byte offset."""
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c",}\n')
    code, err = _run(["validate", "--data", str(path)], settings, capsys)
    assert code == 2
    assert f"{path}:3: not valid JSON" in _one_line_error(err, "validate")
    assert "position" not in err


def test_non_string_text_goes_to_the_rejects_file_with_reason(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that validate quarantines a numeric text, prints file:line and exits 1."""
    path, rejects = tmp_path / "c.jsonl", tmp_path / "rejects.csv"
    path.write_text('{"text": "ok"}\n{"text": 42}\n{"text": ["a", "b"]}\n')
    code, err = _run(["validate", "--data", str(path), "--rejects", str(rejects)], settings, capsys)
    assert code == 1
    saved = pd.read_csv(rejects, dtype=str)
    assert saved["reason"].tolist() == ["bad_text", "bad_text"]
    assert saved["detail"].tolist() == [
        "text must be a string, got number 42",
        'text must be a string, got array ["a", "b"]',
    ]
    assert f"{path}:2: bad_text: text must be a string, got number 42" in err


def test_lone_surrogate_is_rejected_per_row(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a "\\ud800" escape is a reject naming line and column, and the rest loads."""
    path, rejects = tmp_path / "c.jsonl", tmp_path / "rejects.csv"
    path.write_text('{"text": "ok"}\n{"text": "bad \\ud800 here"}\n')
    code, err = _run(["validate", "--data", str(path), "--rejects", str(rejects)], settings, capsys)
    assert code == 1
    assert "1 accepted + 1 rejected" in err
    assert f"{path}:2: bad_text: text has a lone surrogate \\ud800 at character 5" in err
    assert pd.read_csv(rejects, dtype=str).loc[0, "line"] == "2"


def test_clean_validate_removes_an_old_rejects_file(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that after a clean validate no stale rejects file is left to mislead."""
    path, rejects = tmp_path / "c.csv", tmp_path / "rejects.csv"
    path.write_text('text\n""\nhello\n')
    assert main(["validate", "--data", str(path), "--rejects", str(rejects)], settings) == 1
    assert rejects.is_file()
    path.write_text("text\nhello\n")
    assert main(["validate", "--data", str(path), "--rejects", str(rejects)], settings) == 0
    assert not rejects.exists()


def _corrupt(settings: Settings, content: str) -> Path:
    index = settings.registry_path / "registry.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(content)
    return index


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
@pytest.mark.parametrize(
    "command",
    [
        lambda data: ["train", "--data", str(data), "--no-mlflow"],
        lambda data: ["evaluate", "--model", "champion", "--data", str(data)],
        lambda data: ["evaluate", "--model", "v1", "--data", str(data)],
        lambda data: ["quickstart", "--no-serve"],
    ],
    ids=["train", "evaluate-alias", "evaluate-version", "quickstart"],
)
def test_corrupt_registry_exits_2_with_a_one_line_message(
    tmp_path: Path,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    command: Callable[[Path], list[str]],
    corruption: str,
) -> None:
    """Check that every command reading the registry reports a broken index in one line."""
    data = tmp_path / "c.csv"
    make_cases(60).to_csv(data, index=False)
    index = _corrupt(settings, CORRUPTIONS[corruption])
    argv = command(data)
    code, err = _run(argv, settings, capsys)
    assert code == 2
    assert f"{index}:" in _one_line_error(err, argv[0])
    assert not (settings.registry_path / "bundles").exists()  # nothing trained on top of it


def test_evaluate_bundle_dir_with_corrupt_registry_exits_2(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that checking a bundle directory against a broken registry is refused cleanly."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "MANIFEST.json").write_text("{}")
    data = tmp_path / "c.csv"
    make_cases(20).to_csv(data, index=False)
    index = _corrupt(settings, "{")
    argv = ["evaluate", "--model", str(bundle), "--data", str(data)]
    code, err = _run(argv, settings, capsys)
    assert code == 2
    assert f"{index}: not valid JSON" in _one_line_error(err, "evaluate")


def _exit_0(tmp_path: Path) -> list[str]:
    path = tmp_path / "c.csv"
    path.write_text("text\nhello\n")
    return ["validate", "--data", str(path)]


def _exit_1(tmp_path: Path) -> list[str]:
    path = tmp_path / "c.csv"
    path.write_text('text\nhello\n""\n')
    return ["validate", "--data", str(path)]


def _exit_2(tmp_path: Path) -> list[str]:
    return ["validate", "--data", str(tmp_path / "absent.csv")]


def _exit_3(tmp_path: Path) -> list[str]:
    path = tmp_path / "c.csv"
    path.write_text('text\n""\n')
    return ["train", "--data", str(path), "--no-mlflow"]


def _exit_4(tmp_path: Path) -> list[str]:
    """A champion, then a challenger with no intent head sent through the gate."""
    full, actionable = tmp_path / "cases.csv", tmp_path / "complaints.csv"
    make_cases(200).to_csv(full, index=False)
    make_cases(200, seed=1)[["case_id", "text", "actionable"]].to_csv(actionable, index=False)
    settings = Settings(data_dir=tmp_path / "var")  # the `settings` fixture's data dir
    assert main(["train", "--data", str(full), "--no-mlflow", "--quiet"], settings) == 0
    return ["train", "--data", str(actionable), "--no-mlflow", "--promote", "--quiet"]


EXIT_CASES: dict[int, Callable[[Path], list[str]]] = {
    0: _exit_0,
    1: _exit_1,
    2: _exit_2,
    3: _exit_3,
    4: _exit_4,
}


def _documented_exit_codes() -> set[int]:
    """The codes in the README's command-line "Exit codes:" bullet."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    bullet = re.search(r"- Exit codes:(.*?)(?:\n- |\n\n)", readme, re.S)
    assert bullet, "README lost its 'Exit codes:' bullet"
    return {int(code) for code in re.findall(r"(?:^|, )(\d) ", bullet.group(1).strip())}


def test_every_documented_exit_code_has_a_case() -> None:
    """Check that the exit-code table below covers exactly the codes the README documents."""
    assert _documented_exit_codes() == set(EXIT_CASES)


@pytest.mark.parametrize("code", sorted(EXIT_CASES))
def test_documented_exit_code_is_returned(
    code: int, tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check each documented exit code on a minimal input, with no traceback."""
    actual, err = _run(EXIT_CASES[code](tmp_path), settings, capsys)
    assert actual == code
    assert "Traceback" not in err
