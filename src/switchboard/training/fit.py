"""Fit every head that has labels, choose its hyperparameters on validation data, calibrate it.

Per head: a linear SVM (liblinear) on the shared `CaseFeatures` matrix, classes weighted by
inverse frequency (care data is imbalanced: crises are rare and matter most), the
regularisation strength picked by macro-F1 on the validation split, then a temperature fitted
on the same validation rows turns its margins into calibrated probabilities (softmax(margin/T)).
Test rows are only ever scored.

Why an SVM and not logistic regression: in our trials on airline sentiment it was as accurate
and several times faster to fit, and the temperature gives it the calibrated probabilities a
logistic model would have had (the ECE column of `switchboard evaluate` checks that claim).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from switchboard.data.schema import CLASSIFIER_HEADS
from switchboard.data.splits import bucket
from switchboard.ml.bundle import Bundle
from switchboard.ml.embedding import SemanticBlock, SentenceEmbedder
from switchboard.ml.features import CaseFeatures
from switchboard.ml.heads import LinearHead, fit_temperature
from switchboard.ml.minilm import MiniLMUnavailable
from switchboard.training.evaluate import HeadOutcome, evaluate_bundle, head_outcomes, head_target
from switchboard.training.expertise import fit_expertise
from switchboard.training.metrics import classification_report
from switchboard.training.split import assign_split, split_rule

EMBED = "tfidf+minilm"  # the full transformer (optional extra)
STATIC = "tfidf+static"  # static MiniLM vectors shipped in the package (default)
BLOCKS: dict[str, Callable[[Any], SemanticBlock | SentenceEmbedder]] = {
    STATIC: lambda config: SemanticBlock(scale=config.semantic_scale),
    EMBED: lambda config: SentenceEmbedder(),
}
FINGERPRINT_COLUMNS = ("case_id", "text", "created_at", *CLASSIFIER_HEADS, "responder_id")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Hyperparameters and their search space; every field is logged to MLflow."""

    # Wide enough that the chosen C is rarely at an edge (it sat at 0.3, the old top, often).
    c_grid: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)
    # Hyperparameters are chosen on at most this many training rows; the final fit uses all.
    select_rows: int = 10_000
    min_rows: int = 20
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    expertise_strength: float = 10.0
    affinity_rows: int = 20_000
    min_df: int = 2
    max_features: int = 200_000
    # Abstain when the calibrated chance of being right is under this; yes/no heads need
    # more than a coin flip, so they use the higher of this and `binary_abstain_below`.
    abstain_below: float = 0.5
    binary_abstain_below: float = 0.6
    # Worker processes fitting heads at once (results are identical for any value).
    n_jobs: int = 2
    # Candidate featurisations compared per head on validation data: "tfidf" always, plus at
    # most one semantic block: "tfidf+static" (static MiniLM vectors, shipped, the default) or
    # "tfidf+minilm" (the full transformer, needs `make embed`). A head keeps the block only if
    # it gains `min_embedding_gain` validation macro-F1 AND computing it for one mention fits
    # in `latency_budget_ms` (the service's per-mention budget).
    featurisations: tuple[str, ...] = ("tfidf", "tfidf+static")
    min_embedding_gain: float = 0.005
    latency_budget_ms: float = 0.5
    # Weight of the static block against the unit-length tf-idf blocks.
    semantic_scale: float = 1.0
    # Also train the second opinion: every text head again on the full MiniLM
    # transformer, which the router asks only about mentions the first heads are unsure of
    # (policy.toml `second_opinion_below`). Off by default in the library so that small fits
    # (tests) stay fast; `switchboard train` and `make run` turn it on.
    second_opinion: bool = False

    @property
    def block(self) -> str | None:
        """The one semantic block this run compares against plain tf-idf, if any."""
        blocks = [f for f in self.featurisations if f != "tfidf"]
        if len(blocks) > 1 or set(blocks) - set(BLOCKS):
            raise ValueError(f"featurisations: tfidf plus at most one of {list(BLOCKS)}")
        return blocks[0] if blocks else None


@dataclass(slots=True)
class TrainResult:
    bundle: Bundle
    metrics: dict[str, Any]
    selection: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    split_counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    # Truth and prediction per head on the test split (plots are drawn from these): kept so
    # nothing is scored twice.
    test_outcomes: dict[str, HeadOutcome] = field(default_factory=dict)


