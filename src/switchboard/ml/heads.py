"""A calibrated linear head: the part of a classifier that serving actually needs.

Training fits scikit-learn's `LinearSVC` and a temperature on validation data; what is kept is
only the weights, the classes and the temperature. Scoring is then one sparse-dense product and
a softmax, with no estimator input validation on the hot path, and the weights give the
per-feature contributions that explain a prediction.

On `Rows` (the service's path) the product is a gather of the rows' weight columns and a
segmented sum, in numpy, with no scipy object built: for one mention that is a few
microseconds instead of the ~30 us scipy spends checking a new matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from switchboard.ml.features import Rows
from switchboard.ml.pickling import restore_without, state_without

# Up to this many rows, gathering weight columns in numpy beats building a scipy matrix;
# above it, scipy's sparse-dense product wins (bench/serving.py shows both regimes).
GATHER_MAX_ROWS = 8


def product(X: Rows, cols: np.ndarray) -> np.ndarray:
    """`X @ cols` for a (features x outputs) weight matrix; columns past its width count zero.

    A few rows: gather their features' weight rows and sum per row in numpy. More rows:
    scipy's sparse-dense product, which then costs less than its own input checks.
    """
    width = cols.shape[0]
    if X.shape[0] > GATHER_MAX_ROWS:
        csr = X.to_csr()
        return np.asarray(csr[:, :width] @ cols if X.width > width else csr @ cols)
    idx, vals = X.indices, X.data.astype(np.float64)
    if idx.size and idx.max() >= width:
        vals = np.where(idx < width, vals, 0.0)
        idx = np.minimum(idx, width - 1)
    if X.shape[0] == 1:
        return (vals @ cols[idx])[None, :]
    # Per-row sums as differences of a running sum, which also handles empty rows.
    csum = np.zeros((len(idx) + 1, cols.shape[1]))
    np.cumsum(cols[idx] * vals[:, None], axis=0, out=csum[1:])
    return csum[X.indptr[1:]] - csum[X.indptr[:-1]]


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
    # coef transposed (features x classes, C order), built on first use, never saved.
    _coef_t: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        return state_without(self, "_coef_t")

    def __setstate__(self, state: dict[str, object] | tuple[None, dict[str, object]]) -> None:
        restore_without(self, state, "_coef_t", None)

    def _columns(self) -> np.ndarray:
        if self._coef_t is None:
            self._coef_t = np.ascontiguousarray(self.coef.T)
        return self._coef_t

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

    def logits(self, X: Rows | sp.spmatrix | np.ndarray) -> np.ndarray:
        if isinstance(X, Rows):
            return product(X, self._columns()) + self.intercept
        # Extra columns (embeddings appended for other heads) are not this head's inputs.
        if X.shape[1] > self.coef.shape[1]:
            X = X[:, : self.coef.shape[1]]
        return np.asarray(X @ self.coef.T) + self.intercept

    def predict_proba(self, X: Rows | sp.spmatrix | np.ndarray) -> np.ndarray:
        z = self.logits(X) / self.temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X: Rows | sp.spmatrix | np.ndarray) -> list[str]:
        idx = self.logits(X).argmax(axis=1)
        return [self.classes[i] for i in idx]


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """Temperature minimising validation log-loss (Guo et al. 2017); keeps the argmax."""
    if len(y_index) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        lp = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-lp[np.arange(len(y_index)), y_index].mean())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))


@dataclass(frozen=True, slots=True)
class Span:
    """Where one head's classes sit among the stacked outputs."""

    name: str
    head: LinearHead
    lo: int
    hi: int


