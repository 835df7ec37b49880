"""Routing outcomes: a discrete-event simulation of a care team on one arrival stream.

Three strategies see the same mentions, the same team and the same luck (common random
numbers drawn per mention up front):
- round_robin: every mention is answered; the next agent in a fixed cycle who is on shift and
  below capacity takes it (Chatwoot's and Zammad's default);
- least_loaded: every mention is answered; the on-shift agent with the lowest load takes it;
- switchboard: `Router.recommend` on each arrival, exactly as the service calls it, with the
  team's live presence and load; "none" is left alone, the rest goes to the top ranked
  responder allowed at the decided tier, or waits by priority;
- switchboard_overflow: the same, but once a mention has waited half its SLA with nobody at its
  tier free, the queue hands it to the least-loaded on-shift agent (the widening that
  "bullseye" queues do; it is the SMMS queue's rule, not the service's).

The world (`WORLD`) is an assumption, stated here and printed with the table: success depends on
skill match and language like the synthetic generator's history (switchboard.data.synth); handling
time grows with the true tier; a crisis that reaches a non-crisis agent is escalated after that
agent has read it (`HANDOFF_S`). Arrivals are synthetic (time-of-day curve, bursts, the weekend
crisis spike); the model never saw this stream (trained on another seed).
"""

from __future__ import annotations

import heapq
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bench.common import table, write_result
from switchboard.data.synth import SyntheticData, generate, spike_day
from switchboard.ml.bundle import Bundle
from switchboard.routing.policy import Policy, load_policy
from switchboard.routing.ranking import in_shift
from switchboard.routing.router import Recommendation, Router
from switchboard.routing.types import AuthorHistory, Context, Mention, Responder
from switchboard.settings import get_settings
from switchboard.training.fit import fit_bundle

WORLD = {
    "p_success_base": 0.28,
    "p_success_skill": 0.42,
    "p_success_language": 0.18,
    "p_success_crisis": -0.08,
    "handle_mean_s": {1: 600, 2: 900, 3: 1800, 4: 3600, 5: 3600},
    "handoff_s": 900,  # a non-crisis agent reads a crisis, then hands it to the crisis team
    "retry_s": 300,  # waiting mentions are offered again every 5 minutes
    "overflow_at_sla_share": 0.5,  # switchboard_overflow widens to anyone at half the SLA
    "patience_s": 72 * 3600,  # a mention nobody took within 3 days is lost (counted as missed)
}
HANDOFF_S = WORLD["handoff_s"]
STRATEGIES = ("round_robin", "least_loaded", "switchboard", "switchboard_overflow")


@dataclass(slots=True)
class Agent:
    profile: Responder
    open: int = 0
    busy_s: float = 0.0


@dataclass(slots=True)
class Outcome:
    answered: bool = False
    first_response_s: float | None = None
    resolved: bool = False
    escalated_s: float | None = None  # seconds from arrival to reaching the crisis team


@dataclass(slots=True)
class Stream:
    """The arrival stream with everything drawn up front (same for every strategy)."""

    cases: pd.DataFrame
    t: np.ndarray  # seconds since the first arrival
    start: datetime
    bundle: Bundle  # trained on another seed's history
    luck: np.ndarray  # uniform draw per mention for success
    speed: np.ndarray  # lognormal factor per mention for response delay
    effort: np.ndarray  # lognormal factor per mention for handling time
    mentions: list[Mention] = field(default_factory=list)


def build_stream(n_train: int, n_sim: int, days: int, seed: int) -> tuple[Stream, list[Responder]]:
    """Train on one synthetic history, simulate on a fresh window around the crisis spike."""
    trained = fit_bundle(generate(n_train, seed=seed - 1).cases, evaluate=False).bundle
    data: SyntheticData = generate(n_sim, seed=seed)
    cases = data.cases.sort_values("created_at").reset_index(drop=True)
    first = cases["created_at"].min().to_pydatetime()
    spike = first + timedelta(days=spike_day(first))
    lo, hi = spike - timedelta(days=days - 3), spike + timedelta(days=3)
    cases = cases[(cases["created_at"] >= lo) & (cases["created_at"] < hi)].reset_index(drop=True)
    team = [Responder(**{**r, **_tuples(r)}) for r in data.roster]
    rng = np.random.default_rng(seed)
    start = cases["created_at"].iloc[0].to_pydatetime()
    stream = Stream(
        cases=cases,
        t=(cases["created_at"] - cases["created_at"].iloc[0]).dt.total_seconds().to_numpy(),
        start=start,
        bundle=trained,
        luck=rng.random(len(cases)),
        speed=rng.lognormal(0.0, 0.6, len(cases)),
        effort=rng.lognormal(0.0, 0.5, len(cases)),
    )
    stream.mentions = [_mention(i, r) for i, r in enumerate(cases.itertuples())]
    return stream, team


