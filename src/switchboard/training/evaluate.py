"""Score a bundle against labelled cases: the same code for `train`'s test split, `--cv` and
`switchboard evaluate`, so every number printed anywhere is computed one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from switchboard.data.schema import CLASSIFIER_HEADS
from switchboard.ml.bundle import Bundle
from switchboard.routing.router import Router, mentions_from_records
from switchboard.training.metrics import classification_report, hit_at_k


def _label(head: str, value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if head == "actionable":
        return str(bool(value))
    if head == "tier":
        return str(int(value))  # type: ignore[call-overload]
    return str(value)


def head_target(frame: pd.DataFrame, head: str) -> pd.Series:
    """The label column of a head as strings ('True'/'False', '1'..'5'), None where unlabelled."""
    values = frame[head].tolist() if head in frame else [None] * len(frame)
    return pd.Series([_label(head, v) for v in values], index=frame.index, dtype=object)


@dataclass(slots=True)
class HeadOutcome:
    """Truth and prediction of one head on the labelled rows (pooled across CV folds)."""

    y_true: list[str]
    y_pred: list[str]
    proba: np.ndarray | None
    classes: list[str]


def head_outcomes(bundle: Bundle, X: sp.csr_matrix, frame: pd.DataFrame) -> dict[str, HeadOutcome]:
    out: dict[str, HeadOutcome] = {}
    for name, head in bundle.heads.items():
        target = head_target(frame, name)
        rows = np.flatnonzero(target.notna().to_numpy())
        if len(rows) == 0:
            continue
        proba = head.predict_proba(X[rows])
        pred = [head.classes[i] for i in proba.argmax(axis=1)]
        out[name] = HeadOutcome(list(target.iloc[rows]), pred, proba, head.classes)
    return out


def responder_ranking(
    bundle: Bundle, X: sp.csr_matrix, frame: pd.DataFrame
) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(model ranking, most-active baseline ranking, truth) for rows naming a responder."""
    model = bundle.expertise
    if model is None or "responder_id" not in frame:
        return [], [], []
    rows = np.flatnonzero(frame["responder_id"].notna().to_numpy())
    intents = None
    if "intent" in bundle.heads and len(rows):
        head = bundle.heads["intent"]
        proba = head.predict_proba(X[rows])
        intents = [dict(zip(head.classes, p, strict=True)) for p in proba]
    brands = frame["brand"] if "brand" in frame else pd.Series(None, index=frame.index)
    everyone = model.responders
    column = {r: j for j, r in enumerate(everyone)}
    scores = model.score(X[rows], everyone, intents)  # all rows at once, then per-brand subsets
    ranked, baseline, truth = [], [], []
    for i, row in enumerate(rows):
        brand = brands.iloc[row]
        cands = model.candidates_for(None if pd.isna(brand) else str(brand))
        s = scores[i, [column[c] for c in cands]]
        ranked.append([cands[j] for j in np.lexsort((cands, -s))])
        baseline.append(sorted(cands, key=lambda r: (-model.counts[r], r)))
        truth.append(str(frame["responder_id"].iloc[row]))
    return ranked, baseline, truth


def responder_report(ranked: list[list[str]], baseline: list[list[str]], truth: list[str]) -> dict:
    top1 = [r[0] if r else "" for r in ranked]
    report = classification_report(truth, top1, None, [])
    report["per_class"] = {}  # hundreds of responders: the table would drown the figures
    report.update(
        {
            "hit_at_1": hit_at_k(ranked, truth, 1),
            "hit_at_3": hit_at_k(ranked, truth, 3),
            "baseline_most_active_hit_at_1": hit_at_k(baseline, truth, 1),
            "baseline_most_active_hit_at_3": hit_at_k(baseline, truth, 3),
        }
    )
    return report


def report_from_outcomes(outcomes: dict[str, HeadOutcome]) -> dict[str, Any]:
    return {
        name: classification_report(o.y_true, o.y_pred, o.proba, o.classes)
        for name, o in outcomes.items()
    }


