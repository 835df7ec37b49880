"""A calibrated linear head: the part of a classifier that serving actually needs.

Training fits scikit-learn's `LogisticRegression` and a temperature on validation data; what is
kept is only the weights, the classes and the temperature. Scoring is then one sparse-dense
product and a softmax, with no estimator input validation on the hot path, and the weights
give the per-feature contributions that explain a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


@dataclass(slots=True)
class LinearHead:
    """Weights `coef` (n_classes x n_features, dense) over one featuriser's output."""

    name: str
    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0
    # Minimum top-class probability under which the head abstains (chosen on validation data).
    abstain_below: float = 0.0

    @classmethod
    def from_estimator(cls, name: str, estimator: object, temperature: float = 1.0) -> LinearHead:
        """Take the weights of a fitted binary or multinomial linear classifier."""
        coef = np.asarray(estimator.coef_, dtype=np.float32)  # type: ignore[attr-defined]
        intercept = np.asarray(estimator.intercept_, dtype=np.float32)  # type: ignore[attr-defined]
        classes = [str(c) for c in estimator.classes_]  # type: ignore[attr-defined]
        if coef.shape[0] == 1:  # binary: logit of classes[1]; make it a 2-class softmax
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros(1, dtype=np.float32), intercept])
        return cls(name, classes, coef, intercept, temperature)

    def logits(self, X: sp.spmatrix | np.ndarray) -> np.ndarray:
        # Extra columns (embeddings appended for other heads) are not this head's inputs.
        if X.shape[1] > self.coef.shape[1]:
            X = X[:, : self.coef.shape[1]]
        return np.asarray(X @ self.coef.T) + self.intercept

    def predict_proba(self, X: sp.spmatrix | np.ndarray) -> np.ndarray:
        return softmax(self.logits(X) / self.temperature, axis=1)

    def predict(self, X: sp.spmatrix | np.ndarray) -> list[str]:
        idx = self.logits(X).argmax(axis=1)
        return [self.classes[i] for i in idx]

    def contributions(
        self, x: sp.csr_matrix, class_index: int, top: int
    ) -> list[tuple[int, float]]:
        """Feature indices that pushed one row hardest towards a class, strongest first."""
        row = sp.csr_matrix(x[:, : self.coef.shape[1]])
        idx = row.indices
        vals = row.data * self.coef[class_index, idx]
        order = np.argsort(-vals)[:top]
        return [(int(idx[i]), float(vals[i])) for i in order if vals[i] > 0]


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """Temperature minimising validation log-loss (Guo et al. 2017); keeps the argmax."""
    if len(y_index) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        lp = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-lp[np.arange(len(y_index)), y_index].mean())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))
