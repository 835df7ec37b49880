"""Model lifecycle: the promotion gate, promote, rollback, compare, and the MLflow alias mirror.

The local registry (`switchboard.ml.registry`, registry.json) is the one source of truth for
aliases: the service reads it, and it works without MLflow. The MLflow registered model's
aliases are a mirror, written by `promote` and `rollback` right after the registry changes;
`mirror_status` reads both and names any alias that drifted (`switchboard models list`).

The gate (`gate`) refuses a version that:
- lacks a head the routing policy cannot do without (`intent`), or a policy head the champion
  has (`routing/policy.py` reads intent, sentiment, actionable, reply_action and tier);
- predicts a label the policy does not know (an intent outside policy.toml, a tier outside
  1-5, a reply action or sentiment outside `switchboard.vocabulary`);
- is worse than the champion beyond `tolerance` (default 0.02) in any shared policy head's
  macro-F1,
  or in decision accuracy on the real-text benchmark, or leaves more crisis tweets below tier 5:
  on the held-out figures stored in each bundle's metadata, or on `--data` when given (both
  versions scored on the same rows).
`--force` overrides it only with a `--reason`, recorded in the registry's alias history.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from switchboard.errors import UserError
from switchboard.ml.bundle import METADATA, Bundle, verify_bundle
from switchboard.ml.registry import CHALLENGER, CHAMPION, Registry
from switchboard.routing.policy import Policy
from switchboard.routing.router import Router, mentions_from_records
from switchboard.settings import Settings
from switchboard.vocabulary import REPLY_ACTIONS, SENTIMENTS, TIERS

DEFAULT_TOLERANCE = 0.02
# The heads routing/policy.py reads (`heads.get(...)`), and the one it cannot work without:
# with no intent head every mention falls to the "unknown" defaults (public, tier 3), spam too.
POLICY_HEADS = ("intent", "sentiment", "actionable", "reply_action", "tier")
REQUIRED_HEADS = ("intent",)
MANAGED_ALIASES = (CHAMPION, CHALLENGER)


class PromotionRefused(UserError):
    """The gate refused a promotion; the message lists every reason."""

    exit_code = 4


@dataclass(slots=True)
class GateResult:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    measured_on: str = "stored held-out figures"

    @property
    def passed(self) -> bool:
        return not self.problems


def policy_labels(policy: Policy) -> dict[str, set[str]]:
    """The labels each head may predict for the policy to act on them."""
    config = policy.config
    intents = set(config["intent_defaults"]) - {"unknown"}
    intents |= set(config["no_reply"]["intents"]) | set(config["private"]["intents"])
    intents |= set(config["crisis"]["intents"]) | set(config["crisis"]["spike_intents"])
    return {
        "intent": intents,
        "sentiment": set(SENTIMENTS),
        "actionable": {"True", "False"},
        "reply_action": set(REPLY_ACTIONS),
        "tier": {str(t) for t in TIERS},
    }


def compatibility_problems(
    metadata: Mapping[str, Any], policy: Policy, champion: Mapping[str, Any] | None = None
) -> list[str]:
    """What keeps the routing policy from using this version: missing heads, unknown labels."""
    heads = metadata.get("heads", {})
    problems = []
    for head in REQUIRED_HEADS:
        if head not in heads:
            problems.append(f"no `{head}` head: the policy cannot route without it")
    if champion is not None:
        lost = [h for h in POLICY_HEADS if h in champion.get("heads", {}) and h not in heads]
        lost = [h for h in lost if h not in REQUIRED_HEADS]
        if lost:
            problems.append(f"lacks the policy head(s) {lost} that the champion has")
    known = policy_labels(policy)
    for head, info in heads.items():
        if head not in known:
            continue
        unknown = sorted(set(map(str, info.get("classes", []))) - known[head])
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:8]) + (" …" if len(unknown) > 8 else "")
            problems.append(
                f"`{head}` predicts label(s) the policy does not know ({len(unknown)}): {shown}"
            )
    return problems


def metric_problems(
    challenger: Mapping[str, Any],
    champion: Mapping[str, Any],
    tolerance: float,
    decision: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> list[str]:
    """Policy heads (macro-F1) and decision sets where the challenger is worse beyond
    `tolerance`. The responder ranking is reported (compare, card) but not gated: its
    figures on a small test split swing by more than any sensible tolerance."""
    problems = []
    for head, ours in challenger.items():
        theirs = champion.get(head)
        if head not in POLICY_HEADS:
            continue
        if not theirs or ours.get("macro_f1") is None or theirs.get("macro_f1") is None:
            continue
        if ours["macro_f1"] < theirs["macro_f1"] - tolerance:
            problems.append(
                f"`{head}` macro-F1 {ours['macro_f1']:.3f} is below the champion's "
                f"{theirs['macro_f1']:.3f} by more than {tolerance}"
            )
    if decision is not None:
        ours_d, theirs_d = decision
        for name in sorted(set(ours_d) & set(theirs_d)):
            a, b = ours_d[name], theirs_d[name]
            if a["accuracy"] < b["accuracy"] - tolerance:
                problems.append(
                    f"decision accuracy on {name} {a['accuracy']:.3f} is below the champion's "
                    f"{b['accuracy']:.3f} by more than {tolerance}"
                )
            if a["crisis_below_tier_5"] > b["crisis_below_tier_5"]:
                problems.append(
                    f"{a['crisis_below_tier_5']} crisis mentions below tier 5 on {name} "
                    f"(champion: {b['crisis_below_tier_5']})"
                )
    return problems


def read_metadata(registry: Registry, version: str) -> dict[str, Any]:
    """A registered version's metadata, after checking every file of its bundle (no unpickling)."""
    entry = registry.get(version)
    verify_bundle(entry.path, entry.manifest_sha256)
    return json.loads((entry.path / METADATA).read_text())


