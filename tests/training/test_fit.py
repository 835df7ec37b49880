"""Training methodology: labels per head, validation-only selection, calibration, splits, CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from switchboard.data.splits import bucket
from switchboard.ml.expertise import shrink
from switchboard.training.evaluate import evaluate_bundle
from switchboard.training.fit import cross_validate, data_fingerprint, fit_bundle
from switchboard.training.split import assign_split, split_rule
from tests.conftest import make_cases


def test_each_head_trains_on_rows_that_have_its_label() -> None:
    """Check that a head with half its labels missing trains on exactly the labelled rows."""
    frame = make_cases(400)
    frame.loc[frame.index % 2 == 0, "sentiment"] = None
    result = fit_bundle(frame)
    split = assign_split(frame)
    expected = int(((split == "train") & frame["sentiment"].notna()).sum())
    assert result.selection["sentiment"]["n_train"] == expected
    assert result.selection["intent"]["n_train"] == int((split == "train").sum())


def test_head_without_labels_is_skipped_not_faked() -> None:
    """Check that a label column absent from the data yields no head and says why."""
    frame = make_cases(300).drop(columns=["tier"])
    result = fit_bundle(frame)
    assert "tier" not in result.bundle.heads
    assert "tier" in result.skipped


def test_test_labels_never_influence_the_model() -> None:
    """Check that scrambling the test split's labels leaves every weight unchanged."""
    frame = make_cases(400)
    test = assign_split(frame) == "test"
    scrambled = frame.copy()
    scrambled.loc[test, "intent"] = np.random.default_rng(0).permutation(
        scrambled.loc[test, "intent"].to_numpy()
    )
    a, b = fit_bundle(frame), fit_bundle(scrambled)
    assert np.array_equal(a.bundle.heads["intent"].coef, b.bundle.heads["intent"].coef)
    assert a.bundle.heads["intent"].temperature == b.bundle.heads["intent"].temperature


def test_probabilities_are_calibrated_and_reported() -> None:
    """Check that each head reports Brier and ECE and that a temperature was fitted."""
    result = fit_bundle(make_cases(600))
    for head, report in result.metrics["heads"].items():
        if head == "responder":
            continue
        assert 0.0 <= report["ece"] <= 1.0
        assert report["brier"] is not None
        assert result.selection[head]["temperature"] > 0


def test_time_ordered_split_puts_latest_rows_in_test() -> None:
    """Check that with timestamps the newest 20 % are the test split."""
    frame = make_cases(200).sample(frac=1.0, random_state=1)  # order must not matter
    split = assign_split(frame)
    assert split_rule(frame) == "time"
    newest = frame["created_at"].nlargest(40).index
    assert (split.loc[newest] == "test").all()
    assert (split == "val").sum() == 20


def test_hash_split_follows_shared_rule_without_timestamps() -> None:
    """Check that without timestamps test is exactly bucket(case_id) == 0 (SPLIT_RULE.md)."""
    frame = make_cases(300)
    frame["created_at"] = pd.NaT
    split = assign_split(frame)
    assert split_rule(frame) == "hash"
    expected = frame["case_id"].map(lambda k: bucket(k) == 0)
    assert ((split == "test") == expected).all()
    assert (split == "val").any()


def test_given_split_column_wins_and_val_is_carved_from_train() -> None:
    """Check that a dataset's own split is obeyed and validation comes out of its train part."""
    frame = make_cases(300)
    frame["split"] = np.where(frame.index < 60, "test", "train")
    split = assign_split(frame)
    assert (split.iloc[:60] == "test").all()
    assert set(split.iloc[60:]) == {"train", "val"}


def test_cross_validation_scores_every_labelled_row_once() -> None:
    """Check that pooled K-fold predictions cover each labelled row exactly once."""
    frame = make_cases(300)
    frame["actionable"] = frame["actionable"].astype("boolean")
    frame.loc[:49, "actionable"] = None
    report = cross_validate(frame, 3)
    assert report["heads"]["actionable"]["n"] == 250
    assert report["heads"]["intent"]["n"] == 300


def test_expert_responder_scores_higher_than_weaker_peer() -> None:
    """Check that the responder who resolves more gets the higher expertise."""
    result = fit_bundle(make_cases(600))
    model = result.bundle.expertise
    assert model is not None
    assert model.quality["ana"] > model.quality["bo"]
    assert model.quality["ana"] > model.quality["cy"]


def test_little_history_is_shrunk_towards_team_rate() -> None:
    """Check that 3/3 successes count for less than 90/100 under shrinkage."""
    assert shrink(3, 3, 0.5, 10) < shrink(90, 100, 0.5, 10)
    assert shrink(0, 0, 0.5, 10) == pytest.approx(0.5)


def test_responder_head_reports_hit_at_k_against_most_active_baseline() -> None:
    """Check that the responder report has hit@1/hit@3 and the most-active baseline."""
    report = evaluate_bundle(fit_bundle(make_cases(400)).bundle, make_cases(80, seed=3))
    r = report["heads"]["responder"]
    assert r["hit_at_1"] <= r["hit_at_3"] <= 1.0
    assert "baseline_most_active_hit_at_1" in r


def test_brand_name_does_not_change_intent() -> None:
    """Check invariance: swapping the product word keeps the predicted intent."""
    bundle = fit_bundle(make_cases(600)).bundle
    a = bundle.predict({"text": ["my phone broke again, so annoyed"]})[0]["intent"].label
    b = bundle.predict({"text": ["my bag broke again, so annoyed"]})[0]["intent"].label
    assert a == b == "complaint"


def test_fingerprint_changes_with_labels_not_with_reruns() -> None:
    """Check that the data fingerprint is stable and sensitive to a changed label."""
    frame = make_cases(100)
    changed = frame.copy()
    changed.loc[0, "intent"] = "praise" if frame.loc[0, "intent"] != "praise" else "spam"
    assert data_fingerprint(frame) == data_fingerprint(frame.copy())
    assert data_fingerprint(frame) != data_fingerprint(changed)