def _tuples(r: dict[str, Any]) -> dict[str, tuple]:
    return {k: tuple(r[k]) for k in ("skills", "languages", "tiers")}


def _mention(i: int, r: Any) -> Mention:
    return Mention(
        id=str(i),
        text=r.text,
        channel=r.channel,
        brand=r.brand,
        created_at=r.created_at.to_pydatetime(),
        language=r.language,
        author_id=r.author_id,
        author_followers=int(r.author_followers),
        author_verified=bool(r.author_verified),
    )


class Simulation:
    """One strategy on the stream: arrivals, assignments, completions, retries."""

    def __init__(self, strategy: str, stream: Stream, team: list[Responder], policy: Policy):
        self.strategy, self.s, self.policy = strategy, stream, policy
        self.agents = [Agent(r) for r in team]
        self.outcomes = [Outcome() for _ in range(len(stream.cases))]
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = itertools.count()
        self.waiting: list[tuple[float, int, int]] = []  # (-priority or 0, arrival order, i)
        self.router = Router(stream.bundle, policy)
        self.decisions: dict[int, Recommendation] = {}
        self.rr = 0
        self.authors: dict[str, AuthorHistory] = {}
        self.brand_times: dict[str, deque[float]] = {}
        self.over_capacity = False
        self.retry_pending = False

    def run(self) -> list[Outcome]:
        for i, t in enumerate(self.s.t):
            self._push(float(t), "arrive", i)
        while self.events:
            t, _, kind, i = heapq.heappop(self.events)
            if kind == "arrive":
                self._arrive(t, i)
            elif kind == "free":
                self.agents[i].open -= 1
                self._drain(t)
            else:  # retry
                self.retry_pending = False
                self._drain(t)
        return self.outcomes

    def _push(self, t: float, kind: str, i: int) -> None:
        heapq.heappush(self.events, (t, next(self.seq), kind, i))

    def _now(self, t: float) -> datetime:
        return self.s.start + timedelta(seconds=t)

    def _roster(self, t: float) -> list[Responder]:
        now = self._now(t)
        return [
            replace(a.profile, online=in_shift(a.profile, now), open_cases=a.open)
            for a in self.agents
        ]

    def _arrive(self, t: float, i: int) -> None:
        if self.strategy.startswith("switchboard"):
            rec = self.router.recommend(
                [self.s.mentions[i]], [self._context(t, i)], self._roster(t)
            )[0]
            self._remember(t, i, rec)
            if rec.decision.reply_action == "none":
                return
            self.decisions[i] = rec
            if rec.decision.tier == 5:
                self.outcomes[i].escalated_s = 0.0  # the crisis team is paged at once
        heapq.heappush(self.waiting, (-self._priority(i), i, i))
        self._drain(t)

    def _priority(self, i: int) -> int:
        rec = self.decisions.get(i)
        return rec.decision.priority if rec is not None else 0

    def _drain(self, t: float) -> None:
        """Offer waiting mentions, most urgent first, to whoever can take them now."""
        now = self._now(t)
        on_shift = [k for k, a in enumerate(self.agents) if in_shift(a.profile, now)]
        roster = self._roster(t) if self.strategy.startswith("switchboard") else []
        kept = []
        while self.waiting:
            free = [k for k in on_shift if self.agents[k].open < self.agents[k].profile.capacity]
            if not free:
                break
            item = heapq.heappop(self.waiting)
            if t - self.s.t[item[2]] > WORLD["patience_s"]:
                continue  # lost: stays unanswered
            agent = self._pick(t, item[2], free, roster)
            if agent is None:
                kept.append(item)
                continue
            self._assign(t, item[2], agent)
            if roster:
                roster[agent] = replace(roster[agent], open_cases=self.agents[agent].open)
        for item in kept:
            heapq.heappush(self.waiting, item)
        if self.waiting and not self.retry_pending:  # shifts change: look again later
            self.retry_pending = True
            self._push(t + WORLD["retry_s"], "retry", -1)

    def _pick(self, t: float, i: int, free: list[int], roster: list[Responder]) -> int | None:
        if self.strategy == "round_robin":
            n = len(self.agents)
            k = min(free, key=lambda k: (k - self.rr) % n)
            self.rr = (k + 1) % n
            return k
        if self.strategy == "least_loaded":
            return self._least_loaded(free)
        rec = self.decisions[i]
        d = rec.decision
        if not any(d.tier in self.agents[k].profile.tiers for k in free):  # no need to rank
            sla = d.sla_seconds or WORLD["patience_s"]
            overdue = t - self.s.t[i] >= sla * WORLD["overflow_at_sla_share"]
            return self._least_loaded(free) if overdue and "overflow" in self.strategy else None
        ranked, _ = self.router.rerank(rec, roster, self._context(t, i))
        if not ranked:  # e.g. nobody free speaks the language: the tier's least-loaded takes it
            return self._least_loaded([k for k in free if d.tier in self.agents[k].profile.tiers])
        return next(k for k, a in enumerate(self.agents) if a.profile.id == ranked[0].id)

    def _least_loaded(self, free: list[int]) -> int:
        return min(free, key=lambda k: (self.agents[k].open / self.agents[k].profile.capacity, k))

    def _assign(self, t: float, i: int, k: int) -> None:
        agent, case, out = self.agents[k], self.s.cases.iloc[i], self.outcomes[i]
        r = agent.profile
        delay = (r.median_response_s or 600.0) * float(self.s.speed[i])
        handle = WORLD["handle_mean_s"][int(case["tier"])] * float(self.s.effort[i])
        out.answered = True
        out.first_response_s = t - float(self.s.t[i]) + delay
        skill = case["intent"] in r.skills
        fluent = case["language"] in r.languages
        p = WORLD["p_success_base"] + WORLD["p_success_skill"] * skill
        p += WORLD["p_success_language"] * fluent + WORLD["p_success_crisis"] * (case["tier"] == 5)
        out.resolved = bool(case["actionable"]) and self.s.luck[i] < p
        if case["tier"] == 5 and out.escalated_s is None:
            out.escalated_s = out.first_response_s + HANDOFF_S
        agent.open += 1
        agent.busy_s += delay + handle
        self.over_capacity = self.over_capacity or agent.open > r.capacity
        self._push(t + delay + handle, "free", k)

    def _context(self, t: float, i: int) -> Context:
        brand = self.s.mentions[i].brand or ""
        times = self.brand_times.setdefault(brand, deque())
        day = [x for x in times if x > t - 86_400]
        recent = sum(1 for x in day if x > t - 900)
        ratio = recent / (len(day) / 96) if len(day) >= 20 else 1.0
        author = self.authors.get(self.s.mentions[i].author_id or "", AuthorHistory())
        return Context(now=self._now(t), author=author, volume_ratio=ratio)

    def _remember(self, t: float, i: int, rec: Recommendation) -> None:
        """What the service's prediction log would hold: brand volume and author history."""
        times = self.brand_times.setdefault(self.s.mentions[i].brand or "", deque())
        times.append(t)
        while times and times[0] < t - 86_400:
            times.popleft()
        key = self.s.mentions[i].author_id or ""
        h, heads = self.authors.get(key, AuthorHistory()), rec.heads
        self.authors[key] = AuthorHistory(
            h.recent_mentions + 1,
            h.recent_negative + (heads["sentiment"].label == "negative"),
            h.recent_abusive + (heads["intent"].label in ("spam", "troll")),
            h.recent_replied + (rec.decision.reply_action != "none"),
        )


