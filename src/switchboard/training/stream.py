"""Training beyond RAM: two passes over Parquet chunks, never the whole data set in memory.

The in-memory trainer (training/fit.py) holds every case, its tf-idf row and one copy per
worker: ~14 KB a case, so about 1.5M cases fill a 23 GB machine. This trainer reads the input
as fixed-order chunks (training/stream_source.py), twice:

1. Vocabulary: document and term frequencies of the word and character n-grams, counted per
   chunk into a bounded table (training/stream_vocab.py), then the same vocabulary and idf
   choice `TfidfVectorizer` makes; label counts per head (class weights, which heads train).
2. Heads: each chunk is vectorised with the fitted `CaseFeatures` and every head's linear
   classifiers (`SGDClassifier`, hinge loss: the linear SVM of fit.py, one per alpha of a small
   grid) take a `partial_fit` step on its training rows, chunks in fixed order, fixed seed.
   Vectorised chunks go to a scratch directory, so later epochs reread them from disk.
   A held-in validation sample (the split rule's validation rows, at most `val_rows`, kept in
   memory) chooses alpha per head by macro-F1 and fits its temperature; the test rows (at most
   `test_rows`) give the bundle's test figures.

What comes out is the bundle the service already reads: the same `CaseFeatures` (only its
fitted vocabularies were made differently), `LinearHead`s, the expertise model. Not on this
path: the semantic block and the second opinion (both need every text through a dense model
again; plain tf-idf heads only), the time split rule (needs every timestamp sorted: rows
split by the given `split` column or the case_id hash), and duplicate case_ids across chunks
are not detected (validation checks within a chunk). Responder affinity learns from an even
sample of `TrainConfig.affinity_rows` rows (by case_id hash), as fit.py subsamples it too.
Expertise is exact: its tables read only a few label columns of the non-test rows, ~0.1 KB a
case.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score

from switchboard.data.errors import DataError, NoRowsError
from switchboard.data.schema import CLASSIFIER_HEADS
from switchboard.ml.bundle import Bundle
from switchboard.ml.features import META_NAMES, CaseFeatures
from switchboard.ml.heads import LinearHead, fit_temperature
from switchboard.ml.text import normalise
from switchboard.training.evaluate import evaluate_bundle, head_outcomes, head_target
from switchboard.training.expertise import fit_expertise
from switchboard.training.fit import (
    AFFINITY,
    FINGERPRINT_COLUMNS,
    Progress,
    TrainConfig,
    TrainResult,
    bundle_metadata,
    head_info,
    metrics_summary,
)
from switchboard.training.split import hash_split
from switchboard.training.stream_source import ChunkStats, ParquetSource
from switchboard.training.stream_vocab import TermCounts

EXPERTISE_COLUMNS = ("responder_id", "resolved", "first_response_s", "intent", "brand")
TARGETS = (*CLASSIFIER_HEADS, AFFINITY)


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """How the streaming trainer reads and fits; logged beside `TrainConfig` in the bundle."""

    chunk_rows: int = 50_000
    # SGD regularisation strengths compared per head on validation (alpha ~ 1 / (C * rows)).
    alpha_grid: tuple[float, ...] = (1e-6, 1e-5, 1e-4)
    # Passes of SGD over the training rows; the first vectorises, later ones reread from disk.
    # Two by default, a time budget (not tuned): each further epoch is one more SGD pass over
    # the cached chunks; at 1M synthetic cases two already beat the in-memory trainer's F1.
    epochs: int = 2
    loss: str = "hinge"
    seed: int = 0
    # Validation / test rows kept in memory (the first ones of their split, in chunk order).
    val_rows: int = 50_000
    test_rows: int = 50_000
    # Terms per analyser the vocabulary pass keeps counting (stream_vocab.py's approximation).
    vocab_cap: int = 2_000_000
    # Where vectorised chunks wait for the next epoch (a temporary directory inside it).
    scratch_dir: Path | None = None
    # Threads per classifier (one per class of a multiclass head; results do not depend on it).
    n_jobs: int = 2


@dataclass(slots=True)
class _Pass1:
    """What the vocabulary pass learnt besides the vocabulary."""

    labels: dict[str, Counter] = field(default_factory=lambda: {t: Counter() for t in TARGETS})
    split_counts: Counter = field(default_factory=Counter)
    rule: str = "hash"
    n_rows: int = 0
    fingerprint: Any = field(default_factory=hashlib.sha256)
    text_labelled_train: int = 0


def split_of(chunk: pd.DataFrame) -> np.ndarray:
    """The split rule without its time ordering: a given `split`, else the case_id hash."""
    fallback = hash_split(chunk["case_id"].astype(str))
    if "split" in chunk and chunk["split"].notna().any():
        given = chunk["split"].astype("object").where(chunk["split"].notna(), None)
        return given.fillna(fallback).astype(str).to_numpy()
    return fallback.to_numpy()


def _targets(chunk: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each head's labels as strings, None where unlabelled."""
    out = {h: head_target(chunk, h).to_numpy() for h in CLASSIFIER_HEADS}
    out[AFFINITY] = head_target(chunk, "responder_id").to_numpy()
    return out


