"""What the static MiniLM block (switchboard.ml.semantic) costs per mention, and the full
transformer that the cascade's second opinion runs (switchboard.ml.minilm).

Answers "can serving afford the semantic features?": the budget is 100 µs for one mention
scored alone in-process, and less per mention in batches (training, backfills). Timings are
of `StaticEmbedder.transform` as callers use it, on real varied mentions when
../shared/datasets is present (synthetic ones otherwise). Single calls start from an empty
word cache plus a 200-mention warm-up on other texts (a freshly started server). Batches are
timed from an empty cache (a training pass over new data) and after embedding the other few
thousand mentions (warm); no figure is flattered by timing texts already seen. Where model2vec is
installed its own `StaticModel.encode` is timed on the same asset for comparison: it is why
the module pools with `tokenizers` directly.
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import SHARED, table, write_result
from switchboard.ml.semantic import ASSET_DIR, StaticEmbedder, load_static_model

BUDGET_US = 100.0
BATCH = 1000
WARM_UP = 200


def _texts(n: int) -> tuple[list[str], str]:
    """n varied mentions: airline tweets and banking queries if present, else synthetic."""
    texts: list[str] = []
    for path in (SHARED / "airline_sentiment" / "Tweets.csv", SHARED / "banking77" / "test.csv"):
        if path.exists():
            with path.open(newline="", encoding="utf-8") as fh:
                texts.extend(row["text"] for row in csv.DictReader(fh))
    source = "shared datasets"
    if not texts:
        rng = random.Random(0)
        words = ("my", "bag", "flight", "refund", "card", "app", "order", "late", "broken")
        texts = [" ".join(rng.choices(words, k=rng.randint(3, 30))) for _ in range(n)]
        source = "synthetic"
    random.Random(1).shuffle(texts)
    return (texts * (n // len(texts) + 1))[:n], source


def _single_us(
    embed: Callable[[list[str]], Any], texts: list[str], warm: list[str], reset: Callable[[], None]
) -> np.ndarray:
    reset()  # a freshly started process: empty word cache, then a short warm-up
    for text in warm:
        embed([text])
    times = np.empty(len(texts))
    clock = time.perf_counter_ns
    for i, text in enumerate(texts):
        t0 = clock()
        embed([text])
        times[i] = clock() - t0
    return times / 1e3


def _batch_us(
    embed: Callable[[list[str]], Any], texts: list[str], repeats: int, reset: Callable[[], None]
) -> tuple[float, float]:
    """Median µs per mention for a batch: cold word cache, and warm (other mentions seen)."""
    embed(texts[:BATCH])
    cold, warm = [], []
    for r in range(repeats):
        start = (r * BATCH) % (len(texts) - BATCH)
        chunk, others = texts[start : start + BATCH], texts[:start] + texts[start + BATCH :]
        reset()  # a training pass over new data
        t0 = time.perf_counter()
        embed(chunk)
        cold.append((time.perf_counter() - t0) * 1e6 / BATCH)
        reset()
        embed(others)  # a process that has already embedded a few thousand other mentions
        t0 = time.perf_counter()
        embed(chunk)
        warm.append((time.perf_counter() - t0) * 1e6 / BATCH)
    return statistics.median(cold), statistics.median(warm)


def run(quick: bool = False) -> dict[str, Any]:
    n_single = 1000 if quick else 5000
    repeats = 3 if quick else 7
    texts, source = _texts(max(n_single + WARM_UP, BATCH * 5))

    t0 = time.perf_counter()
    load_static_model()
    load_ms = (time.perf_counter() - t0) * 1e3
    embedder = StaticEmbedder().fit()

    def nothing() -> None:
        pass

    candidates: list[tuple[str, Callable[[list[str]], Any], Callable[[], None]]] = [
        ("StaticEmbedder.transform", embedder.transform, embedder.model.clear_word_cache)
    ]
    try:
        from model2vec import StaticModel
    except ImportError:
        pass
    else:
        reference = StaticModel.from_pretrained(ASSET_DIR, normalize=True, force_download=False)
        candidates.append(("model2vec StaticModel.encode (reference)", reference.encode, nothing))

    rows, results = [], {}
    measured, warm = texts[:n_single], texts[n_single : n_single + WARM_UP]
    for name, embed, reset in candidates:
        single = _single_us(embed, measured, warm, reset)
        batch, batch_warm = _batch_us(embed, texts, repeats, reset)
        p50, p99 = float(np.percentile(single, 50)), float(np.percentile(single, 99))
        results[name] = {
            "single_calls": n_single,
            "single_p50_us": p50,
            "single_p99_us": p99,
            "single_mean_us": float(single.mean()),
            "batch_size": BATCH,
            "batch_us_per_mention": batch,
            "batch_warm_us_per_mention": batch_warm,
        }
        rows.append([name, n_single, p50, p99, float(single.mean()), batch, batch_warm])

    ours = results["StaticEmbedder.transform"]
    payload = {
        "texts": source,
        "dim": embedder.n_features_out_,
        "load_ms": load_ms,
        "budget_single_us": BUDGET_US,
        "single_within_budget": ours["single_p50_us"] <= BUDGET_US,
        "batch_cheaper_than_single": ours["batch_us_per_mention"] < ours["single_p50_us"],
        "results": results,
    }
    headers = [
        "path",
        "single calls",
        "p50 µs",
        "p99 µs",
        "mean µs",
        f"µs/mention (batch {BATCH}, cold)",
        "(warm)",
    ]
    print(f"\nSemantic block cost ({source}, dim {payload['dim']}, load {load_ms:.0f} ms)")
    print(table(headers, rows))
    print(
        f"one mention p50 <= {BUDGET_US:.0f} µs: {payload['single_within_budget']}; "
        f"cold batch cheaper per mention than one alone: {payload['batch_cheaper_than_single']}"
    )
    payload["transformer"] = transformer_cost(texts[:300], texts[300:800])
    write_result("semantic_cost", payload)
    return payload


def transformer_cost(single: list[str], batch: list[str]) -> dict[str, Any]:
    """The cascade's second opinion: the full MiniLM in numpy (`switchboard.ml.minilm`), and
    sentence-transformers on torch for reference where `make embed` installed it."""
    from switchboard.ml.minilm import MiniLM, MiniLMUnavailable, model_dir

    try:
        ours = MiniLM()
    except MiniLMUnavailable as exc:
        print(f"\nTransformer cost skipped: {exc}")
        return {}
    paths: list[tuple[str, Callable[[list[str]], Any]]] = [
        ("ml.minilm.MiniLM (numpy)", ours.encode)
    ]
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        pass
    else:
        st = SentenceTransformer(str(model_dir()), device="cpu")
        paths.append(("sentence-transformers (torch, reference)", st.encode))
    out, rows = {}, []
    for name, encode in paths:
        encode(single[:20])
        ms = np.array([_once_ms(encode, [t]) for t in single])
        per = _once_ms(encode, batch) / len(batch)
        out[name] = {"p50_ms": float(np.median(ms)), "p99_ms": float(np.percentile(ms, 99))}
        out[name]["batch_ms_per_mention"] = per
        rows.append([name, len(single), out[name]["p50_ms"], out[name]["p99_ms"], per])
    print("\nThe full MiniLM transformer (the cascade's second opinion), one mention / a batch")
    headers = ["path", "single calls", "p50 ms", "p99 ms", f"ms/mention (batch {len(batch)})"]
    print(table(headers, rows))
    return out


def _once_ms(fn: Callable[[list[str]], Any], texts: list[str]) -> float:
    t0 = time.perf_counter()
    fn(texts)
    return (time.perf_counter() - t0) * 1e3


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