# Wraps an iterable of finished steps with a progress display: progress(steps, total).
Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def data_fingerprint(frame: pd.DataFrame) -> str:
    """Content hash of the columns that define the training problem (order-sensitive)."""
    cols = [c for c in FINGERPRINT_COLUMNS if c in frame]
    hashed = pd.util.hash_pandas_object(frame[cols].astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _classifier(C: float, config: TrainConfig, balanced: bool = True) -> LinearSVC:
    # dual=True: with tf-idf, features rival rows; the primal solver "auto" picks when
    # rows outnumber features is 4-5x slower to reach the same weights.
    return LinearSVC(
        C=C,
        class_weight=config.class_weight if balanced else None,
        dual=True,
        max_iter=config.max_iter,
        random_state=0,
    )


def _fit(clf: LinearSVC, X: sp.csr_matrix, y: np.ndarray) -> LinearSVC:
    # liblinear may stop at max_iter on hard heads; the validation score judges the result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def _subsample(rows: np.ndarray, limit: int) -> np.ndarray:
    """Deterministic subsample, so hyperparameter choice does not depend on the run."""
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return rows[(np.arange(limit) * step).astype(int)]


def fit_head(
    name: str,
    X: sp.csr_matrix,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    config: TrainConfig,
    balanced: bool = True,
    wide: sp.csr_matrix | None = None,
) -> tuple[LinearHead, dict[str, Any]]:
    """Choose on validation, then fit once on every row that is not test.

    C comes from the grid, fitted on at most `select_rows` training rows and judged on
    validation macro-F1; `wide` (tf-idf + the semantic block) gets the same search and is kept
    if its best gains `min_embedding_gain`. A temperature is fitted on validation for the chosen
    model; the final head is refit once on training + validation rows with the chosen C and
    features and keeps that temperature (refitting on validation rows too was worth +0.2 to
    +0.7 points). So the full-size fit happens once per head, whatever was compared.

    `balanced=False` keeps the class prior (responder affinity: who usually takes a case).
    """
    sel = _subsample(train, config.select_rows)
    val_known = val[np.isin(y[val], list(set(y[sel])))]
    # Balanced heads are judged by macro-F1 (rare classes matter); the responder affinity
    # keeps its prior and is judged by accuracy, i.e. hit@1.
    average = "macro" if balanced else "micro"

    def try_fit(M: sp.csr_matrix, C: float) -> tuple[LinearSVC, float]:
        clf = _fit(_classifier(C, config, balanced), M[sel], y[sel])
        pred = clf.predict(M[val_known])
        return clf, float(f1_score(y[val_known], pred, average=average, zero_division=0))

    fitted: dict[float, tuple[LinearSVC, float]] = {}
    if len(val_known):
        fitted = {C: try_fit(X, C) for C in config.c_grid}
        best = max(config.c_grid, key=lambda c: (fitted[c][1], -c))
    else:
        best = 1.0
    chosen, M = "tfidf", X
    small = fitted[best][0] if best in fitted else None
    candidates: dict[str, float] = {}
    if wide is not None and len(val_known):
        # The block shifts the best C (dense columns change the margin scale): its own grid.
        alt = {C: try_fit(wide, C) for C in config.c_grid}
        alt_best = max(config.c_grid, key=lambda c: (alt[c][1], -c))
        candidates = {"tfidf": fitted[best][1], str(config.block): alt[alt_best][1]}
        if alt[alt_best][1] - fitted[best][1] >= config.min_embedding_gain:
            chosen, M, best, small = str(config.block), wide, alt_best, alt[alt_best][0]
    if small is None:
        small = _fit(_classifier(best, config, balanced), M[sel], y[sel])
    temperature = 1.0
    classes = [str(c) for c in small.classes_]
    val_cal = val[np.isin(y[val], classes)]
    if len(val_cal):
        index = {c: i for i, c in enumerate(classes)}
        temperature = fit_temperature(
            LinearHead.from_estimator(name, small).logits(M[val_cal]),
            np.array([index[v] for v in y[val_cal]]),
        )
    rows = np.concatenate([train, val])
    final = _fit(_classifier(best, config, balanced), M[rows], y[rows])
    head = LinearHead.from_estimator(name, final, temperature)
    binary = len(head.classes) == 2
    head.abstain_below = (
        max(config.abstain_below, config.binary_abstain_below) if binary else config.abstain_below
    )
    info = {
        "C": best,
        "val_macro_f1": candidates.get(chosen, fitted[best][1] if best in fitted else None),
        "grid": {str(c): s for c, (_, s) in fitted.items()},
        "featurisation": chosen,
        "candidates": candidates,
        "temperature": head.temperature,
        "n_train": len(train),
        "n_val": len(val),
        "classes": head.classes,
    }
    return head, info


# head, X, y, train rows, val rows, balanced class weights
# head, X, y, train rows, val rows, balanced class weights, tf-idf + semantic block (or None)
Job = tuple[str, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, bool, sp.csr_matrix | None]


def _fit_heads_in_parallel(
    jobs: dict[str, Job], config: TrainConfig, progress: Progress | None
) -> dict[str, tuple[LinearHead, dict[str, Any]]]:
    """Heads are independent, so they fit in `n_jobs` worker processes.

    Processes, not threads: liblinear's random generator is process-global, so threads would
    make training irreproducible. joblib memory-maps the shared matrix for the workers.
    """
    keys = list(jobs)
    tasks = (
        delayed(_keyed_fit)(key, head, X, y, train, val, config, balanced, wide)
        for key, (head, X, y, train, val, balanced, wide) in jobs.items()
    )
    n_jobs = min(config.n_jobs, len(keys)) or 1
    done: Iterable[tuple[str, tuple[LinearHead, dict[str, Any]]]] = Parallel(
        n_jobs=n_jobs, return_as="generator_unordered"
    )(tasks)
    if progress:
        done = progress(done, len(keys))
    return dict(done)


def _keyed_fit(key: str, *args: Any) -> tuple[str, tuple[LinearHead, dict[str, Any]]]:
    return key, fit_head(*args)


AFFINITY = "responder"


def _with_block(
    X: sp.csr_matrix, frame: pd.DataFrame, config: TrainConfig
) -> tuple[sp.csr_matrix, SemanticBlock | SentenceEmbedder, float]:
    """The tf-idf matrix with the semantic block's columns appended, and its cost per mention."""
    embedder = BLOCKS[str(config.block)](config).fit(frame)
    dense = embedder.transform(frame)
    sample = frame.head(50)
    times = []
    for i in range(len(sample)):
        t = time.perf_counter()
        embedder.transform(sample.iloc[i : i + 1])
        times.append((time.perf_counter() - t) * 1000)
    return sp.hstack([X, sp.csr_matrix(dense)], format="csr"), embedder, float(np.median(times))


def _plan_jobs(
    frame: pd.DataFrame,
    split: np.ndarray,
    X: sp.csr_matrix,
    wide: sp.csr_matrix | None,
    config: TrainConfig,
) -> tuple[dict[str, Job], dict[str, str]]:
    """One job per head with enough labels (offered the semantic block when `wide` is given),
    plus responder affinity."""
    jobs: dict[str, Job] = {}
    skipped: dict[str, str] = {}
    for name in CLASSIFIER_HEADS:
        target = head_target(frame, name).to_numpy()
        labelled = np.array([t is not None for t in target])
        train = np.flatnonzero(labelled & (split == "train"))
        val = np.flatnonzero(labelled & (split == "val"))
        n_classes = len(set(target[train]))
        if len(train) < config.min_rows or n_classes < 2:
            skipped[name] = f"{len(train)} labelled training rows, {n_classes} classes"
            continue
        jobs[name] = (name, X, target, train, val, True, wide)
    responders = head_target(frame, "responder_id").to_numpy()
    has_responder = np.array([r is not None for r in responders])
    if len(set(responders[has_responder])) >= 2:
        # Who-takes-what is a coarse signal; a subsample learns it at a fraction of the cost.
        train = _subsample(np.flatnonzero(has_responder & (split == "train")), config.affinity_rows)
        val = np.flatnonzero(has_responder & (split == "val"))
        jobs[AFFINITY] = (AFFINITY, X, responders, train, val, False, None)
    return jobs, skipped


def _second_opinion(
    frame: pd.DataFrame,
    split: np.ndarray,
    X: sp.csr_matrix,
    features: CaseFeatures,
    config: TrainConfig,
) -> tuple[Bundle | None, dict[str, Any]]:
    """Every text head again, on the full MiniLM transformer's embeddings.

    On real tweets these heads decide markedly better than the fast ones (the transformer's
    embeddings carry what the curated corpus teaches over to phrasing it never saw,
    bench/decision.py), but embedding a mention costs ~10 ms against ~0.5 ms for the rest: so
    they are the cascade's second opinion, not the first. Only rows with a text label are
    embedded; the C grid is searched as for any head."""
    try:
        embedder = SentenceEmbedder().fit()
    except MiniLMUnavailable as exc:
        return None, {"skipped": str(exc)}
    rows = _text_labelled(frame)
    dense = np.zeros((len(frame), 384), dtype=np.float32)
    if rows.any():
        dense[rows] = embedder.transform(frame[rows])
    # The transformer alone: its tf-idf columns are left empty, so those weights are exactly 0.
    # With tf-idf beside it the heads learnt the corpus's own words again, which is what does
    # not carry over to real tweets (lower on the decision benchmark's development set when
    # this was built; measured then, not kept as an option).
    wide = sp.hstack([sp.csr_matrix(X.shape, dtype=X.dtype), dense], format="csr")
    plain = replace(config, featurisations=("tfidf",))
    jobs, _ = _plan_jobs(frame, split, wide, None, plain)
    jobs.pop(AFFINITY, None)  # expertise is not re-asked
    fitted = _fit_heads_in_parallel(jobs, plain, None)
    heads = {name: fitted[name][0] for name in CLASSIFIER_HEADS if name in fitted}
    info = {
        name: {"C": fitted[name][1]["C"], "val_macro_f1": fitted[name][1]["val_macro_f1"]}
        for name in heads
    }
    return Bundle(features, heads, None, {}, embedder), {
        "heads": info,
        "digests": embedder.digests_,
    }


def _text_labelled(frame: pd.DataFrame) -> np.ndarray:
    labelled = np.zeros(len(frame), dtype=bool)
    for name in CLASSIFIER_HEADS:
        labelled |= head_target(frame, name).notna().to_numpy()
    return labelled


def _vocabulary_rows(frame: pd.DataFrame, split: np.ndarray) -> np.ndarray:
    """Training rows the featuriser learns its vocabulary and idf from: those with a text
    label. Rows that only teach responder expertise (the default model's synthetic sample)
    would otherwise set the idf of the words the text heads read (-7 points of decision
    accuracy on real tweets, bench/decision.py)."""
    train = split == "train"
    labelled = _text_labelled(frame)
    return train & labelled if (train & labelled).any() else train


def _vectorise_all(
    features: CaseFeatures, frame: pd.DataFrame, fit_rows: np.ndarray
) -> sp.csr_matrix:
    """Fit on the training rows and transform everything, each text processed once."""
    fit_idx, rest_idx = np.flatnonzero(fit_rows), np.flatnonzero(~fit_rows)
    X_fit = features.fit_transform(frame.iloc[fit_idx])
    X_rest = features.transform(frame.iloc[rest_idx])
    order = np.argsort(np.concatenate([fit_idx, rest_idx]))
    return sp.vstack([X_fit, X_rest], format="csr")[order]


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
        "mlflow": importlib.metadata.version("mlflow"),
    }