def evaluate_bundle(
    bundle: Bundle,
    frame: pd.DataFrame,
    X: sp.csr_matrix | None = None,
    outcomes: dict[str, HeadOutcome] | None = None,
) -> dict[str, Any]:
    """`{"heads": {head: report}}` for every head that has labels in `frame`.

    `X` and `outcomes` may pass what the caller already computed (training has both).
    """
    X = bundle.vectorise(frame) if X is None else X
    outcomes = head_outcomes(bundle, X, frame) if outcomes is None else outcomes
    heads = report_from_outcomes(outcomes)
    ranked, baseline, truth = responder_ranking(bundle, X, frame)
    if truth:
        heads["responder"] = responder_report(ranked, baseline, truth)
    ordered = [h for h in (*CLASSIFIER_HEADS, "responder") if h in heads]
    return {"heads": {h: heads[h] for h in ordered}}


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


def abstention_report(router: Router, frame: pd.DataFrame) -> dict[str, Any]:
    """Out-of-scope detection through the service's own path, for rows marked `is_oos`.

    No head is trained on out-of-scope rows; a mention counts as caught when the policy flags
    it `abstain` (a person decides) or recommends no reply. In-scope accuracy counts a mention
    as right only when the intent is right and it was not flagged, as CLINC150's paper does.
    """
    recs = router.recommend(mentions_from_records(frame[["text"]].to_dict("records")))
    oos = np.array([_truthy(v) for v in frame["is_oos"]])
    caught = np.array([r.decision.abstain or r.decision.reply_action == "none" for r in recs])
    truth = head_target(frame, "intent").to_numpy()
    right = np.array([r.intent for r in recs], dtype=object) == truth
    inscope = ~oos
    return {
        "n_in_scope": int(inscope.sum()),
        "n_out_of_scope": int(oos.sum()),
        "in_scope_accuracy": float((right & ~caught)[inscope].mean()) if inscope.any() else None,
        "in_scope_flagged": float(caught[inscope].mean()) if inscope.any() else None,
        "out_of_scope_recall": float(caught[oos].mean()) if oos.any() else None,
    }


def format_report(report: dict[str, Any], per_class: bool = True) -> str:
    """A plain-text table for the terminal."""
    lines = [f"{'head':<12} {'n':>7} {'accuracy':>9} {'macro_f1':>9} {'brier':>7} {'ece':>7}"]
    for name, r in report["heads"].items():
        brier = f"{r['brier']:.3f}" if r.get("brier") is not None else "-"
        ece = f"{r['ece']:.3f}" if r.get("ece") is not None else "-"
        acc, f1 = r["accuracy"], r["macro_f1"]
        lines.append(f"{name:<12} {r['n']:>7} {acc:>9.3f} {f1:>9.3f} {brier:>7} {ece:>7}")
        if "hit_at_1" in r:
            lines.append(
                f"{'':<12} hit@1 {r['hit_at_1']:.3f}  hit@3 {r['hit_at_3']:.3f}   "
                f"(most-active baseline: hit@1 {r['baseline_most_active_hit_at_1']:.3f}, "
                f"hit@3 {r['baseline_most_active_hit_at_3']:.3f})"
            )
    if (a := report.get("abstention")) is not None:
        lines.append(
            f"out-of-scope via abstain/no-reply: in-scope accuracy {a['in_scope_accuracy']:.3f} "
            f"(n={a['n_in_scope']}, {a['in_scope_flagged']:.1%} flagged), out-of-scope recall "
            f"{a['out_of_scope_recall']:.3f} (n={a['n_out_of_scope']})"
        )
    if per_class:
        for name, r in report["heads"].items():
            if not r["per_class"]:
                continue
            lines.append(f"\n{name}: {'class':<28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>6}")
            for label, c in r["per_class"].items():
                lines.append(
                    f"{'':<{len(name) + 2}}{label[:28]:<28} {c['precision']:>6.3f} "
                    f"{c['recall']:>6.3f} {c['f1']:>6.3f} {c['support']:>6}"
                )
    return "\n".join(lines)
