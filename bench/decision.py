"""Decisions on real text: reply action and tier against the rubric, on 500 real tweets.

The benchmark (`bench/decision/labels.csv`, read through `bench/decision_data.py`) holds, per
tweet, the acceptable reply actions and tier range under `datasets/RUBRIC.md`. A decision is
right when both are acceptable. Each model is trained here from the shipped data named in its
row and recommends through `Router.recommend`, exactly as the service does (no author history,
no roster). Also reported: the share of mentions flagged `abstain` (sent to a human), the
crisis tweets left below tier 5, which must be zero, the share the cascade's second opinion
decided, and what the cascade costs per mention against the fast heads alone.

`python -m bench.decision` (part of `make bench`); skips with a message without ../shared.
`python -m bench.decision --sweep` shows how the policy's tuned values were chosen.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import SHARED, table, write_result
from switchboard.data.loaders import load_cases
from switchboard.data.shipped import SAMPLE_CASES, default_training_files, load_default_training
from switchboard.routing.cues import find_cues
from switchboard.routing.policy import Policy, load_policy
from switchboard.routing.router import Recommendation, Router
from switchboard.routing.types import Mention
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, fit_bundle

CLASSES = ("none", "public", "private", "crisis")


def correct(rec: Recommendation, actions: Sequence[str], tier_min: int, tier_max: int) -> bool:
    d = rec.decision
    return d.reply_action in actions and tier_min <= d.tier <= tier_max


def score(router: Router, bench: pd.DataFrame) -> dict[str, Any]:
    """Decision accuracy overall, per expected action and per selection; abstain share."""
    mentions = [
        Mention(id=f"{s}:{i}", text=t) for s, i, t in bench[["source", "id", "text"]].values
    ]
    recs = router.recommend(mentions)
    right = pd.Series(
        [
            correct(r, a, lo, hi)
            for r, a, lo, hi in zip(
                recs, bench["actions"], bench["tier_min"], bench["tier_max"], strict=True
            )
        ],
        index=bench.index,
    )
    crisis = (bench["primary"] == "crisis").to_numpy()
    tiers = pd.Series([r.decision.tier for r in recs], index=bench.index)
    return {
        "n": len(bench),
        "accuracy": round(float(right.mean()), 3),
        "per_class": {
            c: round(float(right[bench["primary"] == c].mean()), 3)
            for c in CLASSES
            if (bench["primary"] == c).any()
        },
        "random_sample_accuracy": round(float(right[bench["selection"] == "random"].mean()), 3),
        "to_human": round(sum(r.decision.abstain for r in recs) / len(recs), 3),
        "second_opinion": round(sum(_asked(r) for r in recs) / len(recs), 3),
        "crisis_below_tier_5": int((tiers[crisis] < 5).sum()),
        # The other side of escalating fast: the crisis team paged for a non-crisis.
        "tier_5_not_crisis": int((tiers[~crisis] == 5).sum()),
        "wrong": [
            {"id": f"{s}:{i}", "rule": rule, "got": f"{r.decision.reply_action}/{r.decision.tier}"}
            for (s, i, rule), r, ok in zip(
                bench[["source", "id", "rule"]].values, recs, right, strict=True
            )
            if not ok
        ],
    }


def _asked(rec: Recommendation) -> bool:
    return any(h.code == "second_opinion" for h in rec.decision.rules)


def cue_recall(policy: Policy, bench: pd.DataFrame) -> dict[str, float]:
    """Share of crisis (private) tweets on which any crisis (private) cue of the policy fires:
    what the lexicons catch before any model is asked."""
    cues = [find_cues(text, policy.words) for text in bench["text"]]
    out = {}
    for kind in ("crisis", "private"):
        rows = (bench["primary"] == kind).to_numpy()
        wanted = set(policy.get(kind, "cues"))
        hits = [bool(c & wanted) for c, r in zip(cues, rows, strict=True) if r]
        out[kind] = round(sum(hits) / len(hits), 3) if hits else float("nan")
    return out


def train_router(frame: pd.DataFrame, config: TrainConfig | None = None) -> Router:
    """A model trained the way `make run` trains the default one, on the given cases."""
    bundle = fit_bundle(frame, config, evaluate=False).bundle
    return Router(bundle, load_policy(Settings().policy_file))


def _files(files: Sequence[Path]) -> pd.DataFrame:
    return load_cases(list(files)).accepted


CASCADE = TrainConfig(second_opinion=True)
# name -> (training cases, config); the last is what `make run` trains.
MODELS: dict[str, tuple[Callable[[], pd.DataFrame], TrainConfig | None]] = {
    "synthetic sample only (the previous default)": (lambda: _files([SAMPLE_CASES]), None),
    "sample + curated, all labels": (lambda: _files(default_training_files()), None),
    "curated text, sample for expertise: fast heads only": (
        lambda: load_default_training().accepted,
        None,
    ),
    "default (make run): the same + the transformer's second opinion": (
        lambda: load_default_training().accepted,
        CASCADE,
    ),
}


def run(shared: Path = SHARED) -> dict[str, Any] | None:
    from bench.decision_data import HOLDOUT_PATH, LABELS_PATH, load_decision_benchmark

    try:
        sets = {
            "development set (500, cues and policy tuned on it)": load_decision_benchmark(
                shared, LABELS_PATH
            ),
            "held-out set (320 random, never tuned on)": load_decision_benchmark(
                shared, HOLDOUT_PATH
            ),
        }
    except FileNotFoundError as exc:
        print(f"\nDecision benchmark skipped: {exc}")
        return None
    t0 = time.perf_counter()
    routers = {name: train_router(cases(), config) for name, (cases, config) in MODELS.items()}
    payload: dict[str, Any] = {"sets": {}}
    policy = load_policy(Settings().policy_file)
    for set_name, bench in sets.items():
        rows = {name: score(router, bench) for name, router in routers.items()}
        recall = cue_recall(policy, bench)  # the same policy for every model: once per set
        payload["sets"][set_name] = {"models": rows, "cue_recall": recall}
        _print(set_name, rows, bench, recall)
    default = routers[list(MODELS)[-1]]
    texts = pd.concat(list(sets.values()))["text"].tolist()
    payload["latency"] = cascade_cost(default, texts)
    _print_cost(payload["latency"])
    payload["seconds"] = round(time.perf_counter() - t0, 1)
    write_result("decision", payload)
    return payload


def cascade_cost(router: Router, texts: Sequence[str]) -> dict[str, Any]:
    """Per-mention latency of `Router.recommend`, one real tweet at a time, with the second
    opinion and with the fast heads alone (same bundle, same run), and the share re-scored."""
    fast = Router(replace(router.bundle, deep=None), router.policy, router.explain)
    out: dict[str, Any] = {"n": len(texts)}
    for name, r in (("fast heads only", fast), ("with the second opinion", router)):
        r.bundle.warm()
        r.recommend([Mention(id="warm", text=t) for t in texts[:20]])
        times, asked = [], 0
        for i, text in enumerate(texts):
            t = time.perf_counter()
            rec = r.recommend([Mention(id=str(i), text=text)])[0]
            times.append((time.perf_counter() - t) * 1000)
            asked += _asked(rec)
        ms = np.array(times)
        out[name] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p90_ms": round(float(np.percentile(ms, 90)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2),
            "second_opinion_share": round(asked / len(texts), 3),
        }
    return out


def _print_cost(cost: dict[str, Any]) -> None:
    print(
        f"\nCost of the cascade, default model, the {cost['n']} benchmark tweets one at a time "
        "(in-process Router.recommend, no HTTP):"
    )
    keys = ["p50_ms", "p90_ms", "p99_ms", "mean_ms", "second_opinion_share"]
    rows = [[name, *(cost[name][k] for k in keys)] for name in list(cost)[1:]]
    print(table(["path", "p50 ms", "p90 ms", "p99 ms", "mean ms", "2nd opinion share"], rows))


def _print(
    set_name: str, models: dict[str, Any], bench: pd.DataFrame, recall: dict[str, float]
) -> None:
    counts = bench["primary"].value_counts()
    print(
        f"\nDecisions on real text, {set_name}: {len(bench)} tweets labelled by the rubric "
        f"({', '.join(f'{c} {counts.get(c, 0)}' for c in CLASSES)}); right = reply action and "
        "tier both acceptable. Target: >= 0.85 overall, every class >= 0.75, under 15 % to a "
        "human, no crisis below tier 5."
    )
    headers = [
        "model",
        "accuracy",
        *CLASSES,
        "random part",
        "to human",
        "crisis < tier 5",
        "tier 5, no crisis",
        "2nd opinion",
    ]
    rows = [
        [
            name,
            r["accuracy"],
            *(r["per_class"].get(c, "-") for c in CLASSES),
            r["random_sample_accuracy"],
            r["to_human"],
            r["crisis_below_tier_5"],
            r["tier_5_not_crisis"],
            r["second_opinion"],
        ]
        for name, r in models.items()
    ]
    print(table(headers, rows))
    print(
        f"cue recall (any cue of the kind fires): crisis {recall['crisis']:.3f}, "
        f"private {recall['private']:.3f}"
    )


SWEEPS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("confidence", "second_opinion_below"): (0.0, 0.6, 0.7, 0.8, 0.9, 1.01),
    ("no_reply", "prior_weight"): (1.0, 1.25, 1.5, 2.0),
    ("crisis", "intent_confidence"): (0.8, 0.9, 0.95, 1.01),
    ("private", "topic_cues"): ((), ("regulated",)),
}


def sweep(shared: Path = SHARED) -> dict[str, Any] | None:
    """How the policy's tuned values were chosen: the default model on the development set,
    one setting varied at a time, the others as shipped (`python -m bench.decision --sweep`).
    The held-out set is not shown, so that it stays a test."""
    from bench.decision_data import LABELS_PATH, load_decision_benchmark

    try:
        dev = load_decision_benchmark(shared, LABELS_PATH)
    except FileNotFoundError as exc:
        print(f"\nDecision sweep skipped: {exc}")
        return None
    cases, config = MODELS[list(MODELS)[-1]]
    router = train_router(cases(), config)
    rows, out = [], {}
    for (section, key), values in SWEEPS.items():
        for value in values:
            value = list(value) if isinstance(value, tuple) else value  # a list setting
            config_ = {**router.policy.config}
            config_[section] = {**config_[section], key: value}
            policy = replace(router.policy, config=config_)
            r = score(Router(router.bundle, policy), dev)
            shipped = router.policy.get(section, key) == value
            rows.append([f"{section}.{key}", f"{value}{' (shipped)' if shipped else ''}"])
            rows[-1] += [r["accuracy"], *(r["per_class"].get(c, "-") for c in CLASSES)]
            rows[-1] += [r["crisis_below_tier_5"], r["second_opinion"]]
            out[f"{section}.{key}={value}"] = r["accuracy"]
    print("\nPolicy sweep, default model, development set (500):")
    headers = ["setting", "value", "accuracy", *CLASSES, "crisis < tier 5", "2nd opinion"]
    print(table(headers, rows))
    write_result("decision_sweep", out)
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--sweep"]
    shared = Path(args[0]) if args else SHARED
    sweep(shared) if "--sweep" in sys.argv else run(shared)