def _text_labelled(targets: dict[str, np.ndarray]) -> np.ndarray:
    n = len(targets[CLASSIFIER_HEADS[0]])
    labelled = np.zeros(n, dtype=bool)
    for h in CLASSIFIER_HEADS:
        labelled |= np.array([t is not None for t in targets[h]], dtype=bool)
    return labelled


def _count_pass(
    source: ParquetSource, features: CaseFeatures, cap: int, stats: ChunkStats
) -> tuple[TermCounts, TermCounts, _Pass1]:
    word, char = features._vectorisers()
    counts = TermCounts(word, cap), TermCounts(char, cap)
    seen = _Pass1()
    for chunk in source.chunks(stats):
        split = split_of(chunk)
        if "split" in chunk and chunk["split"].notna().any():
            seen.rule = "given"
        targets = _targets(chunk)
        cols = [c for c in FINGERPRINT_COLUMNS if c in chunk]
        hashed = pd.util.hash_pandas_object(chunk[cols].astype(str), index=False).to_numpy()
        seen.fingerprint.update(hashed.tobytes())
        seen.n_rows += len(chunk)
        seen.split_counts.update(split.tolist())
        fit_rows = split != "test"
        for name, target in targets.items():
            seen.labels[name].update(t for t in target[fit_rows] if t is not None)
        vocab = (split == "train") & _text_labelled(targets)
        seen.text_labelled_train += int(vocab.sum())
        texts = [normalise(t) for t in chunk["text"].to_numpy()[vocab]]
        for c in counts:
            c.add(texts)
    return *counts, seen


def _train_only_vocabulary(source: ParquetSource, features: CaseFeatures, cap: int) -> tuple:
    """No training row has a text label (expertise-only data): learn words from every one."""
    word, char = features._vectorisers()
    counts = TermCounts(word, cap), TermCounts(char, cap)
    for chunk in source.chunks():
        texts = [normalise(t) for t in chunk["text"].to_numpy()[split_of(chunk) == "train"]]
        for c in counts:
            c.add(texts)
    return counts


def fit_vocabulary(
    source: ParquetSource, config: TrainConfig, cap: int, stats: ChunkStats
) -> tuple[CaseFeatures, _Pass1, dict[str, Any]]:
    """Pass 1: a fitted `CaseFeatures` and the label counts, from one read of the chunks."""
    features = CaseFeatures(min_df=config.min_df, max_features=config.max_features)
    word, char, seen = _count_pass(source, features, cap, stats)
    files = ", ".join(str(p) for p in source.paths)
    if seen.n_rows == 0:
        raise NoRowsError(f"{files}: no usable rows to train on ({stats.n_rejected:,} rejected)")
    if seen.split_counts.get("train", 0) == 0:
        raise NoRowsError(f"{files}: no row falls in the training split")
    if seen.text_labelled_train == 0:
        word, char = _train_only_vocabulary(source, features, cap)
    try:
        features.word_ = word.fitted(config.min_df, config.max_features)
        features.char_ = char.fitted(config.min_df, config.max_features)
    except ValueError as exc:
        raise DataError(f"{files}: {exc}") from exc
    features.n_features_out_ = (
        len(features.word_.vocabulary_) + len(features.char_.vocabulary_) + len(META_NAMES)
    )
    features._blocks = None
    return features, seen, {"word": word.summary(), "char": char.summary()}


