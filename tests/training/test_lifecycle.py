"""The model lifecycle: the promotion gate, promote with a recorded override, rollback, the
first-version rule, `--out`, and the model card (no MLflow here; tests/e2e has the mirror)."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

from switchboard.ml.bundle import Bundle
from switchboard.ml.registry import CHALLENGER, CHAMPION, Registry, RegistryError
from switchboard.routing.policy import Policy, load_policy
from switchboard.settings import Settings
from switchboard.training import lifecycle
from switchboard.training.fit import TrainConfig, fit_bundle
from switchboard.training.pipeline import train_and_register
from tests.conftest import make_cases

FAST = TrainConfig(featurisations=("tfidf",))


@pytest.fixture(scope="module")
def good() -> Bundle:
    return fit_bundle(make_cases(300), FAST).bundle


@pytest.fixture(scope="module")
def actionable_only() -> Bundle:
    """What a complaints-style file makes: one `actionable` head, nothing the policy routes on."""
    frame = make_cases(300, seed=1)[["case_id", "text", "created_at", "actionable"]]
    return fit_bundle(frame, FAST).bundle


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return load_policy(settings.policy_file)


def _weaker(bundle: Bundle, by: float = 0.1) -> Bundle:
    """The same model claiming lower held-out intent figures."""
    meta = copy.deepcopy(bundle.metadata)
    meta["metrics"]["intent"]["macro_f1"] -= by
    return dataclasses.replace(bundle, metadata=meta)


def _with_champion(settings: Settings, bundle: Bundle) -> Registry:
    registry = Registry(settings.registry_path)
    registry.register(bundle, "v1")
    registry.set_alias(CHAMPION, "v1", action="first")
    return registry


def test_challenger_without_intent_head_is_refused(
    settings: Settings, good: Bundle, actionable_only: Bundle, policy: Policy
) -> None:
    """Check that a version the policy cannot route with never becomes champion (issue #12)."""
    registry = _with_champion(settings, good)
    registry.register(actionable_only, "v2")
    with pytest.raises(lifecycle.PromotionRefused, match=r"no `intent` head") as caught:
        lifecycle.promote(settings, "v2", policy)
    assert caught.value.exit_code == 4
    assert "sentiment" in str(caught.value)  # the heads the champion has and v2 lacks
    assert registry.get(CHAMPION).version == "v1"


def test_weaker_challenger_is_refused_unless_forced_with_reason(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check the tolerance on stored figures, and that an override needs and records a reason."""
    registry = _with_champion(settings, good)
    registry.register(_weaker(good), "v2")
    with pytest.raises(lifecycle.PromotionRefused, match=r"`intent` macro-F1 0\.900 is below"):
        lifecycle.promote(settings, "v2", policy)
    with pytest.raises(Exception, match="--force needs --reason"):
        lifecycle.promote(settings, "v2", policy, force=True)
    assert registry.get(CHAMPION).version == "v1"
    entry, _, _ = lifecycle.promote(
        settings, "v2", policy, force=True, reason="hotfix for #99", by="alice"
    )
    assert registry.get(CHAMPION).version == "v2"
    last = registry.history(CHAMPION)[-1]
    assert last == entry
    assert (last["action"], last["by"], last["reason"], last["previous"]) == (
        "force",
        "alice",
        "hotfix for #99",
        "v1",
    )
    assert any("macro-F1" in p for p in last["overridden"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", last["at"])


def test_a_drop_within_the_tolerance_passes(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that a challenger 0.01 below the champion passes the default 0.02 tolerance only."""
    registry = _with_champion(settings, good)
    registry.register(_weaker(good, 0.01), "v2")
    with pytest.raises(lifecycle.PromotionRefused):
        lifecycle.promote(settings, "v2", policy, tolerance=0.005)
    entry, gate, _ = lifecycle.promote(settings, "v2", policy)
    assert entry is not None and entry["action"] == "promote" and gate.passed


def test_labels_the_policy_does_not_know_are_refused(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that an airline-style intent vocabulary ("Can't Tell") is refused."""
    frame = make_cases(300, seed=2)
    frame["intent"] = frame["intent"].map({"spam": "Can't Tell"}).fillna(frame["intent"])
    airline = fit_bundle(frame, FAST).bundle
    registry = _with_champion(settings, good)
    registry.register(airline, "v2")
    with pytest.raises(lifecycle.PromotionRefused, match=r"policy does not know.*Can't Tell"):
        lifecycle.promote(settings, "v2", policy)


def test_gate_on_data_scores_both_versions_on_the_same_rows(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that --data replaces the stored figures: a model trained on scrambled intents loses."""
    frame = make_cases(300, seed=3)
    frame["intent"] = frame["intent"].sample(frac=1.0, random_state=0).to_numpy()
    scrambled = fit_bundle(frame, FAST).bundle
    registry = _with_champion(settings, good)
    registry.register(scrambled, "v2")
    result = lifecycle.gate(registry, "v2", policy, data=make_cases(200, seed=4))
    assert result.measured_on == "the same 200 rows of --data"
    assert any(p.startswith("`intent` macro-F1") for p in result.problems)


def test_policy_heads_are_the_heads_the_policy_reads() -> None:
    """Check that the gate's list of policy heads matches `heads.get(...)` in routing/policy.py."""
    source = (Path(lifecycle.__file__).parents[1] / "routing" / "policy.py").read_text()
    assert set(re.findall(r'heads\.get\("(\w+)"\)', source)) == set(lifecycle.POLICY_HEADS)


def test_rollback_restores_previous_champion_step_by_step(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that rollback walks the champion history back, and refuses past its start."""
    registry = _with_champion(settings, good)
    for v in ("v2", "v3"):
        registry.register(good, v)
        lifecycle.promote(settings, v, policy)
    assert lifecycle.rollback(settings, reason="v3 misroutes")[:2] == ("v3", "v2")
    assert registry.get(CHAMPION).version == "v2"
    assert registry.history(CHAMPION)[-1]["reason"] == "v3 misroutes"
    assert lifecycle.rollback(settings)[:2] == ("v2", "v1")
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        lifecycle.rollback(settings)
    lifecycle.promote(settings, "v3", policy)  # promotion after a rollback pushes again
    assert lifecycle.rollback(settings)[:2] == ("v3", "v1")


def test_first_version_is_promoted_and_later_ones_only_on_request(
    settings: Settings, policy: Policy
) -> None:
    """Check the first-run rule: an empty registry's first version has nothing to beat."""
    frame = make_cases(300)
    first = train_and_register(frame, settings, [], mlflow=False, config=FAST, benchmark=False)
    registry = Registry(settings.registry_path)
    assert first.promoted and registry.get(CHAMPION).version == "v1"
    assert registry.history(CHAMPION)[0]["action"] == "first"
    second = train_and_register(frame, settings, [], mlflow=False, config=FAST, benchmark=False)
    assert not second.promoted and registry.get(CHAMPION).version == "v1"
    assert registry.get(CHALLENGER).version == "v2"  # scored in shadow by the service
    third = train_and_register(
        frame, settings, [], mlflow=False, promote=True, config=FAST, benchmark=False
    )
    assert third.promoted and registry.get(CHAMPION).version == "v3"


def test_incompatible_first_version_is_not_promoted(settings: Settings) -> None:
    """Check that even with no champion, a model without an intent head is not promoted."""
    frame = make_cases(300, seed=1)[["case_id", "text", "created_at", "actionable"]]
    outcome = train_and_register(frame, settings, [], mlflow=False, config=FAST, benchmark=False)
    assert not outcome.promoted and "no `intent` head" in outcome.refused[0]
    assert not Registry(settings.registry_path).has(CHAMPION)


def test_out_leaves_the_registry_as_it_was(settings: Settings, tmp_path: Path) -> None:
    """Check that `--out` writes a bundle and touches neither registry.json nor bundles/."""
    frame = make_cases(300)
    train_and_register(frame, settings, [], mlflow=False, config=FAST, benchmark=False)
    registry = Registry(settings.registry_path)
    before = registry.index_path.read_bytes()
    files_before = sorted(p for p in settings.registry_path.rglob("*"))
    outcome = train_and_register(
        frame, settings, [], mlflow=True, out=tmp_path / "scratch", config=FAST, benchmark=False
    )
    assert outcome.version is None and (tmp_path / "scratch" / "MANIFEST.json").is_file()
    assert registry.index_path.read_bytes() == before
    assert sorted(p for p in settings.registry_path.rglob("*")) == files_before
    assert not (settings.data_dir / "mlflow.db").exists()


def test_model_card_is_stored_beside_the_bundle(settings: Settings, tmp_path: Path) -> None:
    """Check the card: data files with fingerprints, per-head and per-class figures, limits."""
    data = tmp_path / "cases.csv"
    frame = make_cases(300)
    frame.to_csv(data, index=False)
    train_and_register(frame, settings, [str(data)], mlflow=False, config=FAST, benchmark=False)
    registry = Registry(settings.registry_path)
    card = registry.card("v1")
    assert card is not None and card.startswith("# Switchboard model v1")
    assert str(data) in card and "## Held-out figures per head" in card
    assert "### intent per class" in card and "| order_issue |" in card
    assert "## Known limits" in card and "Not measured: --no-benchmark" in card
    assert "## Second opinion (the cascade)" in card and "None: not asked for" in card
    assert registry.get("v1").extra["card_sha256"]
    (registry.cards_dir / "v1.md").write_text(card + "edited\n")
    with pytest.raises(RegistryError, match="model card does not match"):
        registry.card("v1")


def test_card_records_the_decision_benchmark_when_shared_data_is_present(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that the decision benchmark runs through the Router, or says why it was skipped."""
    from switchboard.routing.router import Router

    figures, note = lifecycle.decision_benchmark(Router(good, policy))
    if figures is None:
        assert note  # e.g. "decision benchmark unavailable: ... shared datasets missing?"
        pytest.skip(f"decision benchmark not available here: {note}")
    assert set(figures) == {"development", "held-out"}
    assert {"n", "accuracy", "to_human", "crisis_below_tier_5"} <= set(figures["development"])


def test_compare_reports_changed_decisions(good: Bundle, actionable_only: Bundle) -> None:
    """Check compare: per-head figures for both, and the share of changed replies/tiers."""
    policy = load_policy(Settings().policy_file)
    a = dataclasses.replace(good, metadata={**good.metadata, "version": "v1"})
    b = dataclasses.replace(actionable_only, metadata={**actionable_only.metadata, "version": "v2"})
    report = lifecycle.compare(a, b, make_cases(100, seed=5), policy, examples=2)
    assert "intent" in report["heads"]["v1"] and "intent" not in report["heads"]["v2"]
    changed = report["changed"]
    assert 0 < changed["n"] <= 100 and changed["share"] == changed["n"] / 100
    assert len(changed["examples"]) == 2 and {"v1", "v2", "text"} <= set(changed["examples"][0])
    assert "decision changes:" in lifecycle.format_compare(report)


def test_progress_bars_are_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Check that fitting with progress bars writes nothing when stderr is not a TTY."""
    from switchboard.training.progress import progress

    fit_bundle(
        make_cases(120), FAST, progress=progress("heads"), stages=progress("training", "stage")
    )
    assert capsys.readouterr().err == ""


def test_stored_metrics_from_other_data_are_noted(
    settings: Settings, good: Bundle, policy: Policy
) -> None:
    """Check that the gate says when stored figures are not comparable (different data)."""
    registry = _with_champion(settings, good)
    other = dataclasses.replace(
        good, metadata={**copy.deepcopy(good.metadata), "data_fingerprint": "different"}
    )
    registry.register(other, "v2")
    result = lifecycle.gate(registry, "v2", policy)
    assert result.passed and any("fingerprints differ" in n for n in result.notes)


def test_head_metrics_ignore_unlabelled_heads(good: Bundle) -> None:
    """Check that compare data without some label columns still scores the heads it can."""
    frame = make_cases(80, seed=6)[["case_id", "text", "intent"]]
    assert set(lifecycle.head_metrics(good, pd.DataFrame(frame))) == {"intent"}
