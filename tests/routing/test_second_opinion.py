"""The cascade: the transformer's heads decide only the mentions the fast heads are unsure of."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from switchboard.ml import minilm
from switchboard.ml.bundle import load_bundle, save_bundle
from switchboard.routing.policy import Policy, load_policy, wants_second_opinion
from switchboard.routing.router import Router
from switchboard.routing.types import Mention
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, TrainResult, fit_bundle
from tests.conftest import make_cases

pytestmark = pytest.mark.slow

MENTIONS = [
    Mention(id=str(i), text=t)
    for i, t in enumerate(
        [
            "where is my order #A123456 for the phone?",
            "win a free phone www.win.example now",
            "love the new app! thank you",
            "the app keeps crashing when i open my account",
            "hmm ok",
            "is it just me or is the website weird today",
        ]
    )
]


@pytest.fixture(scope="module")
def trained() -> TrainResult:
    try:
        minilm.model_dir()
    except minilm.MiniLMUnavailable as exc:
        pytest.skip(str(exc))
    return fit_bundle(make_cases(300), TrainConfig(second_opinion=True), evaluate=False)


def _policy(below: float) -> Policy:
    policy = load_policy(Settings().policy_file)
    config = {**policy.config, "confidence": {**policy.config["confidence"]}}
    config["confidence"]["second_opinion_below"] = below
    return replace(policy, config=config)


def test_only_unsure_mentions_are_decided_by_the_second_opinion(trained: TrainResult) -> None:
    """Check that sure mentions keep the fast heads and unsure ones get the transformer's."""
    bundle = trained.bundle
    assert bundle.deep is not None
    fast_heads = [
        r.heads for r in Router(replace(bundle, deep=None), _policy(0.0)).recommend(MENTIONS)
    ]
    policy = next(  # a threshold that some of these mentions fall under and some do not
        p
        for p in map(_policy, (0.6, 0.8, 0.9, 0.99, 0.999, 0.9999))
        if 0 < sum(wants_second_opinion(h, p) for h in fast_heads) < len(MENTIONS)
    )
    recs = Router(bundle, policy).recommend(MENTIONS)
    fast = Router(replace(bundle, deep=None), policy).recommend(MENTIONS)
    deep = bundle.deep.predict({"text": [m.text for m in MENTIONS]})
    asked = [wants_second_opinion(f.heads, policy) for f in fast]
    for rec, f, d, a in zip(recs, fast, deep, asked, strict=True):
        noted = any(h.code == "second_opinion" for h in rec.decision.rules)
        assert noted == a
        expected = d if a else f.heads
        assert {k: p.label for k, p in rec.heads.items()} == {
            k: p.label for k, p in expected.items()
        }


def test_threshold_zero_turns_the_cascade_off(trained: TrainResult) -> None:
    """Check that `second_opinion_below = 0` never asks the transformer."""
    recs = Router(trained.bundle, _policy(0.0)).recommend(MENTIONS)
    assert not any(h.code == "second_opinion" for r in recs for h in r.decision.rules)


def test_bundle_with_second_opinion_reloads_and_decides_identically(
    trained: TrainResult, tmp_path: Path
) -> None:
    """Check that the second opinion is saved, checksummed and reloaded with the bundle."""
    digest = save_bundle(trained.bundle, tmp_path / "b")
    reloaded = load_bundle(tmp_path / "b", digest)
    assert reloaded.deep is not None and set(reloaded.deep.heads) == set(trained.bundle.deep.heads)
    policy = _policy(0.9)
    a = Router(trained.bundle, policy).recommend(MENTIONS)
    b = Router(reloaded, policy).recommend(MENTIONS)
    assert [r.decision for r in a] == [r.decision for r in b]


def test_training_without_the_weights_records_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that a machine without MiniLM still trains, and the bundle says it has no
    second opinion and why."""

    def missing() -> Path:
        raise minilm.MiniLMUnavailable("MiniLM weights not installed")

    monkeypatch.setattr("switchboard.ml.embedding.file_digests", lambda: missing())
    result = fit_bundle(make_cases(200), TrainConfig(second_opinion=True), evaluate=False)
    assert result.bundle.deep is None
    assert "not installed" in result.bundle.metadata["second_opinion"]["skipped"]


def test_second_opinion_trains_reproducibly(trained: TrainResult) -> None:
    """Check that training again on the same data gives the same transformer heads."""
    again = fit_bundle(make_cases(300), TrainConfig(second_opinion=True), evaluate=False).bundle
    assert trained.bundle.deep is not None and again.deep is not None
    for name, head in trained.bundle.deep.heads.items():
        assert np.array_equal(head.coef, again.deep.heads[name].coef), name


def test_second_opinion_explains_by_its_rule_not_by_embedding_dimensions(
    trained: TrainResult,
) -> None:
    """Check that a re-scored mention carries the `second_opinion` rule and no feature list of
    embedding dimensions, while a sure one keeps its word evidence."""
    recs = Router(trained.bundle, _policy(0.9999), explain=3).recommend(MENTIONS)
    fast = Router(trained.bundle, _policy(0.0), explain=3).recommend(MENTIONS)
    asked = [any(h.code == "second_opinion" for h in r.decision.rules) for r in recs]
    assert any(asked)
    for rec, sure, a in zip(recs, fast, asked, strict=True):
        features = [f for p in rec.heads.values() for f, _ in p.top_features]
        assert features == [] if a else features
        assert [f for p in sure.heads.values() for f, _ in p.top_features]  # words, fast path


def test_model_card_lists_the_second_opinion_heads(trained: TrainResult) -> None:
    """Check that a data scientist reading the card sees the transformer's heads."""
    from switchboard.training.card import build_card

    card = build_card(trained.bundle.metadata, {"heads": {}}, [], None)
    section = card.split("## Second opinion (the cascade)")[1].split("## Decisions")[0]
    assert "| intent |" in section and "validation macro-F1" in section


def test_explaining_changes_no_cascade_decision(trained: TrainResult) -> None:
    """Check that asking for explanations leaves which mentions the transformer decided, and
    how, as they are without."""
    router = Router(trained.bundle, _policy(0.9999))
    plain, asked = router.recommend(MENTIONS), router.recommend(MENTIONS, explain=3)
    assert [r.decision for r in plain] == [r.decision for r in asked]
    assert any(h.code == "second_opinion" for r in asked for h in r.decision.rules)
    assert all(r.explained for r in asked) and not any(r.explained for r in plain)
