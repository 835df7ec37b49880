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

import numpy as np
import scipy.sparse as sp

from models.heads import LinearHead


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

    @property
    def responders(self) -> list[str]:
        return sorted(self.counts)

    def candidates_for(self, brand: str | None) -> list[str]:
        """Responders known to answer for `brand` (all of them when the brand is unknown)."""
        scoped = [r for r in self.responders if brand is not None and self.brand_of.get(r) == brand]
        return scoped or self.responders

    def _affinity(self, X: sp.spmatrix, candidates: list[str]) -> np.ndarray:
        n = X.shape[0]
        k = max(len(self.counts), 1)
        out = np.full((n, len(candidates)), 1.0 / k)
        if self.affinity is None:
            return out
        proba = self.affinity.predict_proba(X)
        col = {c: i for i, c in enumerate(self.affinity.classes)}
        for j, cand in enumerate(candidates):
            if cand in col:
                w = self.counts[cand] / (self.counts[cand] + self.strength)
                out[:, j] = w * proba[:, col[cand]] + (1.0 - w) / k
        return out

    def _quality(self, cand: str, intent_proba: dict[str, float] | None) -> float:
        base = self.quality.get(cand, self.team_quality)
        table = self.quality_by_intent.get(cand)
        if not intent_proba or not table:
            return base
        return sum(p * table.get(intent, base) for intent, p in intent_proba.items())

    def score(
        self,
        X: sp.spmatrix,
        candidates: list[str],
        intent_proba: list[dict[str, float]] | None = None,
    ) -> np.ndarray:
        """Expertise in [0, 1] of each candidate (columns) for each mention (rows)."""
        if not candidates:
            return np.zeros((X.shape[0], 0))
        aff = self._affinity(X, candidates)
        aff = aff / aff.max(axis=1, keepdims=True)
        rows = []
        for i in range(X.shape[0]):
            ip = intent_proba[i] if intent_proba else None
            rows.append([self._quality(c, ip) for c in candidates])
        return aff * np.asarray(rows)
