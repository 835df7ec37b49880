"""The case schema and its human-readable data dictionary agree."""

from __future__ import annotations

from pathlib import Path

from switchboard.data.schema import COLUMNS, LABEL_COLUMNS, SENTIMENTS

README = Path(__file__).resolve().parents[2] / "datasets" / "README.md"


def test_every_schema_column_is_documented() -> None:
    """Check that the data dictionary has a row for each column of schema.py."""
    text = README.read_text()
    for column in COLUMNS:
        assert f"| `{column.name}` |" in text, column.name


def test_only_text_is_required_and_labels_are_optional() -> None:
    """Check the documented contract: text required, any subset of labels."""
    assert [c.name for c in COLUMNS if c.required] == ["text"]
    assert {"intent", "sentiment", "actionable", "reply_action", "tier"} <= set(LABEL_COLUMNS)
    assert SENTIMENTS == ("negative", "neutral", "positive")
