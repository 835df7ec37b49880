"""The typed client (switchboard.client) against the real app, and its retries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from switchboard.client import Client, Readiness, SwitchboardError
from switchboard.service.db import predictions
from switchboard.service.schemas import MentionIn, ResponderIn, ScoreOut
from tests.conftest import REPO_ROOT
from tests.service.conftest import ADMIN_KEY, SCORE_KEY

ERROR_503 = {"error": "log_unavailable", "detail": "try later", "field": None}


def _sb(tc: TestClient, key: str = SCORE_KEY, **kwargs) -> Client:
    return Client(str(tc.base_url), key, http=tc, **kwargs)


def _forward(tc: TestClient, request: httpx.Request) -> httpx.Response:
    """Hand a request a mock transport received to the real app."""
    headers = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type")}
    r = tc.request(request.method, request.url.path, content=request.content, headers=headers)
    return httpx.Response(r.status_code, content=r.content, headers=r.headers)


def _mocked(tc: TestClient, handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    """A client whose requests go through `handler` (which may forward to the app); its
    waits are recorded in `.waits` instead of slept."""
    sb = Client(
        str(tc.base_url), SCORE_KEY, http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    sb.waits = []  # type: ignore[attr-defined]
    sb._sleep = sb.waits.append  # type: ignore[attr-defined]
    return sb


def test_client_scores_a_mention_typed(client: TestClient) -> None:
    """Check that score() answers the service's ScoreOut Struct, not a dict."""
    with _sb(client) as sb:
        out = sb.score(MentionIn(id="c1", text="my phone broke again, so annoyed"))
        from_dict = sb.score({"id": "c2", "text": "where is my order #A1234567?"})
    assert isinstance(out, ScoreOut) and out.id == "c1" and out.model_version == "v1"
    assert out.intent is not None and out.intent.label == "complaint"
    assert 1 <= out.tier.level <= 5 and out.replayed is False
    assert from_dict.reply.action == "private"


def test_client_batch(client: TestClient) -> None:
    """Check that score_batch() answers one ScoreOut per mention, in request order."""
    with _sb(client) as sb:
        results = sb.score_batch(
            [MentionIn(id="b1", text="love the new app"), {"id": "b2", "text": "seat broken"}]
        )
    assert [r.id for r in results] == ["b1", "b2"]
    assert all(isinstance(r, ScoreOut) for r in results)


def test_client_asks_for_explanations_only_when_told(client: TestClient) -> None:
    """Check that `explain=True` sends `?explain=true` and gets evidence and features back,
    and that the default gets neither."""
    text = "where is my order #A1234567? so annoyed"
    with _sb(client) as sb:
        plain = sb.score({"id": "x1", "text": text})
        asked = sb.score({"id": "x2", "text": text}, explain=True)
        batch = sb.score_batch([{"id": "x3", "text": text}], explain=True)
    assert plain.explanation.evidence == {} and plain.explanation.features == {}
    assert asked.explanation.evidence and asked.explanation.features
    assert batch[0].explanation.evidence and (plain.tier, plain.reply) == (asked.tier, asked.reply)


def test_client_error_names_the_field(client: TestClient) -> None:
    """Check that a 400 becomes a SwitchboardError with the service's error, detail and field."""
    with _sb(client) as sb, pytest.raises(SwitchboardError) as caught:
        sb.score({"id": "e1", "text": ""})
    err = caught.value
    assert err.status == 400 and err.error == "invalid_input" and err.field == "$.text"
    assert err.detail and "$.text" in str(err)


def test_client_wrong_scope_is_forbidden_not_retried(client: TestClient) -> None:
    """Check that a score key cannot edit the roster: 403 raised with its code."""
    with _sb(client) as sb, pytest.raises(SwitchboardError) as caught:
        sb.put_responder("cy", ResponderIn(name="Cy"))
    assert caught.value.status == 403 and caught.value.error == "forbidden"


