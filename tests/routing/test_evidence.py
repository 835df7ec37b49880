"""Evidence: the words of the mention that moved each head, as spans of the text itself."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from switchboard.ml.bundle import Bundle
from switchboard.routing.evidence import evidence
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router
from switchboard.routing.types import Mention
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, fit_bundle
from tests.conftest import make_cases

_CRISIS = [
    "my {x} exploded and burned my hand",
    "the {x} caught fire and burned my son",
    "{x} exploded in my face, in hospital now",
    "your {x} burned my daughter, it exploded overnight",
]

TEXTS = [
    "my charger exploded and burned my hand",
    "where is my order #A123456 for the phone?",
    "win a free phone www.win.example now!!!",
    "love the new app 😍 thank you @acme #blessed",
    "Café crème &amp; croissant… worst   seat EVER, still broken",
    "soooo annoyed,my bag broke again (again!)",
    "   ",
    "!!!",
]


def _cases() -> pd.DataFrame:
    """The shared small cases plus a crisis intent whose words are learnable."""
    rng = random.Random(1)
    crisis = [
        {
            **make_cases(1).iloc[0].to_dict(),
            "case_id": f"c-{i}",
            "text": rng.choice(_CRISIS).format(x=rng.choice(["phone", "charger", "battery"])),
            "intent": "crisis",
            "sentiment": "negative",
            "actionable": True,
            "reply_action": "private",
            "tier": 5,
        }
        for i in range(80)
    ]
    return pd.concat([make_cases(300), pd.DataFrame(crisis)], ignore_index=True)


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    config = TrainConfig(featurisations=("tfidf",), c_grid=(0.3,), n_jobs=1)
    return fit_bundle(_cases(), config, evaluate=False).bundle


@pytest.fixture(scope="module")
def router(bundle: Bundle) -> Router:
    return Router(bundle, load_policy(Settings().policy_file), explain=5)


def _spans(router: Router, texts: list[str]):
    mentions = [Mention(id=str(i), text=t) for i, t in enumerate(texts)]
    return router.recommend(mentions)


def test_every_evidence_span_is_the_mention_text_at_its_offsets(router: Router) -> None:
    for rec in _spans(router, TEXTS):
        for head, spans in rec.evidence.items():
            for e in spans:
                assert rec.mention.text[e.start : e.end] == e.text, (head, e)
                assert e.text.strip() == e.text and e.text and e.weight != 0


def test_evidence_is_words_not_feature_names(router: Router) -> None:
    """Check that no span is an n-gram or meta feature name (`c:rde`, `w:my`, `m:len`)."""
    recs = _spans(router, TEXTS)
    assert any(rec.evidence.get("intent") for rec in recs)
    for rec in recs:
        for spans in rec.evidence.values():
            assert not any(e.text.startswith(("c:", "w:", "m:")) for e in spans)


def test_a_burn_report_is_explained_by_its_harm_words(router: Router) -> None:
    """Check that "exploded" / "burned" push the intent head to crisis."""
    rec = _spans(router, ["my charger exploded and burned my hand"])[0]
    assert rec.intent == "crisis"
    towards = " ".join(e.text for e in rec.evidence["intent"] if e.weight > 0)
    assert "exploded" in towards or "burned" in towards, rec.evidence["intent"]


def test_evidence_has_a_sign_strongest_first(router: Router) -> None:
    """Check that spans are ordered by weight and that words can count against an answer."""
    recs = _spans(router, [*TEXTS, "love the new phone but the app broke, so annoyed"])
    signs = set()
    for rec in recs:
        for spans in rec.evidence.values():
            weights = [e.weight for e in spans]
            assert weights == sorted(weights, reverse=True)
            signs |= {w > 0 for w in weights}
    assert signs == {True, False}


def test_evidence_is_the_same_alone_and_in_a_batch(router: Router) -> None:
    batch = _spans(router, TEXTS)
    alone = [_spans(router, [t])[0] for t in TEXTS]
    for b, a in zip(batch, alone, strict=True):
        assert b.evidence.keys() == a.evidence.keys()
        for head in b.evidence:
            assert [(e.text, e.start) for e in b.evidence[head]] == [
                (e.text, e.start) for e in a.evidence[head]
            ]
            assert np.allclose(
                [e.weight for e in b.evidence[head]],
                [e.weight for e in a.evidence[head]],
                atol=1e-3,
            )


def test_semantic_columns_are_left_out(bundle: Bundle) -> None:
    """Check that columns past the text blocks (meta, embeddings) never become evidence."""
    mentions = [Mention(id="1", text="my charger exploded and burned my hand")]
    X = bundle.rows({"text": [m.text for m in mentions]})
    heads = bundle.predict_heads(X)
    plain = evidence(bundle, X, heads, mentions)
    wider = evidence(bundle, X.with_dense(np.ones((1, 4), dtype=np.float32)), heads, mentions)
    assert plain == wider and plain[0]["intent"]


def test_no_explanation_costs_nothing(bundle: Bundle) -> None:
    """Check that a router asked for no explanation (benchmarks, shadow) computes none."""
    quiet = Router(bundle, load_policy(Settings().policy_file), explain=0)
    rec = quiet.recommend([Mention(id="1", text="my charger exploded and burned my hand")])[0]
    assert rec.evidence == {}
    assert replace(rec, evidence={}) == rec


def test_batch_evidence_equals_explaining_each_mention_alone(router: Router) -> None:
    """The batch arithmetic (one gather, one look-up, one bincount) is the per-mention one."""
    from switchboard.routing import evidence as ev

    mentions = [Mention(id=str(i), text=t) for i, t in enumerate(TEXTS)]
    recs = router.recommend(mentions)
    X = router.vectorise(mentions)
    heads = [r.heads for r in recs]
    each = [
        ev._one(router.bundle, X.row(i), m.text, ev._chosen(router.bundle, h), ev.SPANS)
        for i, (m, h) in enumerate(zip(mentions, heads, strict=True))
    ]
    assert evidence(router.bundle, X, heads, mentions) == each
    assert any(spans for e in each for spans in e.values())
