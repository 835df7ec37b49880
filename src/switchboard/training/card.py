"""The model card: what a version was trained on, how good it is per head and class, how it
decides on real text, and what it cannot do. Markdown, written once at registration.

It is stored three times, identically: beside the bundle in the registry
(`<registry>/cards/vN.md`, checksummed, so `switchboard models show vN` prints it without MLflow),
as the MLflow run's `model_card.md` artifact, and as the registered MLflow version's description.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Below these, a figure is reported but flagged as a known limit.
SMALL_TEST_ROWS = 100
SMALL_CLASS_SUPPORT = 10


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a data file's bytes (of every file, in name order, for a dataset directory)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def data_sources(data_files: Sequence[str]) -> list[dict[str, Any]]:
    """Each training file with its fingerprint and size, as recorded in metadata and the card."""
    out = []
    for name in data_files:
        path = Path(name)
        if not path.exists():
            out.append({"path": name, "sha256": None, "bytes": None})
            continue
        size = (
            sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        out.append({"path": name, "sha256": file_fingerprint(path), "bytes": size})
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table's lines; cells through `_fmt`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]


def build_card(
    metadata: Mapping[str, Any],
    metrics: Mapping[str, Any],
    compatibility: Sequence[str],
    decision: Mapping[str, Any] | None,
    decision_note: str = "",
) -> str:
    """The card as Markdown. `metrics` is the full held-out report (with per-class figures),
    `compatibility` the gate's objections to this version's heads and labels (empty: none)."""
    version = metadata.get("version", "unregistered")
    lines = [
        f"# Switchboard model {version}",
        "",
        f"Trained {metadata.get('trained_at', '?')} under routing policy "
        f"{metadata.get('policy_version') or '?'}.",
        "",
        "## Data",
        "",
        f"{metadata.get('n_rows', '?')} accepted rows, data fingerprint "
        f"`{metadata.get('data_fingerprint', '?')}`, split by {metadata.get('split_rule', '?')}: "
        + ", ".join(f"{k} {v}" for k, v in metadata.get("split_counts", {}).items())
        + ".",
        "",
    ]
    files = [
        [src["path"], f"`{src['sha256'][:16]}`" if src.get("sha256") else "missing", src["bytes"]]
        for src in metadata.get("data_sources", [])
    ]
    lines += _table(["file", "sha256", "bytes"], files)
    lines += ["", "## Held-out figures per head", ""]
    heads = metrics.get("heads", {})
    if not heads:
        lines.append("No test split: no held-out figures.")
    else:
        fields = ("n", "accuracy", "macro_f1", "brier", "ece")
        rows = [[head, *(r.get(f) for f in fields)] for head, r in heads.items()]
        lines += _table(["head", "n", "accuracy", "macro-F1", "Brier", "ECE"], rows)
        for head, r in heads.items():
            per_class = r.get("per_class") or {}
            if per_class:
                fields = ("precision", "recall", "f1", "support")
                rows = [[label, *(c.get(f) for f in fields)] for label, c in per_class.items()]
                lines += ["", f"### {head} per class", ""]
                lines += _table(["class", "precision", "recall", "F1", "support"], rows)
    lines += ["", "## Second opinion (the cascade)", ""]
    second = metadata.get("second_opinion") or {}
    if second.get("heads"):
        rows = [[head, r.get("C"), r.get("val_macro_f1")] for head, r in second["heads"].items()]
        lines.append("Heads on the full MiniLM transformer, asked when the fast heads are unsure:")
        lines += ["", *_table(["head", "C", "validation macro-F1"], rows)]
    else:
        lines.append(f"None: {second.get('skipped', 'not trained')}.")
    lines += ["", "## Decisions on real text (bench/decision.py)", ""]
    if decision:
        fields = ("n", "accuracy", "to_human", "crisis_below_tier_5")
        rows = [[name, *(r[f] for f in fields)] for name, r in decision.items()]
        lines += _table(["set", "n", "accuracy", "to a human", "crisis below tier 5"], rows)
    else:
        lines.append(f"Not measured: {decision_note or 'the benchmark was not run'}.")
    lines += ["", "## Known limits", ""]
    lines += [f"- {item}" for item in known_limits(metadata, metrics, compatibility)]
    return "\n".join(lines) + "\n"


def known_limits(
    metadata: Mapping[str, Any], metrics: Mapping[str, Any], compatibility: Sequence[str]
) -> list[str]:
    limits = [f"Not promotable as it is: {p}" for p in compatibility]
    for head, why in metadata.get("skipped_heads", {}).items():
        limits.append(f"No `{head}` head ({why}).")
    for head, r in metrics.get("heads", {}).items():
        n = r.get("n") or 0
        if n < SMALL_TEST_ROWS:
            limits.append(f"`{head}` is measured on only {n} test rows.")
        thin = [k for k, c in (r.get("per_class") or {}).items() if c.get("support", 0) < 10]
        if thin:
            limits.append(f"`{head}` classes with under {SMALL_CLASS_SUPPORT} test rows: {thin}.")
    synthetic = [s["path"] for s in metadata.get("data_sources", []) if "sample" in s["path"]]
    if synthetic:
        limits.append(f"Partly synthetic training data ({', '.join(synthetic)}).")
    limits.append(
        "Held-out figures come from this data's own test split: they compare versions only "
        "when both were trained on the same data; use `switchboard models compare` otherwise."
    )
    return limits
