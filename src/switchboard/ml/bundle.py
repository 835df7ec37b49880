"""The model bundle: everything serving needs, in one directory, checked before it is trusted.

Layout of a bundle directory:

    metadata.json          version, trained_at, data fingerprint, metrics, heads, versions
    features.joblib        the fitted `CaseFeatures`
    embedder.joblib        the semantic block (`SemanticBlock`, or `SentenceEmbedder`), only
                           when a head chose it
    head-<name>.joblib     one `LinearHead` per trained head
    expertise.joblib       the `ExpertiseModel` (when the data had responders)
    deep-embedder.joblib,  the second opinion (`Bundle.deep`): heads on the full MiniLM
    deep-head-<name>.joblib  transformer, asked only when the first heads are unsure
    MANIFEST.json          SHA-256 of every file above

joblib files are pickles, and unpickling runs code; so `load_bundle` hashes every file and
compares with the manifest (and the manifest with the registry's record of it) before a single
byte is unpickled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from switchboard.ml.expertise import ExpertiseModel
from switchboard.ml.features import CaseFeatures, Columns, Rows
from switchboard.ml.heads import LinearHead, StackedHeads

MANIFEST = "MANIFEST.json"
METADATA = "metadata.json"
FEATURES = "features.joblib"
EXPERTISE = "expertise.joblib"
EMBEDDER = "embedder.joblib"
DEEP = "deep-"  # prefix of the second opinion's files


# Bundles trained before the reply head was renamed still load under today's name.
_HEAD_RENAMES = {"head-reply_mode.joblib": "head-reply_action.joblib"}


class BundleIntegrityError(Exception):
    """The bundle on disk is not the one that was registered; it must not be loaded."""


@dataclass(slots=True)
class HeadPrediction:
    """One head's answer for one mention."""

    label: str
    confidence: float
    margin: float
    probabilities: dict[str, float]
    abstain: bool
    top_features: list[tuple[str, float]] = field(default_factory=list)