def summarise(name: str, stream: Stream, outcomes: Sequence[Outcome], sim: Simulation) -> dict:
    cases = stream.cases
    actionable = cases["actionable"].astype(bool).to_numpy()
    tier = cases["tier"].astype(int).to_numpy()
    answered = np.array([o.answered for o in outcomes])
    ttfr = np.array([o.first_response_s if o.answered else np.nan for o in outcomes])
    sla_s = {int(k): v for k, v in sim.policy.config["sla_seconds"].items()}
    owed = actionable & (tier >= 2)
    sla = np.array([sla_s.get(int(x), np.inf) for x in tier])
    breached = owed & (~answered | (ttfr > sla))
    crisis = tier == 5
    esc = np.array([o.escalated_s if o.escalated_s is not None else np.nan for o in outcomes])
    answered_ttfr = ttfr[answered & actionable] / 60
    crisis_esc = esc[crisis] / 60
    return {
        "strategy": name,
        "answered": int(answered.sum()),
        "mean_ttfr_min": _r(np.nanmean(answered_ttfr)),
        "p90_ttfr_min": _r(np.nanpercentile(answered_ttfr, 90)),
        "sla_breaches": int(breached.sum()),
        "sla_breach_share": _r(breached.sum() / max(owed.sum(), 1)),
        "resolved_share": _r(np.array([o.resolved for o in outcomes])[actionable].mean()),
        "answered_should_be_left": int((answered & ~actionable).sum()),
        "missed_actionable": int((~answered & actionable).sum()),
        "crisis_escalation_mean_min": _r(np.nanmean(crisis_esc)) if crisis.any() else None,
        "crisis_escalation_p90_min": _r(np.nanpercentile(crisis_esc, 90)) if crisis.any() else None,
        "crisis_never_escalated": int(np.isnan(crisis_esc).sum()),
        "agent_hours": _r(sum(a.busy_s for a in sim.agents) / 3600),
        "over_capacity": sim.over_capacity,
    }


