"""What the static MiniLM block (switchboard.ml.semantic) costs per mention.

Answers "can serving afford the semantic features?": the budget is 100 µs for one mention
scored alone in-process, and less per mention in batches (training, backfills). Timings are
of `StaticEmbedder.transform` as callers use it, on real varied mentions when
../shared/datasets is present (synthetic ones otherwise), after a warm-up. Where model2vec is
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


def _single_us(embed: Callable[[list[str]], Any], texts: list[str]) -> np.ndarray:
    for text in texts[:200]:  # warm-up: caches, allocator, branch predictors
        embed([text])
    times = np.empty(len(texts))
    clock = time.perf_counter_ns
    for i, text in enumerate(texts):
        t0 = clock()
        embed([text])
        times[i] = clock() - t0
    return times / 1e3


def _batch_us(embed: Callable[[list[str]], Any], texts: list[str], repeats: int) -> float:
    embed(texts[:BATCH])
    runs = []
    for r in range(repeats):
        chunk = texts[(r * BATCH) % len(texts) :][:BATCH]
        t0 = time.perf_counter()
        embed(chunk)
        runs.append((time.perf_counter() - t0) * 1e6 / len(chunk))
    return statistics.median(runs)


def run(quick: bool = False) -> dict[str, Any]:
    n_single = 1000 if quick else 5000
    repeats = 3 if quick else 10
    texts, source = _texts(max(n_single, BATCH * 2))

    t0 = time.perf_counter()
    load_static_model()
    load_ms = (time.perf_counter() - t0) * 1e3
    embedder = StaticEmbedder().fit()

    candidates: list[tuple[str, Callable[[list[str]], Any]]] = [
        ("StaticEmbedder.transform", embedder.transform)
    ]
    try:
        from model2vec import StaticModel
    except ImportError:
        pass
    else:
        reference = StaticModel.from_pretrained(ASSET_DIR, normalize=True, force_download=False)
        candidates.append(("model2vec StaticModel.encode (reference)", reference.encode))

    rows, results = [], {}
    for name, embed in candidates:
        single = _single_us(embed, texts[:n_single])
        batch = _batch_us(embed, texts, repeats)
        p50, p99 = float(np.percentile(single, 50)), float(np.percentile(single, 99))
        results[name] = {
            "single_calls": n_single,
            "single_p50_us": p50,
            "single_p99_us": p99,
            "single_mean_us": float(single.mean()),
            "batch_size": BATCH,
            "batch_us_per_mention": batch,
        }
        rows.append([name, n_single, p50, p99, float(single.mean()), batch])

    ours = results["StaticEmbedder.transform"]
    payload = {
        "texts": source,
        "dim": embedder.n_features_out_,
        "load_ms": load_ms,
        "budget_single_us": BUDGET_US,
        "within_budget": ours["single_p50_us"] <= BUDGET_US
        and ours["batch_us_per_mention"] < ours["single_p50_us"],
        "results": results,
    }
    headers = ["path", "single calls", "p50 µs", "p99 µs", "mean µs", f"µs/mention (batch {BATCH})"]
    verdict = "OK" if payload["within_budget"] else "OVER"
    print(f"\nSemantic block cost ({source}, dim {payload['dim']}, load {load_ms:.0f} ms)")
    print(table(headers, rows))
    print(f"budget: {BUDGET_US:.0f} µs for one mention -> {verdict}")
    write_result("semantic_cost", payload)
    return payload


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