def test_client_roster_and_ops_are_typed(client: TestClient) -> None:
    """Check the roster, model and probe methods against the real routes."""
    with _sb(client, ADMIN_KEY) as sb:
        put = sb.put_responder("cy", ResponderIn(name="Cy", skills=["complaint"], tiers=[3]))
        online = sb.set_presence("cy", True, open_cases=2)
        ids = [r.id for r in sb.responders()]
        model = sb.model()
        ready = sb.ready()
        assert sb.health() is True
    assert put.name == "Cy" and put.tiers == [3]
    assert online.online is True and online.open_cases == 2
    assert "cy" in ids and model.version == "v1" and model.policy_version
    assert isinstance(ready, Readiness) and ready.ok and ready.model_version == "v1"


def test_client_retries_503_then_succeeds(client: TestClient) -> None:
    """Check that a 503 is retried after an exponential, jittered wait, then the app answers."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) <= 2:
            return httpx.Response(503, json=ERROR_503)
        return _forward(client, request)

    with _mocked(client, handler) as sb:
        out = sb.score({"id": "r1", "text": "seat broken again"})
    assert out.id == "r1" and len(calls) == 3
    # backoff 0.2: the n-th wait is between half and all of 0.2 * 2**n
    first, second = sb.waits  # type: ignore[attr-defined]
    assert 0.1 <= first <= 0.2 and 0.2 <= second <= 0.4


def test_client_honours_retry_after(client: TestClient) -> None:
    """Check that the wait before a retry is what the 429's Retry-After says."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(429, json=ERROR_503, headers={"Retry-After": "7"})
        return _forward(client, request)

    with _mocked(client, handler) as sb:
        out = sb.score({"id": "ra", "text": "where is my order?"})
    assert out.id == "ra" and sb.waits == [7.0]  # type: ignore[attr-defined]


def test_client_gives_up_after_the_retries(client: TestClient) -> None:
    """Check that a service that stays unavailable raises its error after retries + 1 tries."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503, json=ERROR_503)

    with _mocked(client, handler) as sb, pytest.raises(SwitchboardError) as caught:
        sb.score({"id": "x", "text": "hello"})
    assert caught.value.status == 503 and caught.value.error == "log_unavailable"
    assert len(calls) == 4  # retries=3


def test_client_does_not_retry_400(client: TestClient) -> None:
    """Check that a 4xx other than 429 is raised at once: retrying cannot fix the input."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return _forward(client, request)

    with _mocked(client, handler) as sb, pytest.raises(SwitchboardError) as caught:
        sb.score({"id": "bad", "text": "   "})
    assert caught.value.status == 400 and caught.value.field == "$.text"
    assert len(calls) == 1 and sb.waits == []  # type: ignore[attr-defined]


def test_retried_score_is_replayed_not_rescored(client: TestClient) -> None:
    """Check the idempotency that makes a POST retry safe: the first answer is lost after the
    app scored the mention; the retry gets the stored answer, replayed, and one prediction."""
    answers: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        answers.append(_forward(client, request))
        if len(answers) == 1:
            raise httpx.ReadTimeout("answer lost", request=request)
        return answers[-1]

    with _mocked(client, handler) as sb:
        out = sb.score({"id": "same", "text": "my phone broke again, so annoyed"})
    first = answers[0].json()
    assert first["replayed"] is False and out.replayed is True
    assert out.tier.level == first["tier"]["level"] and out.priority == first["priority"]
    client.app.state.log.flush()
    with client.app.state.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(predictions)).scalar_one()
    assert rows == 1


def test_client_imports_nothing_heavy() -> None:
    """Check that `import switchboard.client` loads neither Litestar, SQLAlchemy nor MLflow
    (nor the ML stack): a client process needs only httpx and msgspec in memory."""
    code = (
        "import sys, switchboard.client; "
        "print(sorted(m for m in ('litestar', 'sqlalchemy', 'mlflow', 'sklearn', 'numpy') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "[]"