def fit_bundle(
    frame: pd.DataFrame,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    policy_version: str = "",
    evaluate: bool = True,
    stages: Progress | None = None,
) -> TrainResult:
    """Train every head `frame` has labels for; evaluate on its test split.

    `progress` wraps the heads as they finish; `stages` the steps of the whole fit.
    """
    from switchboard.training.progress import Stages

    config = config or TrainConfig()
    steps = Stages(["vectorise", "semantic block", "heads", "expertise", "evaluate"], stages)
    steps.start("vectorise")
    frame = frame.reset_index(drop=True)
    timings: dict[str, float] = {}
    split = assign_split(frame).to_numpy()
    counts = {s: int((split == s).sum()) for s in ("train", "val", "test")}
    t0 = time.perf_counter()
    features = CaseFeatures(min_df=config.min_df, max_features=config.max_features)
    X = _vectorise_all(features, frame, _vocabulary_rows(frame, split))
    timings["features_s"] = time.perf_counter() - t0

    wide, embedder, embed_ms = None, None, None
    steps.start("semantic block")
    if config.block is not None:
        t_embed = time.perf_counter()
        wide, embedder, embed_ms = _with_block(X, frame, config)
        timings["embeddings_s"] = time.perf_counter() - t_embed
    if wide is not None and not (embed_ms is not None and embed_ms <= config.latency_budget_ms):
        wide = None  # the block does not fit the per-mention budget: no head is offered it
    jobs, skipped = _plan_jobs(frame, split, X, wide, config)
    steps.start("heads")
    t1 = time.perf_counter()
    fitted = _fit_heads_in_parallel(jobs, config, progress)
    timings["heads_s"] = time.perf_counter() - t1
    heads: dict[str, LinearHead] = {}
    selection: dict[str, dict[str, Any]] = {}
    for name in (n for n in CLASSIFIER_HEADS if n in jobs):
        heads[name], selection[name] = fitted[name]
        selection[name]["embed_ms_per_mention"] = embed_ms
    if not any(s["featurisation"] == config.block for s in selection.values()):
        embedder = None  # nobody reads the embeddings: do not pay for them at serve time
    deep, second = None, {"skipped": "not asked for (TrainConfig.second_opinion)"}
    if config.second_opinion:
        t_deep = time.perf_counter()
        deep, second = _second_opinion(frame, split, X, features, config)
        timings["second_opinion_s"] = time.perf_counter() - t_deep

    steps.start("expertise")
    t2 = time.perf_counter()
    trainval = np.flatnonzero(split != "test")
    affinity = fitted[AFFINITY][0] if AFFINITY in fitted else None
    expertise = fit_expertise(frame.iloc[trainval], affinity, strength=config.expertise_strength)
    timings["expertise_s"] = time.perf_counter() - t2
    metadata = bundle_metadata(
        data_fingerprint(frame),
        len(frame),
        split_rule(frame),
        counts,
        {h: head_info(selection[h], heads[h]) for h in heads},
        skipped_heads=skipped,
        second_opinion=second,
        policy_version=policy_version,
        config=asdict(config),
    )
    bundle = Bundle(features, heads, expertise, metadata, embedder, deep)
    result = TrainResult(bundle, {"heads": {}}, selection, skipped, counts, timings)
    steps.start("evaluate")
    if evaluate and counts["test"]:
        t3 = time.perf_counter()
        test = split == "test"
        X_test = (wide if bundle.embedder is not None else X)[np.flatnonzero(test)]
        result.test_outcomes = head_outcomes(bundle, X_test, frame[test])
        result.metrics = evaluate_bundle(bundle, frame[test], X_test, result.test_outcomes)
        timings["evaluate_s"] = time.perf_counter() - t3
    bundle.metadata["metrics"] = metrics_summary(result.metrics)
    steps.done()
    return result


