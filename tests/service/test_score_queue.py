"""Concurrent single-mention requests are scored together, each still answered alone
(service/score_queue.py, routes/scoring.py::score_each)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from litestar.testing import TestClient

from switchboard.service.errors import Conflict, LogUnavailable
from switchboard.service.routes.scoring import score_each
from switchboard.service.schemas import MentionIn, ScoreOut
from switchboard.service.score_queue import ScoreQueue

TEXT = "where is my order #A1234567? it never came"


def _mention(mention_id: str, text: str = TEXT) -> MentionIn:
    return MentionIn(id=mention_id, text=text)


def test_requests_queued_together_are_scored_as_one_batch() -> None:
    """Requests that queue in the same turns of the loop form one batch; one that comes alone
    later is scored alone, at once; every request gets its own answer back."""
    batches: list[list[str]] = []

    def score(router: object, mentions: list[MentionIn], explain: bool) -> list:
        batches.append([m.id for m in mentions])
        return [f"answer-{m.id}" for m in mentions]

    queue = ScoreQueue(score, max_batch=64)  # type: ignore[arg-type]

    async def run() -> tuple[list[str], str]:
        together = await asyncio.gather(*(queue.score(None, _mention(str(i))) for i in range(8)))  # type: ignore[arg-type]
        alone = await queue.score(None, _mention("late"))  # type: ignore[arg-type]
        return together, alone

    together, alone = asyncio.run(run())
    assert together == [f"answer-{i}" for i in range(8)] and alone == "answer-late"
    assert batches == [[str(i) for i in range(8)], ["late"]]


def test_explained_requests_are_scored_apart_in_arrival_order() -> None:
    """A batch splits into runs of one explain flag, in arrival order: no request pays for an
    explanation it did not ask for, and each asking request gets one."""
    runs: list[tuple[bool, list[str]]] = []

    def score(router: object, mentions: list[MentionIn], explain: bool) -> list:
        runs.append((explain, [m.id for m in mentions]))
        return [f"{m.id}:{'explained' if explain else 'plain'}" for m in mentions]

    queue = ScoreQueue(score)  # type: ignore[arg-type]
    flags = [False, False, True, True, False]

    async def run() -> list[str]:
        calls = [queue.score(None, _mention(str(i)), f) for i, f in enumerate(flags)]  # type: ignore[arg-type]
        return await asyncio.gather(*calls)

    answers = asyncio.run(run())
    assert answers == ["0:plain", "1:plain", "2:explained", "3:explained", "4:plain"]
    assert runs == [(False, ["0", "1"]), (True, ["2", "3"]), (False, ["4"])]


def test_a_failed_batch_fails_each_of_its_requests() -> None:
    def score(router: object, mentions: list[MentionIn], explain: bool) -> list:
        raise LogUnavailable("predictions cannot be recorded: disk full")

    queue = ScoreQueue(score)  # type: ignore[arg-type]

    async def run() -> list[object]:
        calls = [queue.score(None, _mention(str(i))) for i in range(3)]  # type: ignore[arg-type]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(run())
    assert len(outcomes) == 3 and all(isinstance(o, LogUnavailable) for o in outcomes)


def test_a_clash_in_a_batch_fails_only_its_own_request(client: TestClient) -> None:
    """Same id, same text: a replay; same id, other text: a 409 for that request alone; the
    requests around it are scored as if they had come one by one."""
    state = client.app.state
    mentions = [
        _mention("q-1"),
        _mention("q-1", "another text entirely"),
        _mention("q-2", "love the new app, thank you"),
        _mention("q-1"),
    ]
    first, clash, other, again = score_each(state, state.router, mentions)
    assert isinstance(first, ScoreOut) and not first.replayed
    assert isinstance(clash, Conflict) and clash.field == "$.id"
    assert isinstance(other, ScoreOut) and other.id == "q-2" and not other.replayed
    assert isinstance(again, ScoreOut) and again.replayed
    assert again.tier == first.tier and again.reply == first.reply
    # One row each for q-1 and q-2: the replay and the clash journalled nothing.
    state.log.flush()
    assert state.log.status()["written"] == 2


def _alone_and_at_once(client: TestClient, texts: list[str], query: Callable[[int], str]) -> tuple:
    """Each text scored alone, then all at once from one thread each (`query(i)` is the i-th
    request's query string): the two answers per text."""
    alone = {
        i: client.post("/v1/score", json={"id": f"alone-{i}", "text": t}).json()
        for i, t in enumerate(texts)
    }
    together: dict[int, dict] = {}

    def send(i: int) -> None:
        body = {"id": f"together-{i}", "text": texts[i]}
        together[i] = client.post(f"/v1/score{query(i)}", json=body).json()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return alone, together


def test_concurrent_http_requests_are_answered_as_one_at_a_time(client: TestClient) -> None:
    """Through HTTP, from several threads at once: each mention gets the answer it gets alone."""
    texts = [
        f"{TEXT} (case {i})" if i % 2 else "my phone broke again, so annoyed" for i in range(12)
    ]
    alone, together = _alone_and_at_once(client, texts, lambda i: "")
    for i in range(len(texts)):
        a, b = alone[i], together[i]
        assert (a["reply"], a["tier"], a["priority"]) == (b["reply"], b["tier"], b["priority"])
        assert b["id"] == f"together-{i}"


def test_concurrent_requests_with_and_without_explain_get_the_same_decisions(
    client: TestClient,
) -> None:
    """Through HTTP, from several threads at once, every other request asking for an
    explanation: the asking ones get evidence, the others none, and the decisions are those
    each mention gets alone."""
    texts = [
        f"{TEXT} (case {i})" if i % 3 else "my phone broke again, so annoyed" for i in range(12)
    ]
    alone, together = _alone_and_at_once(client, texts, lambda i: "?explain=true" if i % 2 else "")
    for i in range(len(texts)):
        a, b = alone[i], together[i]
        assert (a["reply"], a["tier"], a["priority"], a["sla_seconds"]) == (
            b["reply"], b["tier"], b["priority"], b["sla_seconds"]
        )  # fmt: skip
        assert a["explanation"]["rules"] == b["explanation"]["rules"]
        assert bool(b["explanation"]["evidence"]) == bool(i % 2), b["explanation"]


@pytest.mark.parametrize("size", [1, 2])
def test_queue_batch_setting_bounds_a_batch(size: int) -> None:
    seen: list[int] = []

    def score(router: object, mentions: list[MentionIn], explain: bool) -> list:
        seen.append(len(mentions))
        return ["ok"] * len(mentions)

    queue = ScoreQueue(score, max_batch=size)  # type: ignore[arg-type]

    async def run() -> list[str]:
        return await asyncio.gather(*(queue.score(None, _mention(str(i))) for i in range(5)))  # type: ignore[arg-type]

    assert asyncio.run(run()) == ["ok"] * 5
    assert max(seen) == size and sum(seen) == 5
