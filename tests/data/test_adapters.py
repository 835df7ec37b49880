"""Adapters for the real public datasets in ../shared/datasets (skip when absent)."""

from __future__ import annotations

import pytest

from switchboard.data.adapters import signoff
from switchboard.data.loaders import load_cases
from tests.conftest import shared_dataset


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("We're on it, DM us your order number. ^JK", "JK"),
        ("Sorry about that! -Becky", "Becky"),
        ("Please follow and DM us - AA", "AA"),
        ("Thanks for waiting —MR", "MR"),
        ("Please DM us so we can help.", None),
        ("See https://t.co/abc", None),
    ],
)
def test_agent_signoff_is_read_from_the_end_of_a_reply(reply: str, expected: str | None) -> None:
    """Check the sign-off parser on the forms brands use."""
    assert signoff(reply) == expected


@pytest.mark.realdata
def test_airline_rows_reconcile_and_conflicts_are_rejected() -> None:
    """Check 14,640 rows in = accepted + rejected, and the SPLIT_RULE test fifth."""
    report = load_cases([shared_dataset("airline_sentiment")], "airline_sentiment")
    assert report.n_in == 14_640 == len(report.accepted) + len(report.rejects)
    assert "conflicting_duplicate" in set(report.rejects["reason"])
    assert report.accepted["case_id"].is_unique
    test_share = (report.accepted["split"] == "test").mean()
    assert 0.18 < test_share < 0.22
    assert report.accepted["intent"].notna().sum() < report.accepted["sentiment"].notna().sum()


@pytest.mark.realdata
def test_complaints_map_label_to_actionable() -> None:
    """Check that complaint label 1 becomes actionable and the ids stay exact strings."""
    report = load_cases([shared_dataset("complaints")], "complaints")
    assert len(report.accepted) == 2_750
    assert int(report.accepted["actionable"].sum()) == 987
    assert report.accepted["case_id"].str.fullmatch(r"\d{17,18}").all()


@pytest.mark.realdata
def test_twcs_threads_become_cases_with_responders_and_latency() -> None:
    """Check that customer tweets get the replying brand, sign-off responder and latency."""
    report = load_cases([shared_dataset("twcs_head5k")], "twcs")
    cases = report.accepted
    assert len(cases) > 1_000 and report.rejects.empty
    signed = cases.dropna(subset=["responder_id"])
    assert len(signed) > 200
    assert signed["responder_id"].str.contains(":").all()
    assert (cases["first_response_s"].dropna() >= 0).all()
    assert cases["replied"].any()


@pytest.mark.realdata
def test_clinc_out_of_scope_is_never_an_intent() -> None:
    """Check that out-of-scope rows carry no intent label, only is_oos."""
    cases = load_cases([shared_dataset("clinc150")], "clinc150").accepted
    assert cases.loc[cases["is_oos"], "intent"].isna().all()
    assert set(cases["split"]) == {"train", "val", "test"}


@pytest.mark.realdata
def test_banking77_keeps_official_split() -> None:
    """Check 10,003 train + 3,080 test rows with 77 intents."""
    cases = load_cases([shared_dataset("banking77")], "banking77").accepted
    assert (cases["split"] == "train").sum() == 10_003
    assert (cases["split"] == "test").sum() == 3_080
    assert cases["intent"].nunique() == 77