def gate(
    registry: Registry,
    version: str,
    policy: Policy,
    tolerance: float = DEFAULT_TOLERANCE,
    data: pd.DataFrame | None = None,
) -> GateResult:
    """Whether `version` may replace the champion; with `data`, both are scored on it."""
    ours = read_metadata(registry, version)
    result = GateResult()
    theirs = read_metadata(registry, CHAMPION) if registry.has(CHAMPION) else None
    result.problems += compatibility_problems(ours, policy, theirs)
    if theirs is None:
        result.notes.append("no champion yet: nothing to beat")
        return result
    if data is not None:
        a = registry.load(version)
        b = registry.load(CHAMPION)
        ours_m, theirs_m = head_metrics(a, data), head_metrics(b, data)
        result.measured_on = f"the same {len(data)} rows of --data"
    else:
        ours_m, theirs_m = ours.get("metrics", {}), theirs.get("metrics", {})
        if ours.get("data_fingerprint") != theirs.get("data_fingerprint"):
            result.notes.append(
                "the stored held-out figures come from different data (fingerprints differ); "
                "pass --data to score both versions on the same rows"
            )
    decision = None
    if ours.get("decision_benchmark") and theirs.get("decision_benchmark"):
        decision = (ours["decision_benchmark"], theirs["decision_benchmark"])
    elif theirs.get("decision_benchmark"):
        result.notes.append(
            f"{version} has no decision-benchmark figures (trained with --no-benchmark or "
            "without ../shared): decisions on real text were not compared"
        )
    result.problems += metric_problems(ours_m, theirs_m, tolerance, decision)
    return result


def promote(
    settings: Settings,
    version: str,
    policy: Policy,
    *,
    force: bool = False,
    reason: str = "",
    tolerance: float = DEFAULT_TOLERANCE,
    data: pd.DataFrame | None = None,
    by: str | None = None,
) -> tuple[dict[str, Any] | None, GateResult, str | None]:
    """Gate, then point `champion` at `version` and mirror it to MLflow.

    Returns (history entry or None when it already was champion, gate result, mirror warning).
    Raises `PromotionRefused` (exit 4) when the gate objects and `force` is not given.
    """
    registry = Registry(settings.registry_path)
    version = registry.get(version).version
    if registry.has(CHAMPION) and registry.get(CHAMPION).version == version:
        return None, GateResult(notes=[f"{version} already is {CHAMPION}"]), None
    if force and not reason.strip():
        raise UserError("--force needs --reason TEXT: an override is recorded with why")
    result = gate(registry, version, policy, tolerance, data)
    if not result.passed and not force:
        raise PromotionRefused(
            f"{version} not promoted ({result.measured_on}, tolerance {tolerance}): "
            + "; ".join(result.problems)
            + ". Pass --force --reason TEXT to promote anyway"
        )
    first = not registry.has(CHAMPION)
    action = "first" if first else ("force" if result.problems else "promote")
    entry = registry.set_alias(
        CHAMPION,
        version,
        action=action,
        by=by,
        reason=reason or ("first version: nothing to beat" if first else "passed the gate"),
        overridden=result.problems,
        tolerance=tolerance,
        measured_on=result.measured_on,
    )
    if registry.aliases().get(CHALLENGER) == version:
        registry.clear_alias(CHALLENGER, by=by, reason=f"promoted to {CHAMPION}")
    return entry, result, mirror_aliases(settings, registry)


