"""Loaders, validation and rejects: every row is accepted or rejected with a reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from switchboard.data.errors import DataError
from switchboard.data.loaders import load_cases, load_raw, parse_mapping
from switchboard.data.schema import COLUMN_NAMES
from switchboard.data.validate import validate_cases
from tests.conftest import make_cases


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_file_format_loads_the_same_cases(tmp_path: Path, suffix: str) -> None:
    """Check that CSV, JSON Lines and Parquet give the same accepted cases."""
    frame = make_cases(40)
    path = tmp_path / f"cases{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_parquet(path)
    report = load_cases([path])
    assert len(report.accepted) == 40 and report.rejects.empty
    assert list(report.accepted.columns[: len(COLUMN_NAMES)]) == list(COLUMN_NAMES)
    assert report.accepted["tier"].dtype == "Int64"
    assert str(report.accepted["created_at"].dt.tz) == "UTC"
    assert report.accepted["intent"].tolist() == frame["intent"].tolist()


def test_map_renames_source_column_onto_schema(tmp_path: Path) -> None:
    """Check that --map text=body reads the text from `body`."""
    path = tmp_path / "c.csv"
    pd.DataFrame({"body": ["hello there"], "mood": ["positive"]}).to_csv(path, index=False)
    report = load_cases([path], mapping=parse_mapping(["text=body", "sentiment=mood"]))
    assert report.accepted.loc[0, "text"] == "hello there"
    assert report.accepted.loc[0, "sentiment"] == "positive"


@pytest.mark.parametrize("item", ["text", "=body", "nonsense=body"])
def test_bad_mapping_is_a_data_error(item: str) -> None:
    """Check that a malformed --map or unknown target fails naming the item."""
    with pytest.raises(DataError, match="--map"):
        parse_mapping([item])


def test_missing_text_column_names_the_columns_found() -> None:
    """Check that a file without `text` is refused with its column list."""
    with pytest.raises(DataError, match=r"'text' is missing.*body"):
        validate_cases(pd.DataFrame({"body": ["x"]}), "f.csv")


def test_unreadable_and_unknown_files_are_data_errors(tmp_path: Path) -> None:
    """Check missing files and unknown suffixes give a clear error."""
    with pytest.raises(DataError, match="no such file"):
        load_raw(tmp_path / "absent.csv")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown format"):
        load_raw(tmp_path / "x.xlsx")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("text", "  ", "empty_text"),
        ("text", "nul\x00byte", "bad_text"),
        ("created_at", "yesterday-ish", "bad_created_at"),
        ("sentiment", "furious", "unknown_label"),
        ("reply_action", "carrier pigeon", "unknown_label"),
        ("tier", "7", "unknown_label"),
        ("split", "holdout", "unknown_label"),
        ("actionable", "maybe", "bad_value"),
        ("author_followers", "-5", "bad_value"),
        ("author_followers", "12.5", "bad_value"),
        ("first_response_s", "-1", "bad_value"),
        ("csat", "9", "bad_value"),
    ],
)
def test_bad_row_is_rejected_with_its_reason(column: str, value: str, reason: str) -> None:
    """Check each validation rule: the row is rejected, its row number and reason recorded."""
    raw = make_cases(5).astype(object)
    raw.loc[2, column] = value
    result = validate_cases(raw, "f.csv")
    assert len(result.accepted) + len(result.rejects) == result.n_in == 5
    assert result.rejects["row"].tolist() == [3]
    assert result.rejects["reason"].tolist() == [reason]
    assert column in result.rejects.loc[0, "detail"] or reason == "bad_text"


def test_exact_duplicate_keeps_first_and_rejects_the_rest() -> None:
    """Check that a repeated id with identical labels keeps one copy and rejects the copy."""
    raw = make_cases(4)
    raw = pd.concat([raw, raw.iloc[[1]]], ignore_index=True)
    result = validate_cases(raw)
    assert len(result.accepted) == 4
    assert result.rejects["reason"].tolist() == ["duplicate"]
    assert "row 2" in result.rejects.loc[0, "detail"]


def test_conflicting_duplicates_are_all_rejected() -> None:
    """Check that one id with two different labels keeps neither row."""
    raw = make_cases(4)
    copy = raw.iloc[[1]].copy()
    copy["sentiment"] = "positive" if raw.loc[1, "sentiment"] != "positive" else "negative"
    result = validate_cases(pd.concat([raw, copy], ignore_index=True))
    assert len(result.accepted) == 3
    assert result.rejects["reason"].tolist() == ["conflicting_duplicate"] * 2


def test_missing_case_id_is_generated_from_file_and_row() -> None:
    """Check that cases without ids get stable ones."""
    result = validate_cases(pd.DataFrame({"text": ["a", "b"]}), "data/history.csv")
    assert result.accepted["case_id"].tolist() == ["history-1", "history-2"]


def test_extra_columns_are_kept_after_schema_columns() -> None:
    """Check that adapter columns such as is_oos survive validation."""
    result = validate_cases(pd.DataFrame({"text": ["a"], "is_oos": [True]}))
    assert result.accepted.columns[-1] == "is_oos"


def test_rejects_file_is_written_with_source(tmp_path: Path) -> None:
    """Check that rejects from several files go to one CSV naming each source."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"text": ["ok", ""]}).to_csv(a, index=False)
    pd.DataFrame({"text": ["", "ok"]}).to_csv(b, index=False)
    report = load_cases([a, b], rejects_path=tmp_path / "rejects.csv")
    saved = pd.read_csv(tmp_path / "rejects.csv")
    assert report.n_in == 4 and len(report.accepted) == 2
    assert sorted(saved["source"]) == [str(a), str(b)]
    assert "4 rows: 2 accepted + 2 rejected" in report.summary()
