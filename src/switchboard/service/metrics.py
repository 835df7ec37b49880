"""Prometheus metrics, in a registry that belongs to one app (no module-level globals).

One process: the metrics live in memory, with the process's CPU, memory and file descriptors
(`process_*`) and the Python version (`python_info`). Several uvicorn workers
(`SWITCHBOARD_METRICS_DIR`, set up by `switchboard serve`): prometheus_client's multiprocess
mode, where each worker writes its values to files in that directory and `/metrics`, whichever
worker answers, adds up every worker's files. Counters and histograms are summed; each gauge
says how (`multiprocess_mode`). `process_*` are left out there: prometheus_client cannot add
them up, and one worker's figures under a name that the next scrape gives another worker's
would make nonsense of rates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
    values,
)

from switchboard.service.schemas import ScoreOut

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_SIZES = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


def check_multiprocess(directory: str) -> None:
    """prometheus_client picks its multiprocess mode from the environment when it is first
    imported, so the variable must name this directory before that: say so if it does not."""
    if not getattr(values.ValueClass, "_multiprocess", False) or os.environ.get(
        MULTIPROC_ENV
    ) != str(directory):
        raise RuntimeError(
            f"SWITCHBOARD_METRICS_DIR={directory} needs {MULTIPROC_ENV}={directory} in the "
            "environment before the service starts (`switchboard serve` sets it)"
        )
    if not os.path.isdir(directory):
        raise RuntimeError(f"SWITCHBOARD_METRICS_DIR={directory} is not a directory")


class Metrics:
    def __init__(self, multiprocess_dir: str = "") -> None:
        """`multiprocess_dir`: empty for one process (in memory), else the shared directory."""
        self.directory = multiprocess_dir
        if multiprocess_dir:
            check_multiprocess(multiprocess_dir)
        self.registry = CollectorRegistry()
        if not multiprocess_dir:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.http_requests = Counter(
            "switchboard_http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "switchboard_http_request_seconds",
            "Time from request to the end of the response, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=HTTP_BUCKETS,
        )
        self.scored = Counter(
            "switchboard_mentions_scored",
            "Mentions scored (replays of a stored answer not counted)",
            ["intent", "reply_action", "tier"],
            registry=self.registry,
        )
        self.abstained = Counter(
            "switchboard_mentions_abstained", "Mentions flagged for a human", registry=self.registry
        )
        self.latency = Histogram(
            "switchboard_score_seconds",
            "Time to score one mention on POST /v1/score (batches: switchboard_batch_seconds)",
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
        )
        self.batch_latency = Histogram(
            "switchboard_batch_seconds",
            "Time to score one batch on POST /v1/score/batch, once per batch",
            registry=self.registry,
            buckets=BATCH_SECONDS,
        )
        self.batch_size = Histogram(
            "switchboard_batch_size",
            "Mentions per batch on POST /v1/score/batch",
            registry=self.registry,
            buckets=BATCH_SIZES,
        )
        # Gauges set by whichever worker is scraped: with several workers the journal flag
        # is the lowest (any worker that cannot journal shows), the backlog the highest.
        self.log_journal_ok = Gauge(
            "switchboard_prediction_journal_writable",
            "1 while predictions can be journalled (scoring answers 503 otherwise)",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.log_database_ok = Gauge(
            "switchboard_prediction_log_database_ok",
            "1 while the prediction log writer reaches the database",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.log_segments_behind = Gauge(
            "switchboard_prediction_log_segments_behind",
            "Journal segments not yet copied into the database (0 when caught up)",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.log_written = Gauge(
            "switchboard_prediction_log_rows_written",
            "Predictions the service's live processes have copied into the database",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # Shadow mode (service/shadow.py): the challenger beside the champion.
        self.shadow_compared = Counter(
            "switchboard_shadow_comparisons",
            "Mentions the challenger scored in shadow and compared with the champion",
            registry=self.registry,
        )
        self.shadow_head_disagreements = Counter(
            "switchboard_shadow_head_disagreements",
            "Shadow comparisons where the challenger's head gave another label",
            ["head"],
            registry=self.registry,
        )
        self.shadow_decision_disagreements = Counter(
            "switchboard_shadow_decision_disagreements",
            "Shadow comparisons where the challenger decided otherwise (reply_action, tier)",
            ["decision"],
            registry=self.registry,
        )
        self.shadow_dropped = Counter(
            "switchboard_shadow_dropped",
            "Mentions not shadow-scored because the shadow queue was full",
            registry=self.registry,
        )
        # The crisis webhook (service/webhook.py): what became of each attempt and event.
        self.webhook = Counter(
            "switchboard_crisis_webhook_events",
            "Crisis webhook outcomes: delivered (a 2xx), retried (an attempt failed, another "
            "will come), failed (no attempt left), dropped (the queue was full)",
            ["outcome"],
            registry=self.registry,
        )
        self.model = Gauge(
            "switchboard_model_info",
            "Serving model version",
            ["version"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._version: str | None = None

    def http(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request; `route` is the route's template, never the raw path."""
        labels = (method, route, str(status))
        self.http_requests.labels(*labels).inc()
        self.http_latency.labels(*labels).observe(seconds)

    def observe(self, results: Sequence[ScoreOut]) -> None:
        """Freshly scored mentions, by intent, reply and tier."""
        for r in results:
            intent = r.intent.label if r.intent else "none"
            self.scored.labels(intent, r.reply.action, str(r.tier.level)).inc()
            if r.abstain:
                self.abstained.inc()

    def single(self, seconds: float) -> None:
        """One POST /v1/score: the time for its one mention."""
        self.latency.observe(seconds)

    def batch(self, seconds: float, size: int) -> None:
        """One POST /v1/score/batch: its wall time and size, once (not once per mention)."""
        self.batch_latency.observe(seconds)
        self.batch_size.observe(size)

    def prediction_log(self, status: dict[str, Any]) -> None:
        """The log's health, read when /metrics is scraped."""
        self.log_journal_ok.set(bool(status["journal_writable"]))
        self.log_database_ok.set(not status["database_error"])
        self.log_segments_behind.set(status["segments_behind"])
        self.log_written.set(status["written"])

    def shadow(self, compared: int, heads: Mapping[str, int], decisions: Mapping[str, int]) -> None:
        """One shadow batch: how many were compared, disagreements per head and decision."""
        self.shadow_compared.inc(compared)
        for head, n in heads.items():
            self.shadow_head_disagreements.labels(head).inc(n)
        for decision, n in decisions.items():
            self.shadow_decision_disagreements.labels(decision).inc(n)

    def model_version(self, version: str) -> None:
        """The version now served is 1; a replaced one is dropped (set to 0 in multiprocess
        mode, where prometheus_client cannot remove a series)."""
        if self._version is not None and self._version != version:
            if self.directory:
                self.model.labels(self._version).set(0)
            else:
                self.model.clear()
        self._version = version
        self.model.labels(version).set(1)

    def render(self) -> bytes:
        if not self.directory:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker, path=self.directory)
        PlatformCollector(registry=every_worker)
        return generate_latest(every_worker)

    def close(self) -> None:
        """At shutdown: this worker's live gauges leave the sums (multiprocess mode)."""
        if self.directory:
            multiprocess.mark_process_dead(os.getpid(), self.directory)