def head_info(selected: dict[str, Any], head: LinearHead) -> dict[str, Any]:
    """What the bundle's metadata records of one head: its classes and the chosen settings."""
    keys = ("classes", "C", "alpha", "temperature", "featurisation")
    return {**{k: selected[k] for k in keys if k in selected}, "abstain_below": head.abstain_below}


def bundle_metadata(
    fingerprint: str,
    n_rows: int,
    rule: str,
    counts: dict[str, int],
    heads: dict[str, dict[str, Any]],
    **rest: Any,
) -> dict[str, Any]:
    """The bundle's metadata, one layout for both trainers (in memory and streaming): what
    `switchboard models`, the model card and MLflow read. `rest`: skipped heads, second
    opinion, policy version, config, and a trainer's own entries."""
    return {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_fingerprint": fingerprint,
        "n_rows": n_rows,
        "split_rule": rule,
        "split_counts": counts,
        "heads": heads,
        **rest,
        "libraries": library_versions(),
    }


def metrics_summary(metrics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The headline figures per head, small enough for metadata.json and GET /v1/model."""
    keep = ("n", "accuracy", "macro_f1", "brier", "ece", "hit_at_1", "hit_at_3")
    return {h: {k: r[k] for k in keep if r.get(k) is not None} for h, r in metrics["heads"].items()}


def cross_validate(
    frame: pd.DataFrame,
    folds: int,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """K-fold CV by a stable hash of case_id; metrics pooled over all out-of-fold predictions.

    Inside each fold the usual split rule carves validation rows out of the training folds,
    so hyperparameters are never chosen on the fold being scored.
    """
    frame = frame.reset_index(drop=True).drop(columns=["split"], errors="ignore")
    fold = frame["case_id"].map(lambda k: bucket(k, folds, salt="cv:")).to_numpy()
    pooled: dict[str, dict[str, list]] = {}
    for k in progress(range(folds), folds) if progress else range(folds):
        train_part = frame[fold != k].assign(split=None)
        test_part = frame[fold == k]
        result = fit_bundle(train_part, config, evaluate=False)
        X = result.bundle.vectorise(test_part)
        for name, o in head_outcomes(result.bundle, X, test_part).items():
            p = pooled.setdefault(name, {"y_true": [], "y_pred": []})
            p["y_true"] += o.y_true
            p["y_pred"] += o.y_pred
    # Pooled predictions have no common class order across folds, so no Brier/ECE here.
    heads = {
        n: classification_report(p["y_true"], p["y_pred"], None, []) for n, p in pooled.items()
    }
    return {"heads": heads, "folds": folds}