def rollback(
    settings: Settings, *, by: str | None = None, reason: str = ""
) -> tuple[str, str, str | None]:
    """Restore the previous champion; returns (from, to, mirror warning)."""
    registry = Registry(settings.registry_path)
    current = registry.get(CHAMPION).version
    restored = registry.rollback(CHAMPION, by=by, reason=reason)
    return current, restored, mirror_aliases(settings, registry)


def set_challenger(settings: Settings, version: str, *, by: str | None = None) -> str | None:
    """Point `challenger` at `version` (scored in shadow by the service, never answering)."""
    registry = Registry(settings.registry_path)
    registry.set_alias(CHALLENGER, version, by=by, reason="newest registered version")
    return mirror_aliases(settings, registry)


def _tracked(registry: Registry) -> bool:
    """Whether any version was registered in MLflow: only then is there a mirror to keep."""
    return any("mlflow_version" in registry.get(v).extra for v in registry.versions())


def _expected_mirror(registry: Registry) -> dict[str, str | None]:
    aliases = registry.aliases()
    return {
        alias: registry.get(aliases[alias]).extra.get("mlflow_version")
        if alias in aliases
        else None
        for alias in MANAGED_ALIASES
    }


def mirror_aliases(settings: Settings, registry: Registry) -> str | None:
    """Make MLflow's aliases match the registry's; a warning when MLflow could not be updated."""
    if not _tracked(registry):
        return None
    try:
        from switchboard.training.tracking import set_aliases

        set_aliases(settings, _expected_mirror(registry))
    except Exception as exc:  # MLflow down or misconfigured: the registry still decided
        return (
            f"the MLflow alias mirror was not updated ({type(exc).__name__}: {exc}); "
            "`switchboard models list` shows the drift and `models sync` repairs it"
        )
    return None


def mirror_status(settings: Settings, registry: Registry) -> dict[str, Any]:
    """Per managed alias: the registry's MLflow version, MLflow's, and whether they agree."""
    if not _tracked(registry):
        return {"checked": False, "why": "no version is registered in MLflow", "aliases": {}}
    try:
        from switchboard.training.tracking import read_aliases

        actual = read_aliases(settings, MANAGED_ALIASES)
    except Exception as exc:
        return {"checked": False, "why": f"MLflow unreadable ({exc})", "aliases": {}}
    expected = _expected_mirror(registry)
    return {
        "checked": True,
        "aliases": {
            a: {
                "registry": expected[a],
                "mlflow": actual.get(a),
                "ok": expected[a] == actual.get(a),
            }
            for a in MANAGED_ALIASES
        },
    }


