"""The curated corpus the default model learns its text heads from (datasets/curated/): valid
by the schema, labelled consistently with the rubric, and as broad as issue #16 asks."""

from __future__ import annotations

import pandas as pd
import pytest

from switchboard.data.loaders import load_cases
from switchboard.data.shipped import curated_files
from switchboard.vocabulary import CARE_INTENTS


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    report = load_cases(curated_files())
    assert report.rejects.empty, report.rejects.head().to_dict("records")
    return report.accepted


def test_every_curated_row_passes_validation_and_ids_are_unique(corpus: pd.DataFrame) -> None:
    """Check that no curated row is rejected and no case id or text is written twice."""
    assert corpus["case_id"].is_unique
    texts = corpus["text"].str.strip().str.lower()
    assert not texts.duplicated().any(), corpus.loc[texts.duplicated(), "text"].head().tolist()


def test_curated_labels_follow_the_rubric_invariants(corpus: pd.DataFrame) -> None:
    """Check actionable <=> a reply, no reply <=> tier 1, crisis <=> tier 5 (RUBRIC.md)."""
    reply = corpus["reply_action"].astype(str)
    tier = corpus["tier"].astype(int)
    assert ((corpus["actionable"].astype(str).str.lower() == "true") == (reply != "none")).all()
    assert ((reply == "none") == (tier == 1)).all()
    assert ((corpus["intent"] == "crisis") == (tier == 5)).all()


def test_curated_corpus_is_as_broad_as_the_issue_asks(corpus: pd.DataFrame) -> None:
    """Check at least 2,000 mentions, 10 industries, all 12 intents, five languages."""
    assert len(corpus) >= 2000
    assert corpus.loc[corpus["industry"] != "general", "industry"].nunique() >= 10
    assert set(corpus["intent"]) == set(CARE_INTENTS)
    assert {"en", "es", "fr", "de", "pt"} <= set(corpus["language"])