def _r(x: float) -> float:
    return round(float(x), 3)


def run(n_train: int = 20_000, n_sim: int = 40_000, days: int = 10, seed: int = 2) -> dict:
    t0 = time.perf_counter()
    stream, team = build_stream(n_train, n_sim, days, seed)
    policy = load_policy(get_settings().policy_file)
    rows = []
    for name in STRATEGIES:
        sim = Simulation(name, stream, team, policy)
        rows.append(summarise(name, stream, sim.run(), sim))
    payload = {
        "mentions": len(stream.cases),
        "days": days,
        "team": len(team),
        "crisis_mentions": int((stream.cases["tier"] == 5).sum()),
        "not_actionable": int((~stream.cases["actionable"].astype(bool)).sum()),
        "world": WORLD,
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    write_result("routing_sim", payload)
    _print(payload)
    return payload


COLUMNS: tuple[tuple[str, str], ...] = (
    ("strategy", "strategy"),
    ("answered", "answered"),
    ("mean_ttfr_min", "mean TTFR min"),
    ("p90_ttfr_min", "p90 TTFR min"),
    ("sla_breaches", "SLA breaches"),
    ("resolved_share", "resolved"),
    ("answered_should_be_left", "answered, should be left"),
    ("missed_actionable", "missed actionable"),
    ("crisis_escalation_mean_min", "crisis esc. mean min"),
    ("crisis_escalation_p90_min", "crisis esc. p90 min"),
    ("agent_hours", "agent hours"),
)


def _print(p: dict[str, Any], out: Callable[[str], None] = print) -> None:
    out(
        f"\nRouting simulation: {p['mentions']:,} synthetic mentions over {p['days']} days "
        f"(incl. the weekend crisis spike), {p['team']} responders with shifts, capacities and "
        f"skills; {p['crisis_mentions']} crisis mentions, {p['not_actionable']:,} that deserve no "
        "reply. Same stream, same seed."
    )
    out(table([c[1] for c in COLUMNS], [[r[c[0]] for c in COLUMNS] for r in p["rows"]]))
    out(
        "TTFR = time to first response of answered actionable mentions; SLA per true tier from "
        "the policy (unanswered actionable mentions count as breaches); resolved = share "
        "of actionable mentions. World assumptions: bench/routing_sim.py WORLD."
    )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    run(n_train=5_000, n_sim=10_000, days=10) if quick else run()
