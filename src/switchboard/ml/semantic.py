"""Static MiniLM sentence embeddings: a semantic feature block that costs microseconds.

Why: tf-idf only knows the words it saw in training, so "please refund me" and "I want my
money back" share nothing. all-MiniLM-L6-v2 knows they mean the same, but running the
transformer per mention costs milliseconds and needs torch. model2vec distilled it
(tools/distill_static.py) into one vector per word piece; a mention's embedding is then the
L2-normalised mean of its pieces' vectors — a tokenizer call, a table lookup and a sum. Word
order and context are lost; paraphrase and synonymy mostly survive, which is what a linear head
beside tf-idf needs.

Why not model2vec's own ``StaticModel.encode`` at run time: on this project's 2-core machine it
costs ~120-200 µs (p50, depending on load) for one mention — per-call batching, progress-bar
and truncation bookkeeping plus a full tokenizer pass — against a budget of 100 µs. Here the
same arithmetic is done with ``tokenizers`` and numpy directly, and whitespace chunks' word
pieces are cached (exactly; see ``StaticVectors.token_ids``): ~40-50 µs p50 in the same runs
(bench/semantic_cost.py). The asset keeps model2vec's file layout, so
``model2vec.StaticModel.from_pretrained(ASSET_DIR)`` gives the same vectors (a test checks the
two agree wherever model2vec is installed).

Trust: model artefacts are loaded only after their SHA-256 matches :data:`EXPECTED_SHA256`, and
each file is parsed from the very bytes that were hashed (no window for the file to change
between check and use). Nothing is ever fetched from a model hub.

Self-contained on purpose (no switchboard imports): training, serving and benchmarks all call
it. Feed it readable text (e.g. ``switchboard.ml.text.clean`` output), not ``normalise`` output:
placeholders such as ``xxurl`` would be embedded as meaningless word pieces.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from safetensors.numpy import load as load_safetensors
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from tokenizers import Encoding, Tokenizer
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

__all__ = [
    "ASSET_DIR",
    "EXPECTED_SHA256",
    "SemanticAssetError",
    "StaticEmbedder",
    "StaticVectors",
    "load_static_model",
]

ASSET_DIR: Final = Path(__file__).resolve().parent / "assets" / "minilm_static"

# Every file the loader reads, with the SHA-256 that tools/distill_static.py produced. NOTICE.md
# and LICENSE are documentation, never parsed, so editing them cannot change behaviour.
EXPECTED_SHA256: Final[Mapping[str, str]] = MappingProxyType(
    {
        "model.safetensors": "73b304803f166c959e7679b08ae38dad85d11056364a2b697ac8709464bd5e74",
        "tokenizer.json": "dd33465341c98889c3338356b6200c8b232b89af5f1b7aa8e6ee1d4d7a699631",
        "config.json": "b495aa80d061cdba8cc630d8eaed7a29fc8d4552d176406c9a0d4f011917fa69",
    }
)

# Bounds on the work one mention can cause: a pasted essay must not cost milliseconds. 512
# word pieces is what model2vec and MiniLM use; 4096 characters is far above any social post
# and caps the tokenizer's work before truncation applies.
MAX_TOKENS: Final = 512
MAX_CHARS: Final = 4096
# At most this many unseen words (or uncacheable texts) are tokenised inline, one by one;
# more go to the tokenizer's thread pool in one call.
INLINE_PIECES: Final = 8
# Distinct whitespace chunks remembered (~10 MB at most); past that the cache starts over.
WORD_CACHE_SIZE: Final = 50_000
_UNSAFE_ASCII: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class SemanticAssetError(RuntimeError):
    """An embedding asset is missing, altered or inconsistent: refuse rather than embed garbage."""


@dataclass(frozen=True, eq=False)
class StaticVectors:
    """A verified, loaded static model: tokenizer plus one vector per token id.

    Stored float16 (half the download and wheel size) but widened to float32 once at load:
    converting the touched rows on every call cost ~12 µs per mention, an eighth of the budget,
    for ~11 MB of memory saved. Read-only apart from the word cache, so one instance is shared
    by every embedder and thread. The tokenizer's truncation is set once at load and must not
    be changed afterwards (a change while another thread encodes makes ``tokenizers`` raise).
    """

    tokenizer: Tokenizer
    vectors: np.ndarray
    sha256: Mapping[str, str]
    unk_id: int | None
    # Whitespace-separated chunk -> its word-piece ids, or None where the tokenizer is not
    # BERT's (then every text goes to the tokenizer whole). See `token_ids`.
    word_cache: dict[str, list[int]] | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Word-piece ids per text, exactly as ``tokenizer.encode_batch_fast`` gives them.

        Why a cache: the Rust tokenizer spends ~35-55 µs on a tweet, most of the per-mention
        budget, re-normalising words it has seen thousands of times. BERT's normaliser and
        pre-tokeniser never join or split across whitespace, so a text's ids are the
        concatenation of its whitespace chunks' ids; chunks are tokenised once (by the same
        tokenizer, all of a call's unseen words in one go) and then looked up. Texts where
        Python's ``split`` might cut differently from BERT (control/format characters, which
        BERT deletes) skip the cache and are tokenised whole. Measured on airline tweets: a
        cold batch costs the same as whole-text tokenising, a warm one about half. The cache
        never changes results, only their cost (tests compare both paths on real mentions).
        """
        texts = [t[:MAX_CHARS] for t in texts]
        cache = self.word_cache
        if cache is None:
            return [e.ids for e in self._encode_pieces(texts)]
        split = [t.split() if _splits_like_bert(t) else None for t in texts]
        known: dict[str, list[int]] = {}
        missing: set[str] = set()
        for chunks in split:
            for chunk in chunks or ():
                if chunk not in known:
                    ids = cache.get(chunk)
                    if ids is None:
                        missing.add(chunk)
                    else:
                        known[chunk] = ids
        whole = [t for t, chunks in zip(texts, split, strict=True) if chunks is None]
        todo = list(missing)  # order is irrelevant: each chunk is tokenised on its own
        if todo or whole:
            encodings = self._encode_pieces(todo + whole)
            store = len(todo) <= WORD_CACHE_SIZE
            if store and len(cache) + len(todo) > WORD_CACHE_SIZE:
                cache.clear()  # crude but bounded; the frequent words come back at once
            for chunk, encoding in zip(todo, encodings, strict=False):
                known[chunk] = encoding.ids
                if store:
                    cache[chunk] = known[chunk]
            whole_ids = iter([e.ids for e in encodings[len(todo) :]])
        out = []
        for chunks in split:
            if chunks is None:
                out.append(next(whole_ids))
            else:
                out.append([i for chunk in chunks for i in known[chunk]][:MAX_TOKENS])
        return out

    def clear_word_cache(self) -> None:
        """Forget every cached word (benchmarks use it to measure the cold cost)."""
        if self.word_cache is not None:
            self.word_cache.clear()

    def _encode_pieces(self, pieces: list[str]) -> list[Encoding]:
        """Tokenise pieces; in parallel only when there are enough to pay for it.

        A batched call hands work to the tokenizer's thread pool, which costs ~20 µs even for
        two words; a single mention's few unseen words are cheaper tokenised inline, one by one.
        """
        if len(pieces) > INLINE_PIECES:
            return self.tokenizer.encode_batch_fast(pieces, add_special_tokens=False)
        return [self.tokenizer.encode_batch_fast([p], add_special_tokens=False)[0] for p in pieces]

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Embed texts as float32 rows of unit length (zero rows for texts with no known token).

        Each row is computed on its own, the same way whether the text comes alone (serving)
        or in a batch (training), so a mention gets bit-identical features either way. Per
        row, numpy's take + reduce on ~30 rows costs a few µs; vectorising across the batch
        (reduceat) measured slower for the single-mention case that serving pays for.
        """
        batch = _as_texts(texts)
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        if not batch:
            return out
        vectors, unk = self.vectors, self.unk_id
        for row, ids in enumerate(self.token_ids(batch)):
            if unk is not None and unk in ids:
                # Unknown pieces (emoji, rare symbols) all share one vector that means
                # nothing; model2vec drops them too. Only emoji -> a zero row.
                ids = [i for i in ids if i != unk]
            if ids:
                # Sum, not mean: the L2 normalisation removes the length factor anyway.
                total = np.add.reduce(vectors.take(ids, axis=0), axis=0)
                norm = np.sqrt(np.add.reduce(total * total))
                np.divide(total, max(norm, 1e-12), out=out[row])
        return out


def _splits_like_bert(text: str) -> bool:
    """True when ``text.split()`` cuts exactly where BERT's normaliser + pre-tokeniser do.

    They disagree only on characters BERT deletes before splitting: control and format
    characters (Unicode category C*: e.g. U+000B, U+001C-U+001F and U+0085 are whitespace to
    Python but deleted by BERT, joining their neighbours) and U+FFFD. On every other
    character both treat exactly the Unicode White_Space set as separators.
    """
    if _UNSAFE_ASCII.search(text):
        return False
    if text.isascii():
        return True
    return all(
        ch < "\x80" or (ch != "\ufffd" and unicodedata.category(ch)[0] != "C") for ch in set(text)
    )


def _as_texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str | bytes):
        # A bare string would otherwise be embedded character by character.
        raise TypeError("expected a sequence of texts, got a single string")
    batch = list(texts)
    for i, text in enumerate(batch):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, not str")
    return batch


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_verified(directory: Path, expected: Mapping[str, str]) -> dict[str, bytes]:
    """Every expected file's bytes, after checking all digests; raises naming the bad file."""
    blobs: dict[str, bytes] = {}
    for name, digest in expected.items():
        path = directory / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SemanticAssetError(f"embedding asset {path} cannot be read: {exc}") from exc
        actual = _sha256(data)
        if actual != digest:
            raise SemanticAssetError(
                f"embedding asset {path} has SHA-256 {actual}, expected {digest}: "
                "refusing to load it (re-make it with tools/distill_static.py)"
            )
        blobs[name] = data
    return blobs


