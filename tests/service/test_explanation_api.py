"""The score response explains itself in care language, and the review page says the same.

Evidence words and model features cost more than the decision itself, so they are computed
only when the caller asks (`?explain=true`); the summary and rules always come, and the
decision is the same either way."""

from __future__ import annotations

import re

import msgspec
from litestar.testing import TestClient
from markupsafe import escape
from msgspec.structs import replace

from switchboard.service import review
from switchboard.service.schemas import ScoreOut
from switchboard.service.scoring import explained
from tests.service.conftest import REVIEW_KEY

TEXT = "where is my order #A123456 for the phone? so annoyed"
CRISIS = "my child was injured by your phone & I'm calling my lawyer"  # queued for review
# Mentions of every kind (order, crisis, outage, spam, praise, question), with and without an
# author and a channel, for the decisions-with-and-without-explain checks.
MIXED = [
    {"text": TEXT, "channel": "twitter", "author": {"id": "a1", "followers": 120}},
    {"text": CRISIS},
    {"text": "total outage here in Leeds, is there an ETA?!!!", "channel": "facebook"},
    {"text": "win a free phone www.win.example now", "author": {"id": "a2", "verified": True}},
    {"text": "love the new app! thank you", "channel": "instagram"},
    {"text": "how do I change the email on my account?"},
    {"text": "my phone broke again, so annoyed", "author": {"id": "a3", "followers": 90000}},
    {"text": "hmm ok"},
]
DECISION = ("intent", "sentiment", "reply", "tier", "priority", "sla_seconds", "responders")