@dataclass(slots=True)
class Bundle:
    """The fitted featuriser, heads and expertise model, plus what is known about them."""

    features: CaseFeatures
    heads: dict[str, LinearHead]
    expertise: ExpertiseModel | None
    metadata: dict[str, Any]
    # Optional dense features appended after the tf-idf columns (see ml/embedding.py).
    embedder: Any | None = None
    # The second opinion: heads on the full transformer's embeddings (laid out after the same
    # tf-idf columns, whose weights are 0); ~10 ms a mention, asked only when these are unsure.
    deep: Bundle | None = None
    _names: list[str] | None = None
    _stacked: StackedHeads | None = None

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unregistered"))

    def feature_names(self) -> list[str]:
        if self._names is None:
            names = self.features.get_feature_names_out()
            if self.embedder is not None:
                names = np.concatenate([names, self.embedder.get_feature_names_out()])
            self._names = names.tolist()
        return self._names

    def vectorise(self, frame: Columns) -> sp.csr_matrix:
        """The one feature matrix every head and the expertise model read (scipy form)."""
        X = self.features.transform(frame)
        if self.embedder is None:
            return X
        return sp.hstack([X, sp.csr_matrix(self.embedder.transform(frame))], format="csr")

    def rows(self, frame: Columns) -> Rows:
        """The same matrix as `vectorise`, as raw CSR arrays: the service's fast path."""
        rows = self.features.rows(frame)
        if self.embedder is None:
            return rows
        return rows.with_dense(np.asarray(self.embedder.transform(frame), dtype=np.float32))

    def warm(self) -> None:
        """Build what the first request would otherwise build: feature names, stacked weights,
        the fast featuriser's tables."""
        self.feature_names()
        if self.heads:
            self.stacked()
        self.features.rows({"text": ["warm up"]})
        self.features.rows({"text": ["warm up", "the batch path"]})  # its code point tables
        if self.deep is not None:
            self.deep.warm()
            self.deep.embedder.warm()

    def stacked(self) -> StackedHeads:
        if self._stacked is None:
            self._stacked = StackedHeads(self.heads)
        return self._stacked

    def predict_heads(
        self, X: Rows | sp.csr_matrix, explain: int = 0
    ) -> list[dict[str, HeadPrediction]]:
        """Every head's prediction for every row of an already vectorised batch."""
        if not isinstance(X, Rows):
            X = Rows(X.data, X.indices, X.indptr, X.shape[1])
        n = X.shape[0]
        out: list[dict[str, HeadPrediction]] = [{} for _ in range(n)]
        if not self.heads:
            return out
        stack = self.stacked()
        names = self.feature_names() if explain else None
        if names and n == 1:
            proba, contrib = stack.explain_one(X, explain)
            best = {name: p.argmax(axis=1) for name, p in proba.items()}
        else:
            proba = stack.probabilities(X)
            best = {name: p.argmax(axis=1) for name, p in proba.items()}
            contrib = stack.contributions(X, best, explain) if names else {}
        for name, head in self.heads.items():
            top = contrib.get(name) or [[]] * n
            classes, below = head.classes, head.abstain_below
            rows = zip(best[name].tolist(), proba[name].tolist(), strict=True)
            for i, (b, probs) in enumerate(rows):
                conf = probs[b]
                second = max((q for j, q in enumerate(probs) if j != b), default=0.0)
                out[i][name] = HeadPrediction(
                    label=classes[b],
                    confidence=conf,
                    margin=conf - second,
                    probabilities=dict(zip(classes, probs, strict=True)),
                    abstain=conf < below,
                    top_features=[(names[j], v) for j, v in top[i]] if names else [],
                )
        return out

    def explain_heads(
        self, X: Rows | sp.csr_matrix, heads: Sequence[dict[str, HeadPrediction]], top: int
    ) -> None:
        """Fill in, in place, the `top_features` of predictions that `predict_heads` made for
        these rows without them: the features that pushed each head hardest to its answer.

        Why apart from `predict_heads`: the service explains only when a caller asks, and
        explaining here reads the answers without computing them again, so asking for an
        explanation cannot change a decision."""
        if not self.heads or top <= 0 or not heads:
            return
        if not isinstance(X, Rows):
            X = Rows(X.data, X.indices, X.indptr, X.shape[1])
        names = self.feature_names()
        best = {}
        for name, head in self.heads.items():
            index = {c: i for i, c in enumerate(head.classes)}
            best[name] = np.array([index[h[name].label] for h in heads], dtype=np.intp)
        contrib = self.stacked().contributions(X, best, top)
        for name in self.heads:
            for h, top_i in zip(heads, contrib[name], strict=True):
                h[name].top_features = [(names[j], v) for j, v in top_i]

    def predict(self, frame: Columns, explain: int = 0) -> list[dict[str, HeadPrediction]]:
        return self.predict_heads(self.rows(frame), explain=explain)

    def expertise_scores(
        self,
        X: sp.csr_matrix,
        candidates: Sequence[str],
        intent_proba: list[dict[str, float]] | None = None,
    ) -> np.ndarray:
        """Expertise of each candidate for each row; neutral 0.5 when no history was learned."""
        if self.expertise is None:
            return np.full((X.shape[0], len(candidates)), 0.5)
        return self.expertise.score(X, list(candidates), intent_proba)


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def save_bundle(bundle: Bundle, directory: Path) -> str:
    """Write the bundle and its manifest; returns the manifest's own SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle.features, directory / FEATURES)
    for name, head in bundle.heads.items():
        joblib.dump(head, directory / f"head-{name}.joblib")
    if bundle.expertise is not None:
        joblib.dump(bundle.expertise, directory / EXPERTISE)
    if bundle.embedder is not None:
        joblib.dump(bundle.embedder, directory / EMBEDDER)
    if bundle.deep is not None:
        joblib.dump(bundle.deep.embedder, directory / f"{DEEP}{EMBEDDER}")
        for name, head in bundle.deep.heads.items():
            joblib.dump(head, directory / f"{DEEP}head-{name}.joblib")
    (directory / METADATA).write_text(json.dumps(bundle.metadata, indent=2, sort_keys=True))
    files = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest = {"algorithm": "sha256", "files": {f: sha256_file(directory / f) for f in files}}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return sha256_file(directory / MANIFEST)


def verify_bundle(directory: Path, manifest_sha256: str | None = None) -> dict[str, Any]:
    """Check every file against the manifest; raise `BundleIntegrityError` naming the culprit."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise BundleIntegrityError(f"{directory}: no {MANIFEST}; refusing to load")
    if manifest_sha256 is not None and sha256_file(manifest_path) != manifest_sha256:
        raise BundleIntegrityError(
            f"{manifest_path}: manifest checksum differs from the registry's record"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        files: dict[str, str] = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleIntegrityError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    for name, expected in files.items():
        path = directory / name
        if not path.is_file():
            raise BundleIntegrityError(f"{path}: listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise BundleIntegrityError(
                f"{path}: SHA-256 {actual[:12]}… does not match manifest {expected[:12]}…"
            )
    extra = {p.name for p in directory.iterdir() if p.is_file()} - set(files) - {MANIFEST}
    if extra:
        raise BundleIntegrityError(f"{directory}: files not in the manifest: {sorted(extra)}")
    return files


def load_bundle(directory: Path, manifest_sha256: str | None = None) -> Bundle:
    """Verify, then load. Pass the registry's manifest checksum whenever there is one."""
    files = verify_bundle(directory, manifest_sha256)
    metadata = json.loads((directory / METADATA).read_text())
    features = joblib.load(directory / FEATURES)
    expertise = joblib.load(directory / EXPERTISE) if EXPERTISE in files else None
    embedder = joblib.load(directory / EMBEDDER) if EMBEDDER in files else None
    deep = None
    if f"{DEEP}{EMBEDDER}" in files:
        deep_heads = _load_heads(directory, files, DEEP)
        deep = Bundle(features, deep_heads, None, {}, joblib.load(directory / f"{DEEP}{EMBEDDER}"))
    heads = _load_heads(directory, files)
    return Bundle(features, heads, expertise, metadata, embedder, deep)


def _load_heads(directory: Path, files: dict[str, str], prefix: str = "") -> dict[str, LinearHead]:
    start = f"{prefix}head-"
    return {
        _HEAD_RENAMES.get(name, name)[len(start) : -len(".joblib")]: joblib.load(directory / name)
        for name in sorted(files)
        if name.startswith(start)
    }