def _parse(blobs: Mapping[str, bytes]) -> tuple[dict[str, Any], np.ndarray, Tokenizer]:
    """The only place asset bytes reach a parser; called after every digest matched."""
    config = json.loads(blobs["config.json"])
    vectors = load_safetensors(blobs["model.safetensors"])["embeddings"]
    tokenizer = Tokenizer.from_str(blobs["tokenizer.json"].decode("utf-8"))
    return config, vectors, tokenizer


def load_static_model(
    path: Path | str = ASSET_DIR, expected_sha256: Mapping[str, str] = EXPECTED_SHA256
) -> StaticVectors:
    """Load the distilled model from ``path`` after verifying every file's SHA-256.

    All files are hashed before any is parsed, so a tampered or truncated file is refused
    before its contents reach a parser. Raises :class:`SemanticAssetError` naming the file.
    """
    directory = Path(path)
    blobs = _read_verified(directory, expected_sha256)
    try:
        config, vectors, tokenizer = _parse(blobs)
    except Exception as exc:  # json, safetensors and tokenizers each raise their own types
        # Only reachable if EXPECTED_SHA256 itself names broken files: say so plainly.
        raise SemanticAssetError(
            f"embedding assets in {directory} cannot be parsed: {exc}"
        ) from exc
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
    if vectors.ndim != 2 or vectors.shape[0] != vocab_size:
        raise SemanticAssetError(
            f"{directory}: {vectors.shape} vectors for a vocabulary of {vocab_size} tokens"
        )
    if config.get("hidden_dim") != vectors.shape[1]:
        raise SemanticAssetError(
            f"{directory}: config says {config.get('hidden_dim')} dims, vectors have "
            f"{vectors.shape[1]}"
        )
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    vectors = vectors.astype(np.float32)
    vectors.setflags(write=False)
    unk = getattr(tokenizer.model, "unk_token", None)
    return StaticVectors(
        tokenizer=tokenizer,
        vectors=vectors,
        sha256=MappingProxyType({n: _sha256(b) for n, b in blobs.items()}),
        unk_id=None if unk is None else tokenizer.token_to_id(unk),
        # The chunk cache is exact only for BERT's whitespace rules (see token_ids).
        word_cache={}
        if isinstance(tokenizer.normalizer, BertNormalizer)
        and isinstance(tokenizer.pre_tokenizer, BertPreTokenizer)
        else None,
    )


