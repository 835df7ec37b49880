"""The routing simulation compares strategies fairly: same stream, same luck, bounded team."""

from __future__ import annotations

import pytest

from bench.routing_sim import STRATEGIES, Simulation, Stream, build_stream, summarise
from switchboard.routing.policy import load_policy
from switchboard.routing.types import Responder
from switchboard.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world() -> tuple[Stream, list[Responder]]:
    return build_stream(n_train=2_000, n_sim=3_000, days=10, seed=2)


def _run(strategy: str, world: tuple[Stream, list[Responder]]) -> dict:
    stream, team = world
    sim = Simulation(strategy, stream, team, load_policy(get_settings().policy_file))
    return summarise(strategy, stream, sim.run(), sim)


def test_baselines_answer_everything_switchboard_leaves_noise_alone(world):
    stream, _ = world
    rows = {name: _run(name, world) for name in STRATEGIES}
    noise = int((~stream.cases["actionable"].astype(bool)).sum())
    assert noise > 0
    for name in ("round_robin", "least_loaded"):
        assert rows[name]["answered"] == len(stream.cases)
        assert rows[name]["answered_should_be_left"] == noise
    assert rows["switchboard"]["answered_should_be_left"] < noise / 4


def test_same_seed_gives_the_same_table(world):
    assert _run("switchboard_overflow", world) == _run("switchboard_overflow", world)


def test_no_agent_ever_holds_more_than_capacity(world):
    for name in STRATEGIES:
        assert _run(name, world)["over_capacity"] is False, name


def test_overflow_answers_the_same_mentions_sooner_on_average(world):
    strict, overflow = _run("switchboard", world), _run("switchboard_overflow", world)
    assert overflow["answered"] == strict["answered"]
    assert overflow["mean_ttfr_min"] <= strict["mean_ttfr_min"]
