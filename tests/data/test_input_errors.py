"""Data edge cases: every problem is pinned to file, line and column, or quarantined per row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from switchboard.data.errors import DataError, NoRowsError
from switchboard.data.loaders import load_cases
from switchboard.data.validate import validate_cases


def _jsonl(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_latin1_byte_is_refused_naming_line_column_and_byte(tmp_path: Path) -> None:
    """Check that one non-UTF-8 byte refuses the file with file:line, byte and column."""
    path = tmp_path / "cases.csv"
    path.write_bytes(b"text,sentiment\nfine,positive\ncaf\xe9 closed,negative\n")
    with pytest.raises(DataError) as caught:
        load_cases([path])
    message = str(caught.value)
    assert message.startswith(f"{path}:3: not UTF-8 (byte 0xe9 at column 4)")
    assert "--encoding latin-1" in message


def test_encoding_option_reads_a_latin1_file(tmp_path: Path) -> None:
    """Check that encoding="latin-1" decodes the same file instead of refusing it."""
    path = tmp_path / "cases.csv"
    path.write_bytes(b"text,sentiment\ncaf\xe9 closed,negative\n")
    report = load_cases([path], encoding="latin-1")
    assert report.accepted["text"].tolist() == ["café closed"]


def test_unknown_encoding_is_refused_before_reading(tmp_path: Path) -> None:
    """Check that a misspelt --encoding is a DataError naming it."""
    path = tmp_path / "cases.csv"
    path.write_text("text\nhi\n")
    with pytest.raises(DataError, match="--encoding 'utf-9'"):
        load_cases([path], encoding="utf-9")


def test_utf8_bom_does_not_rename_the_first_column(tmp_path: Path) -> None:
    """Check that a UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped, not read as text."""
    path = tmp_path / "cases.csv"
    path.write_bytes("text,sentiment\nhola,positive\n".encode("utf-8-sig"))
    assert load_cases([path]).accepted["text"].tolist() == ["hola"]


def test_bad_jsonl_line_is_reported_by_line_number(tmp_path: Path) -> None:
    """Check that malformed JSON is refused naming the line (not a byte offset) and column."""
    path = _jsonl(tmp_path / "c.jsonl", '{"text": "a"}', '{"text": oops}', '{"text": "c"}')
    with pytest.raises(DataError, match=r"c\.jsonl:2: not valid JSON \(.* at column 10\)"):
        load_cases([path])


def test_jsonl_line_that_is_not_an_object_is_refused_naming_the_line(tmp_path: Path) -> None:
    """Check that a JSON array on a line is refused with its line number."""
    path = _jsonl(tmp_path / "c.jsonl", '{"text": "a"}', "", '["text", "b"]')
    with pytest.raises(
        DataError, match=r"c\.jsonl:3: expected one JSON object per line, got array"
    ):
        load_cases([path])


@pytest.mark.parametrize(
    ("value", "kind"),
    [("5", "number"), ('["hi"]', "array"), ('{"a": 1}', "object"), ("true", "boolean")],
)
def test_non_string_text_is_rejected_per_row_with_reason(
    tmp_path: Path, value: str, kind: str
) -> None:
    """Check that a JSONL text that is not a string is quarantined, not coerced to a string."""
    path = _jsonl(tmp_path / "c.jsonl", '{"text": "fine"}', '{"text": ' + value + "}")
    rejects_path = tmp_path / "rejects.csv"
    report = load_cases([path], rejects_path=rejects_path)
    assert report.accepted["text"].tolist() == ["fine"]
    saved = pd.read_csv(rejects_path, dtype=str)
    assert saved[["row", "line", "reason"]].values.tolist() == [["2", "2", "bad_text"]]
    assert saved.loc[0, "detail"].startswith(f"text must be a string, got {kind}")


def test_numeric_ids_and_label_codes_stay_accepted(tmp_path: Path) -> None:
    """Check that numbers in id and open-label columns (tweet ids, banking77 codes) still load."""
    path = _jsonl(tmp_path / "c.jsonl", '{"case_id": 1234567890123, "text": "hi", "intent": 7}')
    report = load_cases([path])
    assert report.rejects.empty
    assert report.accepted.loc[0, "case_id"] == "1234567890123"


def test_array_in_another_text_column_is_a_bad_value(tmp_path: Path) -> None:
    """Check that a list where one value belongs is rejected naming the column."""
    path = _jsonl(tmp_path / "c.jsonl", '{"text": "hi", "brand": ["a", "b"]}')
    report = load_cases([path])
    assert report.rejects["reason"].tolist() == ["bad_value"]
    assert report.rejects.loc[0, "detail"].startswith("brand must be a single value, got array")


def test_lone_surrogate_escape_is_rejected_per_row_naming_line_and_column(
    tmp_path: Path,
) -> None:
    """Check that "\\ud800" in JSONL is a per-row bad_text reject, not silently dropped."""
    path = _jsonl(tmp_path / "c.jsonl", '{"text": "ok"}', "", '{"text": "ab\\ud800"}')
    rejects_path = tmp_path / "rejects.csv"
    report = load_cases([path], rejects_path=rejects_path)
    assert len(report.accepted) == 1
    rec = report.rejects.iloc[0]
    assert (rec["row"], rec["line"], rec["reason"]) == (2, 3, "bad_text")
    assert rec["detail"] == "text has a lone surrogate \\ud800 at character 3"
    saved = rejects_path.read_text(encoding="utf-8")  # writable: escaped, not a crash
    assert "ab\\ud800" in saved


def test_rejects_name_the_line_a_csv_row_starts_on(tmp_path: Path) -> None:
    """Check that a quoted multi-line field does not shift the reported line numbers."""
    path = tmp_path / "c.csv"
    path.write_text('text,sentiment\n"two\nlines",positive\n"",negative\nok,furious\n')
    report = load_cases([path])
    assert report.rejects[["row", "line", "reason"]].values.tolist() == [
        [2, 4, "empty_text"],
        [3, 5, "unknown_label"],
    ]
    assert report.reject_lines() == [
        f"{path}:4: empty_text: text is empty",
        f"{path}:5: unknown_label: sentiment 'furious' not in ['negative', 'neutral', 'positive']",
    ]


def test_rejects_keep_a_data_file_own_source_column(tmp_path: Path) -> None:
    """Check that a file with its own `source` column still gets a rejects file, not a crash."""
    path = tmp_path / "c.csv"
    pd.DataFrame({"text": ["", "ok"], "source": ["web", "app"]}).to_csv(path, index=False)
    report = load_cases([path], rejects_path=tmp_path / "rejects.csv")
    assert report.rejects["reason"].tolist() == ["empty_text"]
    assert report.reject_lines() == [f"{path}:2: empty_text: text is empty"]
    assert (tmp_path / "rejects.csv").is_file()


def test_clean_load_removes_an_old_rejects_file(tmp_path: Path) -> None:
    """Check that a stale rejects file from an earlier run never outlives a clean run."""
    path, rejects_path = tmp_path / "c.csv", tmp_path / "rejects.csv"
    path.write_text("text\n\nhello\n")
    rejects_path.write_text("row,reason\n1,empty_text\n")
    report = load_cases([path], rejects_path=rejects_path)
    assert report.rejects.empty
    assert not rejects_path.exists()


def test_all_rows_rejected_is_a_no_rows_error_with_exit_code_3(tmp_path: Path) -> None:
    """Check that require_rows refuses (exit 3) naming the file and the rejects file."""
    path = tmp_path / "c.csv"
    path.write_text('text,sentiment\n"",positive\nhi,furious\n')
    report = load_cases([path], rejects_path=tmp_path / "rejects.csv")
    with pytest.raises(NoRowsError, match=r"c\.csv: all 2 rows were rejected.*rejects\.csv") as e:
        report.require_rows("train on")
    assert e.value.exit_code == 3


def test_validation_without_line_numbers_leaves_line_blank() -> None:
    """Check that frames from adapters (no source lines) still give rows and an empty line."""
    result = validate_cases(pd.DataFrame({"text": ["", "ok"]}), "adapter")
    assert result.rejects[["row", "line"]].values.tolist() == [[1, ""]]


def test_line_bookkeeping_never_shows_as_a_column(tmp_path: Path) -> None:
    """Check that the internal line column is neither loaded nor listed in errors."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("text,note\nhi,x\n")
    bad.write_text("body\nhi\n")
    assert list(load_cases([good]).accepted.columns)[-1] == "note"
    with pytest.raises(DataError, match=r"columns found: \['body'\] "):
        load_cases([bad])