@lru_cache(maxsize=4)
def _shared_model(asset_dir: str | None) -> StaticVectors:
    """One loaded copy per asset dir for the whole process (a few MB, read-only)."""
    return load_static_model(ASSET_DIR if asset_dir is None else Path(asset_dir))


class StaticEmbedder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """sklearn transformer: texts -> (n, dim) float32 static MiniLM embeddings, unit-length rows.

    ``asset_dir=None`` means the assets shipped inside the package, resolved when loading, so
    a pickled embedder does not carry the training machine's absolute path. The pickle holds
    only parameters and the SHA-256s of the assets seen at ``fit``; the vectors are loaded (and
    verified) on first use. A bundle fitted on other assets is refused rather than fed vectors
    its heads were not trained on. Stateless apart from that, hence deterministic.

    ``auto_wrap_output_keys=None`` opts out of sklearn's ``set_output`` wrapper: it adds
    per-call overhead to the serving path and dense float32 is the only output wanted.
    """

    def __init__(self, asset_dir: str | None = None) -> None:
        self.asset_dir = asset_dir

    def fit(self, X: Any = None, y: Any = None) -> StaticEmbedder:
        """Verify and load the assets now (fail at training, not at first request)."""
        model = _shared_model(self.asset_dir)
        self.asset_sha256_ = dict(model.sha256)
        self.n_features_out_ = model.dim
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed each text; rows are L2-normalised, zero for empty or all-unknown text."""
        return self._model().encode(X)

    @property
    def model(self) -> StaticVectors:
        """The verified, shared static model this embedder reads (loaded on first use)."""
        return self._model()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray([f"minilm_static_{i}" for i in range(self.n_features_out_)], dtype=object)

    def _check_fitted(self) -> None:
        if not hasattr(self, "asset_sha256_"):
            raise NotFittedError("StaticEmbedder is not fitted yet: call fit first")

    def _model(self) -> StaticVectors:
        self._check_fitted()
        model = _shared_model(self.asset_dir)
        if model.sha256 != self.asset_sha256_:
            raise SemanticAssetError(
                "this embedder was fitted on different embedding assets than the ones installed "
                f"({self.asset_sha256_} vs {dict(model.sha256)}): retrain the bundle"
            )
        return model