class StackedHeads:
    """Every head's weights side by side: one product scores all heads of a mention.

    Serving reads every head for every mention, so one gather (or one sparse product) for all
    of them replaces one per head; explanations gather the predicted classes' weights the
    same way. Built from the heads when a bundle is loaded; never saved.
    """

    def __init__(self, heads: dict[str, LinearHead]) -> None:
        width = max(h.coef.shape[1] for h in heads.values())
        blocks, spans, lo = [], [], 0
        for name, head in heads.items():
            coef = np.zeros((len(head.classes), width), dtype=np.float32)
            coef[:, : head.coef.shape[1]] = head.coef
            blocks.append(coef)
            spans.append(Span(name, head, lo, lo + len(head.classes)))
            lo += len(head.classes)
        self.cols = np.ascontiguousarray(np.vstack(blocks).T)
        self.spans = spans
        # Per stacked column: its head's intercept and temperature; where each head starts.
        self.intercept = np.concatenate([s.head.intercept for s in spans]).astype(np.float64)
        self.temperature = np.concatenate([np.full(s.hi - s.lo, s.head.temperature) for s in spans])
        self.starts = np.array([s.lo for s in spans])
        self.widths = np.array([s.hi - s.lo for s in spans])

    def probabilities(self, X: Rows) -> dict[str, np.ndarray]:
        """Calibrated class probabilities of every head (rows x classes each)."""
        return self._softmax(product(X, self.cols))

    def _softmax(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Each head's softmax over its own columns, for all heads in a few array operations."""
        z = (z + self.intercept) / self.temperature
        z = np.exp(z - np.repeat(np.maximum.reduceat(z, self.starts, axis=1), self.widths, axis=1))
        z /= np.repeat(np.add.reduceat(z, self.starts, axis=1), self.widths, axis=1)
        return {s.name: z[:, s.lo : s.hi] for s in self.spans}

    def explain_one(
        self, X: Rows, top: int
    ) -> tuple[dict[str, np.ndarray], dict[str, list[list[tuple[int, float]]]]]:
        """`probabilities` and `contributions` of a single row, sharing one weight gather."""
        idx = np.minimum(X.indices, self.cols.shape[0] - 1)
        vals = np.where(X.indices < self.cols.shape[0], X.data, 0.0)
        weights = self.cols[idx]  # entries x stacked classes
        proba = self._softmax((vals @ weights)[None, :])
        cls = [int(proba[s.name][0].argmax()) + s.lo for s in self.spans]
        return proba, self._top_one(X, weights[:, cls] * vals[:, None], top)

    def _top_one(
        self, X: Rows, contrib: np.ndarray, top: int
    ) -> dict[str, list[list[tuple[int, float]]]]:
        """The `top` positive entries per head of a single row's (entries x heads) block."""
        k = min(top, len(X.indices))
        out: dict[str, list[list[tuple[int, float]]]] = {}
        if k == 0:
            return {s.name: [[]] for s in self.spans}
        pos = np.argpartition(-contrib, k - 1, axis=0)[:k]
        best = np.take_along_axis(contrib, pos, axis=0)
        order = np.argsort(-best, axis=0)
        features = X.indices[np.take_along_axis(pos, order, axis=0)].T.tolist()
        weights_ = np.round(np.take_along_axis(best, order, axis=0).astype(np.float64), 4).T
        for s, fs, ws in zip(self.spans, features, weights_.tolist(), strict=True):
            out[s.name] = [[(f, w) for f, w in zip(fs, ws, strict=True) if w > 0]]
        return out

    def contributions(
        self, X: Rows, best: dict[str, np.ndarray], top: int, chunk: int = 128
    ) -> dict[str, list[list[tuple[int, float]]]]:
        """Per head and row, the features that pushed the row hardest to its predicted class.

        weight x value of every stored entry for every head's predicted class at once, laid
        out as a padded (rows x entries x heads) block, then a partial sort (`argpartition`)
        along the entries; no Python loop per entry.
        """
        n = X.shape[0]
        if n == 1:  # one gather of the chosen columns, no padded block (`explain_one`'s way)
            idx = np.minimum(X.indices, self.cols.shape[0] - 1)
            vals = np.where(X.indices < self.cols.shape[0], X.data, 0.0)
            one = [int(best[s.name][0]) + s.lo for s in self.spans]
            return self._top_one(X, self.cols[idx[:, None], one] * vals[:, None], top)
        out: dict[str, list[list[tuple[int, float]]]] = {s.name: [] for s in self.spans}
        cls = np.stack([best[s.name] + s.lo for s in self.spans], axis=1)  # rows x heads
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            self._top(X, a, b, cls, top, out)
        return out

    def _top(
        self,
        X: Rows,
        a: int,
        b: int,
        cls: np.ndarray,
        top: int,
        out: dict[str, list[list[tuple[int, float]]]],
    ) -> None:
        lo, hi = X.indptr[a], X.indptr[b]
        counts = np.diff(X.indptr[a : b + 1])
        width = int(counts.max()) if len(counts) else 0
        if width == 0:
            for s in self.spans:
                out[s.name] += [[] for _ in range(b - a)]
            return
        row = np.repeat(np.arange(b - a), counts)
        idx = np.minimum(X.indices[lo:hi], self.cols.shape[0] - 1)
        mine = X.indices[lo:hi] < self.cols.shape[0]
        vals = np.where(mine, X.data[lo:hi], 0.0)[:, None] * self.cols[idx[:, None], cls[a + row]]
        padded = np.full((b - a, width, len(self.spans)), -np.inf, dtype=np.float32)
        padded[row, np.arange(hi - lo) - (X.indptr[a + row] - lo)] = vals
        k = min(top, width)
        pos = np.argpartition(-padded, k - 1, axis=1)[:, :k]
        top_vals = np.take_along_axis(padded, pos, axis=1)
        order = np.argsort(-top_vals, axis=1)
        pos, top_vals = np.take_along_axis(pos, order, 1), np.take_along_axis(top_vals, order, 1)
        # A row with fewer entries than k picks padding positions too; those may point past the
        # last stored entry, so clip them (their value is -inf: never counted as positive below).
        at = np.minimum(X.indptr[a:b, None, None] + pos, len(X.indices) - 1)
        features = X.indices[at]
        top_vals = np.round(top_vals.astype(np.float64), 4)
        positive = (top_vals > 0).sum(axis=1)  # after rounding, as explain_one keeps them
        for h, s in enumerate(self.spans):
            fs, vs, cs = features[:, :, h].tolist(), top_vals[:, :, h].tolist(), positive[:, h]
            out[s.name] += [
                list(zip(f[:c], v[:c], strict=True)) for f, v, c in zip(fs, vs, cs, strict=True)
            ]