def head_metrics(bundle: Bundle, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each head's figures on `frame` (the rows it has labels for)."""
    from switchboard.training.evaluate import evaluate_bundle

    frame = frame.reset_index(drop=True)
    return evaluate_bundle(bundle, frame, bundle.vectorise(frame))["heads"]


# --- the decision benchmark (bench/decision.py), when the repository and ../shared are here ---


def _bench_modules() -> tuple[Any, Any] | str:
    """bench.decision and bench.decision_data, or why they cannot be used."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "bench" / "decision.py").is_file():
        return "bench/decision.py is not here (an installed package, not the repository)"
    if str(root) not in sys.path:  # the `switchboard` script does not run from the repo root
        sys.path.append(str(root))
    try:
        import bench.decision as decision
        import bench.decision_data as decision_data
    except ImportError as exc:
        return f"bench.decision does not import ({exc})"
    return decision, decision_data


@cache
def _decision_sets() -> dict[str, pd.DataFrame] | str:
    mods = _bench_modules()
    if isinstance(mods, str):
        return mods
    _, data = mods
    try:
        return {
            "development": data.load_decision_benchmark(data.SHARED_DEFAULT, data.LABELS_PATH),
            "held-out": data.load_decision_benchmark(data.SHARED_DEFAULT, data.HOLDOUT_PATH),
        }
    except (FileNotFoundError, ValueError) as exc:
        return f"decision benchmark unavailable: {exc}"


def decision_benchmark(router: Router) -> tuple[dict[str, Any] | None, str]:
    """Decision accuracy per benchmark set through `Router.recommend` (bench.decision.score),
    or (None, why not) without ../shared."""
    sets = _decision_sets()
    if isinstance(sets, str):
        return None, sets
    mods = _bench_modules()
    assert not isinstance(mods, str)
    out = {}
    for name, rows in sets.items():
        r = mods[0].score(router, rows)
        out[name] = {k: r[k] for k in ("n", "accuracy", "to_human", "crisis_below_tier_5")}
    return out, ""


def compare(
    a: Bundle, b: Bundle, frame: pd.DataFrame, policy: Policy, examples: int = 5
) -> dict[str, Any]:
    """Both versions on the same rows: each head's figures, the decision benchmark, and the
    mentions whose reply or tier would change (with examples), all through `Router.recommend`."""
    frame = frame.reset_index(drop=True)
    routers = [Router(a, policy), Router(b, policy)]
    mentions = mentions_from_records(frame.to_dict("records"))
    recs = [r.recommend(mentions) for r in routers]
    changed = []
    for m, x, y in zip(mentions, recs[0], recs[1], strict=True):
        dx, dy = x.decision, y.decision
        if dx.reply_action != dy.reply_action or dx.tier != dy.tier:
            changed.append(
                {
                    "id": m.id,
                    "text": m.text if len(m.text) <= 90 else m.text[:87] + "...",
                    a.version: f"{dx.reply_action}/tier {dx.tier} ({x.intent})",
                    b.version: f"{dy.reply_action}/tier {dy.tier} ({y.intent})",
                }
            )
    reply_changed = sum(
        x.decision.reply_action != y.decision.reply_action
        for x, y in zip(recs[0], recs[1], strict=True)
    )
    tier_changed = sum(x.decision.tier != y.decision.tier for x, y in zip(*recs, strict=True))
    decisions = [decision_benchmark(r) for r in routers]
    return {
        "versions": [a.version, b.version],
        "n": len(frame),
        "heads": {a.version: head_metrics(a, frame), b.version: head_metrics(b, frame)},
        "changed": {
            "share": round(len(changed) / len(frame), 4) if len(frame) else 0.0,
            "n": len(changed),
            "reply": reply_changed,
            "tier": tier_changed,
            "examples": changed[:examples],
        },
        "decision_benchmark": {a.version: decisions[0][0], b.version: decisions[1][0]}
        if decisions[0][0] is not None
        else None,
        "decision_note": decisions[0][1],
    }


def format_compare(report: Mapping[str, Any]) -> str:
    va, vb = report["versions"]
    lines = [f"{va} vs {vb} on {report['n']} rows", ""]
    heads_a, heads_b = report["heads"][va], report["heads"][vb]
    lines.append(f"{'head':<14}{'metric':<10}{va:>10}{vb:>10}{'Δ':>9}")
    for head in sorted(set(heads_a) | set(heads_b)):
        for metric in ("macro_f1", "accuracy"):
            x = heads_a.get(head, {}).get(metric)
            y = heads_b.get(head, {}).get(metric)
            delta = f"{y - x:+.3f}" if x is not None and y is not None else ""
            lines.append(
                f"{head:<14}{metric:<10}{_num(x):>10}{_num(y):>10}{delta:>9}"
                + ("" if head in heads_b else f"   (no {head} head in {vb})")
                + ("" if head in heads_a else f"   (no {head} head in {va})")
            )
    lines.append("")
    bench = report["decision_benchmark"]
    if bench:
        lines.append("decision benchmark (reply and tier against the rubric):")
        for name in bench[va]:
            x, y = bench[va][name], bench[vb][name]
            lines.append(
                f"  {name:<12} accuracy {x['accuracy']:.3f} -> {y['accuracy']:.3f}, "
                f"to a human {x['to_human']:.3f} -> {y['to_human']:.3f}, crisis below tier 5 "
                f"{x['crisis_below_tier_5']} -> {y['crisis_below_tier_5']}"
            )
    else:
        lines.append(f"decision benchmark skipped: {report['decision_note']}")
    c = report["changed"]
    lines += [
        "",
        f"decision changes: {c['n']} of {report['n']} mentions ({c['share']:.1%}): "
        f"reply {c['reply']}, tier {c['tier']}",
    ]
    for ex in c["examples"]:
        lines.append(f"  {ex['id']}: {ex[va]} -> {ex[vb]}  {ex['text']!r}")
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def summarise_problems(problems: Sequence[str]) -> str:
    return "; ".join(problems) if problems else "none"
