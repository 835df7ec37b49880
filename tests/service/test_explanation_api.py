"""The score response explains itself in care language, and the review page says the same."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from markupsafe import escape

from tests.service.conftest import REVIEW_KEY

TEXT = "where is my order #A123456 for the phone? so annoyed"
CRISIS = "my child was injured by your phone & I'm calling my lawyer"  # queued for review


def _sign_in(client: TestClient) -> None:
    client.headers.pop("Authorization")
    token = re.search(r'name="_csrf" value="([^"]+)"', client.get("/review/login").text)
    r = client.post(
        "/review/login", data={"key": REVIEW_KEY, "_csrf": token.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def test_score_response_has_summary_and_evidence_spans(client: TestClient) -> None:
    r = client.post("/v1/score", json={"id": "m1", "text": TEXT})
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


def test_review_page_shows_the_same_sentences_and_highlights_the_evidence(
    client: TestClient,
) -> None:
    """Check that the page renders the stored answer's summary and marks its evidence words."""
    ex = client.post("/v1/score", json={"id": "m1", "text": CRISIS}).json()["explanation"]
    assert "crisis team" in ex["summary"][0]
    _sign_in(client)
    page = client.get("/review")
    assert page.status_code == 200, page.text
    for s in ex["summary"]:
        assert str(escape(s)) in page.text
    marked = re.search(r'id="evidence-text">(.*?)</div>', page.text, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", marked) == str(escape(CRISIS))  # the text, whole, in order
    towards = [e["text"] for spans in ex["evidence"].values() for e in spans if e["weight"] > 0]
    assert any(f">{escape(t)}</mark>" in marked for t in towards), marked


def test_openapi_documents_features_as_raw_and_the_new_fields(client: TestClient) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    explanation = next(v for k, v in schemas.items() if k.endswith("Explanation"))
    props = explanation["properties"]
    assert "data scientists" in props["features"]["description"]
    assert {"summary", "evidence", "rules", "features"} <= set(props)
