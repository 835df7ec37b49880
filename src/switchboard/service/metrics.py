"""Prometheus metrics, in a registry that belongs to one app (no module-level globals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from switchboard.service.schemas import ScoreOut


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.scored = Counter(
            "switchboard_mentions_scored",
            "Mentions scored",
            ["reply_action", "tier"],
            registry=self.registry,
        )
        self.abstained = Counter(
            "switchboard_mentions_abstained", "Mentions flagged for a human", registry=self.registry
        )
        self.latency = Histogram(
            "switchboard_score_seconds",
            "Scoring time per mention",
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
        )
        self.log_journal_ok = Gauge(
            "switchboard_prediction_journal_writable",
            "1 while predictions can be journalled (scoring answers 503 otherwise)",
            registry=self.registry,
        )
        self.log_database_ok = Gauge(
            "switchboard_prediction_log_database_ok",
            "1 while the prediction log writer reaches the database",
            registry=self.registry,
        )
        self.log_segments_behind = Gauge(
            "switchboard_prediction_log_segments_behind",
            "Journal segments not yet copied into the database (0 when caught up)",
            registry=self.registry,
        )
        self.log_written = Gauge(
            "switchboard_prediction_log_rows_written",
            "Predictions this process has copied into the database",
            registry=self.registry,
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
        self.model = Gauge(
            "switchboard_model_info", "Serving model version", ["version"], registry=self.registry
        )

    def observe(self, results: Sequence[ScoreOut], seconds_per_mention: float) -> None:
        for r in results:
            self.scored.labels(r.reply.action, str(r.tier.level)).inc()
            if r.abstain:
                self.abstained.inc()
            self.latency.observe(seconds_per_mention)

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
        self.model.clear()
        self.model.labels(version).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
