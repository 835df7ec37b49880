"""Responder expertise learned from history: who handles this kind of mention well.

Two things are learned from past cases that have a `responder_id`:
- affinity: P(responder | mention) from a linear model over the shared features, i.e. who
  usually takes this kind of mention (brand, topic, language);
- quality: each responder's success rate (resolved and answered fast), per intent when the
  history has intents, shrunk towards the responder's overall rate and that towards the team
  rate, so that three lucky cases do not make an expert.
Expertise for a candidate = normalised affinity x expected quality under the predicted intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from switchboard.ml.features import Rows
from switchboard.ml.heads import LinearHead
from switchboard.ml.pickling import restore_without, state_without


def shrink(successes: float, n: float, prior: float, strength: float) -> float:
    """Beta-binomial posterior mean: `strength` pseudo-cases at the `prior` rate."""
    return (successes + strength * prior) / (n + strength)


@dataclass(slots=True)
class ExpertiseModel:
    """Fitted expertise; see `training/expertise.py` for how it is learned."""

    affinity: LinearHead | None
    counts: dict[str, int]
    quality: dict[str, float]
    quality_by_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    # The brand each responder answered for most: responders are brand-scoped in real data.
    brand_of: dict[str, str] = field(default_factory=dict)
    team_quality: float = 0.5
    strength: float = 10.0
    # Per-roster lookup tables derived from the fields above; rebuilt after loading.
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict[str, object]:
        return state_without(self, "_cache")

    def __setstate__(self, state: dict[str, object] | tuple[None, dict[str, object]]) -> None:
        restore_without(self, state, "_cache", {})

    @property
    def responders(self) -> list[str]:
        return sorted(self.counts)

    def candidates_for(self, brand: str | None) -> list[str]:
        """Responders known to answer for `brand` (all of them when the brand is unknown)."""
        scoped = [r for r in self.responders if brand is not None and self.brand_of.get(r) == brand]
        return scoped or self.responders

    def _affinity(self, X: Rows | sp.spmatrix, candidates: tuple[str, ...]) -> np.ndarray:
        """P(candidate takes this mention), shrunk towards their share of past cases."""
        prior, column, weight = self._affinity_terms(candidates)
        if self.affinity is None:
            return np.tile(prior, (X.shape[0], 1))
        proba = np.column_stack([self.affinity.predict_proba(X), np.zeros(X.shape[0])])
        # column -1 (the zeros) stands for candidates the affinity head never saw; weight 0.
        return weight * proba[:, column] + (1.0 - weight) * prior

    def _affinity_terms(
        self, candidates: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prior share, affinity column and shrinkage weight per candidate (cached per roster)."""
        key = ("affinity", candidates)
        if key not in self._cache:
            total = max(sum(self.counts.values()), 1)
            k = max(len(self.counts), 1)
            classes = {c: i for i, c in enumerate(self.affinity.classes if self.affinity else [])}
            self._cache[key] = (
                np.array([self.counts.get(c, total / k) / total for c in candidates]),
                np.array([classes.get(c, -1) for c in candidates], dtype=np.int64),
                np.array(
                    [
                        self.counts[c] / (self.counts[c] + self.strength) if c in classes else 0.0
                        for c in candidates
                    ]
                ),
            )
        return self._cache[key]

    def _quality_table(self, candidates: tuple[str, ...], intents: tuple[str, ...]) -> np.ndarray:
        """Success rate of each candidate (rows) per intent (columns), base rate last."""
        key = ("quality", candidates, intents)
        if key not in self._cache:
            base = [self.quality.get(c, self.team_quality) for c in candidates]
            self._cache[key] = np.array(
                [
                    [self.quality_by_intent.get(c, {}).get(i, b) for i in intents] + [b]
                    for c, b in zip(candidates, base, strict=True)
                ]
            )
        return self._cache[key]

    def _quality(
        self, candidates: tuple[str, ...], intent_proba: list[dict[str, float]] | None
    ) -> np.ndarray:
        """Expected success of each candidate under each row's intent distribution."""
        if not intent_proba:
            return self._quality_table(candidates, ())[:, -1][None, :]
        intents = tuple(intent_proba[0])
        P = np.array([list(ip.values()) for ip in intent_proba])
        # Probability mass on intents the head does not know keeps the candidate's base rate.
        rest = np.clip(1.0 - P.sum(axis=1, keepdims=True), 0.0, 1.0)
        return np.hstack([P, rest]) @ self._quality_table(candidates, intents).T

    def score(
        self,
        X: sp.spmatrix,
        candidates: list[str],
        intent_proba: list[dict[str, float]] | None = None,
    ) -> np.ndarray:
        """Expertise in [0, 1] of each candidate (columns) for each mention (rows)."""
        if not candidates:
            return np.zeros((X.shape[0], 0))
        aff = self._affinity(X, tuple(candidates))
        aff = aff / aff.max(axis=1, keepdims=True)
        return aff * self._quality(tuple(candidates), intent_proba)