def _sign_in(client: TestClient) -> None:
    client.headers.pop("Authorization")
    token = re.search(r'name="_csrf" value="([^"]+)"', client.get("/review/login").text)
    r = client.post(
        "/review/login", data={"key": REVIEW_KEY, "_csrf": token.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def _as(m: dict, mention_id: str) -> dict:
    """The mention under a new id, its author too: author history (a spammer's third spam)
    would otherwise change the decision between the calls compared."""
    author = {**m["author"], "id": f"{m['author']['id']}-{mention_id}"} if "author" in m else None
    return {**m, "id": mention_id} | ({"author": author} if author else {})


def _decision(r: dict) -> tuple:
    """What the SMMS acts on, and the why it shows: everything but evidence and features."""
    ex = r["explanation"]
    return (*(r[k] for k in DECISION), r["abstain"], ex["summary"], ex["rules"])


def test_score_response_has_summary_and_evidence_spans(client: TestClient) -> None:
    r = client.post("/v1/score?explain=true", json={"id": "m1", "text": TEXT})
    assert r.status_code == 200, r.text
    ex = r.json()["explanation"]
    assert ex["summary"] and all(isinstance(s, str) and s.endswith(".") for s in ex["summary"])
    assert "private messages" in ex["summary"][0]
    assert ex["evidence"]["intent"], ex["evidence"]
    for spans in ex["evidence"].values():
        for e in spans:
            assert TEXT[e["start"] : e["end"]] == e["text"] and e["weight"] != 0
    codes = [rule["code"] for rule in ex["rules"]]
    assert len(codes) == len(set(codes))  # one rule per code
    assert ex["features"]["intent"]  # the raw features stay, for data scientists


def test_without_explain_the_answer_has_summary_and_rules_but_no_evidence_or_features(
    client: TestClient,
) -> None:
    """Check the default answer skips the costly parts and keeps the why the SMMS shows."""
    for query in ("", "?explain=false", "?explain=0"):
        r = client.post(f"/v1/score{query}", json={"id": f"plain{query}", "text": TEXT})
        assert r.status_code == 200, r.text
        ex = r.json()["explanation"]
        assert ex["evidence"] == {} and ex["features"] == {}, query
        assert "private messages" in ex["summary"][0] and ex["rules"], query


def test_decisions_are_the_same_with_and_without_explain(client: TestClient) -> None:
    """Check reply, tier, priority, SLA, responders, summary and rules do not depend on
    `explain`, one at a time and in a batch."""
    for i, m in enumerate(MIXED):
        plain = client.post("/v1/score", json=_as(m, f"p{i}")).json()
        asked = client.post("/v1/score?explain=1", json=_as(m, f"e{i}")).json()
        assert _decision(plain) == _decision(asked), m["text"]
        assert asked["explanation"]["evidence"] and asked["explanation"]["features"]
    batches = {
        flag: client.post(
            f"/v1/score/batch?explain={flag}",
            json={"mentions": [_as(m, f"b{flag}{i}") for i, m in enumerate(MIXED)]},
        ).json()["results"]
        for flag in ("false", "true")
    }
    assert [_decision(r) for r in batches["false"]] == [_decision(r) for r in batches["true"]]
    assert all(r["explanation"]["evidence"] == {} for r in batches["false"])
    assert all(r["explanation"]["features"] for r in batches["true"])
    assert batches["true"][0]["explanation"]["evidence"]["intent"]


def test_a_bad_explain_value_is_a_400_naming_it(client: TestClient) -> None:
    """Check `?explain=maybe` is refused in the error shape, naming the parameter, and that
    nothing is scored."""
    for path, body in (
        ("/v1/score", {"id": "bad", "text": TEXT}),
        ("/v1/score/batch", {"mentions": [{"id": "bad", "text": TEXT}]}),
    ):
        for value in ("maybe", "yes", ""):
            r = client.post(f"{path}?explain={value}", json=body)
            assert r.status_code == 400, (path, value, r.text)
            assert r.json()["error"] == "invalid_input" and r.json()["field"] == "explain"
    # Not scored: the id is still free for another text.
    assert client.post("/v1/score", json={"id": "bad", "text": "other text"}).status_code == 200


def test_the_log_stores_what_was_answered(client: TestClient) -> None:
    """Check the prediction log keeps each answer as given (evidence only if asked for), and a
    replay answers as the first time."""
    client.post("/v1/score", json={"id": "plain", "text": CRISIS})
    client.post("/v1/score?explain=true", json={"id": "asked", "text": CRISIS})
    state = client.app.state
    state.log.flush()
    stored = {
        mention_id: msgspec.convert(out, ScoreOut) if isinstance(out, dict) else out
        for mention_id, (_, out) in state.log.lookup(["plain", "asked"]).items()
    }
    assert stored["plain"].explanation.evidence == {} == stored["plain"].explanation.features
    assert stored["asked"].explanation.evidence and stored["asked"].explanation.features
    again = client.post("/v1/score?explain=true", json={"id": "plain", "text": CRISIS}).json()
    assert again["replayed"] and again["explanation"]["evidence"] == {}


def test_review_page_shows_the_same_sentences_and_highlights_the_evidence(
    client: TestClient,
) -> None:
    """Check that the page renders the stored answer's summary and marks its evidence words,
    for an answer scored with `?explain=true`."""
    ex = client.post("/v1/score?explain=true", json={"id": "m1", "text": CRISIS}).json()
    _page_marks_the_evidence(client, ex["explanation"])


def test_review_page_highlights_evidence_of_a_mention_scored_without_explain(
    client: TestClient,
) -> None:
    """Check the page computes the evidence of an answer stored without it (the default), and
    that it is the evidence `?explain=true` gives; the stored answer stays as answered."""
    plain = client.post("/v1/score", json={"id": "m1", "text": CRISIS}).json()
    assert plain["explanation"]["evidence"] == {}
    asked = client.post("/v1/score?explain=true", json={"id": "m2", "text": CRISIS}).json()
    pid = next(
        i["prediction_id"]
        for i in client.get("/v1/review/queue").json()["items"]
        if i["mention_id"] == "m1"
    )
    _page_marks_the_evidence(client, asked["explanation"], f"/review?item={pid}")
    _sign_out_check_stored(client, pid)


def _page_marks_the_evidence(client: TestClient, ex: dict, url: str = "/review") -> None:
    assert "crisis team" in ex["summary"][0]
    _sign_in(client)
    page = client.get(url)
    assert page.status_code == 200, page.text
    for s in ex["summary"]:
        assert str(escape(s)) in page.text
    marked = re.search(r'id="evidence-text">(.*?)</div>', page.text, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", marked) == str(escape(CRISIS))  # the text, whole, in order
    towards = [e["text"] for spans in ex["evidence"].values() for e in spans if e["weight"] > 0]
    assert towards and all(f">{escape(t)}</mark>" in marked for t in towards), marked


def _sign_out_check_stored(client: TestClient, pid: int) -> None:
    """The review API still hands back the answer as stored: no evidence."""
    client.headers["Authorization"] = f"Bearer {REVIEW_KEY}"
    item = client.get(f"/v1/review/{pid}").json()
    assert item["prediction"]["explanation"]["evidence"] == {}


def test_openapi_documents_features_as_raw_and_the_new_fields(client: TestClient) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    explanation = next(v for k, v in schemas.items() if k.endswith("Explanation"))
    props = explanation["properties"]
    assert "data scientists" in props["features"]["description"]
    assert {"summary", "evidence", "rules", "features"} <= set(props)


def test_openapi_documents_the_explain_parameter(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("/v1/score", "/v1/score/batch"):
        param = next(p for p in paths[path]["post"]["parameters"] if p["name"] == "explain")
        assert param["in"] == "query" and param["schema"]["type"] == "boolean"
        assert param["schema"]["default"] is False and not param["required"]
        assert "explanation.evidence" in param["description"]


def test_the_page_explains_only_answers_of_the_loaded_model(client: TestClient) -> None:
    """Check an answer stored by another model or policy version is not given the loaded
    model's evidence (it would not explain that answer), and one of the loaded model is."""
    client.post("/v1/score", json={"id": "old", "text": CRISIS})
    state = client.app.state
    state.log.flush()
    pid = next(
        i["prediction_id"]
        for i in client.get("/v1/review/queue").json()["items"]
        if i["mention_id"] == "old"
    )
    item = review.get_item(state.engine, pid)
    assert explained(state.router, item).prediction.explanation.evidence  # same model: computed
    for field in ("model_version", "policy_version"):
        other = replace(item, prediction=replace(item.prediction, **{field: "someone-else"}))
        assert explained(state.router, other) is other, field
