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
        """P(candidate takes this mention), shrunk towards their share of past cases."""
        n = X.shape[0]
        total = max(sum(self.counts.values()), 1)
        k = max(len(self.counts), 1)
        prior = np.array([self.counts.get(c, total / k) / total for c in candidates])
        out = np.tile(prior, (n, 1))
        if self.affinity is None:
            return out
        proba = self.affinity.predict_proba(X)
        col = {c: i for i, c in enumerate(self.affinity.classes)}
        for j, cand in enumerate(candidates):
            if cand in col:
                w = self.counts[cand] / (self.counts[cand] + self.strength)
                out[:, j] = w * proba[:, col[cand]] + (1.0 - w) * prior[j]
        return out

    def _quality(
        self, candidates: list[str], intent_proba: list[dict[str, float]] | None
    ) -> np.ndarray:
        """Expected success of each candidate under each row's intent distribution."""
        base = np.array([self.quality.get(c, self.team_quality) for c in candidates])
        if not intent_proba:
            return base[None, :]
        intents = list(intent_proba[0])
        P = np.array([[ip.get(i, 0.0) for i in intents] for ip in intent_proba])
        Q = np.array(
            [
                [self.quality_by_intent.get(c, {}).get(i, b) for i in intents]
                for c, b in zip(candidates, base, strict=True)
            ]
        )
        # Probability mass on intents the head does not know keeps the candidate's base rate.
        rest = np.clip(1.0 - P.sum(axis=1, keepdims=True), 0.0, 1.0)
        return P @ Q.T + rest * base[None, :]

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
        return aff * self._quality(candidates, intent_proba)