def _plan(seen: _Pass1, config: TrainConfig) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Heads with enough labelled rows and at least two classes, with their classes."""
    plan: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for name in TARGETS:
        counts = seen.labels[name]
        n, k = sum(counts.values()), len(counts)
        if name == AFFINITY and k < 2:
            continue
        if n < config.min_rows or k < 2:
            skipped[name] = f"{n} labelled training rows, {k} classes"
            continue
        plan[name] = sorted(counts)
    return plan, skipped


def _classifiers(
    name: str, classes: list[str], seen: _Pass1, stream: StreamConfig
) -> dict[float, SGDClassifier]:
    """One SGD linear SVM per alpha; classes weighted by inverse frequency (pass-1 counts),
    except responder affinity, which keeps the prior (who usually takes a case)."""
    weights = None
    if name != AFFINITY:
        counts = seen.labels[name]
        total = sum(counts.values())
        weights = {i: total / (len(classes) * counts[c]) for i, c in enumerate(classes)}
    return {
        alpha: SGDClassifier(
            loss=stream.loss,
            alpha=alpha,
            class_weight=weights,
            random_state=stream.seed,
            n_jobs=stream.n_jobs,
            average=True,
        )
        for alpha in stream.alpha_grid
    }


@dataclass(slots=True)
class _Held:
    """The validation and test rows kept in memory for choosing, calibrating and measuring."""

    val_X: list[sp.csr_matrix] = field(default_factory=list)
    val_y: list[dict[str, np.ndarray]] = field(default_factory=list)
    n_val: int = 0
    test_X: list[sp.csr_matrix] = field(default_factory=list)
    test_frames: list[pd.DataFrame] = field(default_factory=list)
    n_test: int = 0
    expertise: list[pd.DataFrame] = field(default_factory=list)


def _take(mask: np.ndarray, room: int) -> np.ndarray:
    """The first `room` rows of `mask`, as a mask."""
    rows = np.flatnonzero(mask)[: max(room, 0)]
    out = np.zeros(len(mask), dtype=bool)
    out[rows] = True
    return out


def _affinity_sample(chunk: pd.DataFrame, share: float) -> np.ndarray:
    """Rows responder affinity trains on: a `share` of them by case_id hash, spread evenly
    over the data (who-takes-what is a coarse signal: fit.py fits it on a subsample too)."""
    if share >= 1.0:
        return np.ones(len(chunk), dtype=bool)
    hashed = pd.util.hash_pandas_object(chunk["case_id"].astype(str), index=False).to_numpy()
    return (hashed % 1_000_000) < share * 1_000_000


def _vectorised_chunks(
    source: ParquetSource,
    features: CaseFeatures,
    stream: StreamConfig,
    held: _Held,
    affinity_share: float,
) -> Iterator[tuple[sp.csr_matrix, dict[str, np.ndarray]]]:
    """First epoch: read, vectorise and split each chunk; keep the held rows; yield the rest."""
    for chunk in source.chunks():
        split = split_of(chunk)
        targets = _targets(chunk)
        affinity = targets[AFFINITY].copy()
        affinity[~_affinity_sample(chunk, affinity_share)] = None
        X = features.transform(chunk)
        val = _take(split == "val", stream.val_rows - held.n_val)
        test = _take(split == "test", stream.test_rows - held.n_test)
        if val.any():
            held.val_X.append(X[val])
            held.val_y.append({h: t[val] for h, t in targets.items()})
            held.n_val += int(val.sum())
        if test.any():
            held.test_X.append(X[test])
            held.test_frames.append(chunk[test].reset_index(drop=True))
            held.n_test += int(test.sum())
        fit_rows = split != "test"
        has = chunk["responder_id"].notna().to_numpy() & fit_rows
        if has.any():
            held.expertise.append(
                chunk.loc[has, [c for c in EXPERTISE_COLUMNS if c in chunk]].astype(
                    {c: "category" for c in ("responder_id", "intent", "brand") if c in chunk}
                )
            )
        # Validation rows past the kept sample train like any other (they would be wasted).
        train = fit_rows & ~val
        yield X[train], {**{h: t[train] for h, t in targets.items()}, AFFINITY: affinity[train]}


def _cached(scratch: Path, n: int) -> Iterator[tuple[sp.csr_matrix, dict[str, np.ndarray]]]:
    for i in range(n):
        X = sp.load_npz(scratch / f"{i:06d}.npz")
        with np.load(scratch / f"{i:06d}.labels.npz", allow_pickle=True) as z:
            yield X, {h: z[h] for h in TARGETS}


def _encode(target: np.ndarray, classes: list[str]) -> np.ndarray:
    """Labels as class indices, -1 where unlabelled (scikit-learn's class_weight mistakes
    numeric strings such as tier "1" for numbers, so classifiers see integers)."""
    index = {c: i for i, c in enumerate(classes)}
    return np.fromiter((index.get(t, -1) for t in target), dtype=np.int64, count=len(target))


def _step(
    models: dict[str, dict[float, SGDClassifier]],
    plan: dict[str, list[str]],
    X: sp.csr_matrix,
    targets: dict[str, np.ndarray],
) -> None:
    """One partial_fit of every head's every classifier on a chunk's labelled rows."""
    for name, by_alpha in models.items():
        y = _encode(targets[name], plan[name])
        rows = np.flatnonzero(y >= 0)
        if not len(rows):
            continue
        classes = np.arange(len(plan[name]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for clf in by_alpha.values():
                clf.partial_fit(X[rows], y[rows], classes=classes)


def fit_heads(
    source: ParquetSource,
    features: CaseFeatures,
    plan: dict[str, list[str]],
    seen: _Pass1,
    stream: StreamConfig,
    progress: Progress | None = None,
    affinity_rows: int = 20_000,
) -> tuple[dict[str, dict[float, SGDClassifier]], _Held, int]:
    """Pass 2 and the later epochs: every classifier sees the training rows in chunk order."""
    models = {name: _classifiers(name, classes, seen, stream) for name, classes in plan.items()}
    held = _Held()
    responders = sum(seen.labels[AFFINITY].values())
    affinity_share = affinity_rows / responders if responders else 1.0
    n_chunks = 0
    if stream.scratch_dir is not None:
        Path(stream.scratch_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchboard-stream-", dir=stream.scratch_dir) as tmp:
        scratch = Path(tmp)
        epochs = range(stream.epochs)
        for epoch in progress(epochs, stream.epochs) if progress else epochs:
            if epoch == 0:
                chunks = _vectorised_chunks(source, features, stream, held, affinity_share)
            else:
                chunks = _cached(scratch, n_chunks)
            for X, targets in chunks:
                if epoch == 0 and stream.epochs > 1:
                    sp.save_npz(scratch / f"{n_chunks:06d}.npz", X, compressed=False)
                    np.savez(scratch / f"{n_chunks:06d}.labels.npz", **targets)
                if epoch == 0:
                    n_chunks += 1
                _step(models, plan, X, targets)
    return models, held, n_chunks


def choose(
    name: str,
    by_alpha: dict[float, SGDClassifier],
    classes: list[str],
    X_val: sp.csr_matrix,
    y_val: np.ndarray,
    config: TrainConfig,
    n_train: int,
) -> tuple[LinearHead, dict[str, Any]]:
    """The alpha with the best validation score (ties: the stronger regularisation), its
    temperature on the same rows; macro-F1, or accuracy (hit@1) for responder affinity."""
    average = "micro" if name == AFFINITY else "macro"
    y = _encode(y_val, classes)
    rows = np.flatnonzero(y >= 0)
    scores: dict[float, float] = {}
    for alpha, clf in by_alpha.items():
        if len(rows):
            pred = clf.predict(X_val[rows])
            scores[alpha] = float(f1_score(y[rows], pred, average=average, zero_division=0))
    best = max(by_alpha, key=lambda a: (scores.get(a, 0.0), a))
    head = LinearHead.from_estimator(name, by_alpha[best])
    head.classes = [classes[int(i)] for i in by_alpha[best].classes_]
    temperature = 1.0
    if len(rows):
        temperature = fit_temperature(head.logits(X_val[rows]), y[rows])
    head.temperature = temperature
    binary = len(head.classes) == 2
    head.abstain_below = (
        max(config.abstain_below, config.binary_abstain_below) if binary else config.abstain_below
    )
    info = {
        "alpha": best,
        # The SVM C this alpha corresponds to (hinge loss: C = 1 / (alpha * rows)).
        "C": 1.0 / (best * max(n_train, 1)),
        "val_macro_f1": scores.get(best),
        "grid": {str(a): s for a, s in scores.items()},
        "featurisation": "tfidf",
        "candidates": {},
        "temperature": temperature,
        "n_train": n_train,
        "n_val": len(rows),
        "classes": head.classes,
        "embed_ms_per_mention": None,
    }
    return head, info


def _expertise_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=list(EXPERTISE_COLUMNS))
    frame = pd.concat(parts, ignore_index=True)
    for c in ("responder_id", "intent", "brand"):
        if c in frame:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def fit_stream(
    source: ParquetSource,
    config: TrainConfig | None = None,
    stream: StreamConfig | None = None,
    progress: Progress | None = None,
    policy_version: str = "",
    evaluate: bool = True,
    stages: Progress | None = None,
    stats: ChunkStats | None = None,
) -> TrainResult:
    """Train every head the chunks have labels for, holding one chunk at a time (plus the
    bounded validation and test samples and the weights).

    `stats`, if given, receives the rows read, accepted and rejected by the first pass.
    """
    from switchboard.training.progress import Stages

    config = config or TrainConfig(featurisations=("tfidf",))
    stream = stream or StreamConfig()
    steps = Stages(["vocabulary", "heads", "expertise", "evaluate"], stages)
    timings: dict[str, float] = {}
    steps.start("vocabulary")
    t0 = time.perf_counter()
    stats = stats if stats is not None else ChunkStats()
    features, seen, vocab_info = fit_vocabulary(source, config, stream.vocab_cap, stats)
    timings["vocabulary_s"] = time.perf_counter() - t0
    plan, skipped = _plan(seen, config)

    steps.start("heads")
    t1 = time.perf_counter()
    models, held, n_chunks = fit_heads(
        source, features, plan, seen, stream, progress, config.affinity_rows
    )
    timings["heads_s"] = time.perf_counter() - t1
    X_val = sp.vstack(held.val_X, format="csr") if held.val_X else None
    heads: dict[str, LinearHead] = {}
    selection: dict[str, dict[str, Any]] = {}
    for name, by_alpha in models.items():
        y_val = (
            np.concatenate([y[name] for y in held.val_y]) if held.val_y else np.array([], object)
        )
        X = X_val if X_val is not None else sp.csr_matrix((0, features.n_features_out_))
        n_train = sum(seen.labels[name].values())
        if name == AFFINITY:
            n_train = min(n_train, config.affinity_rows)
        heads[name], selection[name] = choose(name, by_alpha, plan[name], X, y_val, config, n_train)
    affinity = heads.pop(AFFINITY, None)
    selection.pop(AFFINITY, None)

    steps.start("expertise")
    t2 = time.perf_counter()
    expertise = fit_expertise(
        _expertise_frame(held.expertise), affinity, strength=config.expertise_strength
    )
    timings["expertise_s"] = time.perf_counter() - t2
    counts = {s: int(seen.split_counts.get(s, 0)) for s in ("train", "val", "test")}
    metadata = bundle_metadata(
        seen.fingerprint.hexdigest()[:16],
        seen.n_rows,
        seen.rule,
        counts,
        {h: {**head_info(selection[h], heads[h]), "featurisation": "tfidf"} for h in heads},
        skipped_heads=skipped,
        second_opinion={"skipped": "not trained on the streaming path"},
        policy_version=policy_version,
        config={**asdict(config), "featurisations": ["tfidf"], "second_opinion": False},
        trainer={
            "kind": "streaming",
            **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(stream).items()},
            "chunks": n_chunks,
            "rows_rejected": stats.n_rejected,
            "vocabulary": vocab_info,
            "val_rows_held": held.n_val,
            "test_rows_held": held.n_test,
        },
    )
    bundle = Bundle(features, heads, expertise, metadata)
    result = TrainResult(bundle, {"heads": {}}, selection, skipped, counts, timings)
    steps.start("evaluate")
    if evaluate and held.test_frames:
        t3 = time.perf_counter()
        test = pd.concat(held.test_frames, ignore_index=True)
        X_test = sp.vstack(held.test_X, format="csr")
        result.test_outcomes = head_outcomes(bundle, X_test, test)
        result.metrics = evaluate_bundle(bundle, test, X_test, result.test_outcomes)
        timings["evaluate_s"] = time.perf_counter() - t3
    bundle.metadata["metrics"] = metrics_summary(result.metrics)
    steps.done()
    return result
