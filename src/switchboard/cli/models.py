"""`switchboard models list | show | compare | promote | rollback | challenger | sync`.

The registry (registry.json) decides which version is `champion`; these commands change it only
through `switchboard.training.lifecycle`, which records who/when/why in the alias history and
mirrors the alias to MLflow. list/show/promote/rollback need no MLflow unless versions were
registered there (then they also read or write its aliases).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from switchboard.cli.common import CliError, say
from switchboard.settings import Settings

TOLERANCE_DEFAULT = 0.02  # lifecycle.DEFAULT_TOLERANCE, kept here so --help needs no import


def _registry(settings: Settings) -> Any:
    from switchboard.ml.registry import Registry

    registry = Registry(settings.registry_path)
    registry.versions()  # a corrupt registry reports itself (exit 2) before anything else
    return registry


def _mirror_lines(settings: Settings, registry: Any, check: bool) -> list[str]:
    if not check:
        return ["MLflow mirror: not checked (--no-mlflow)"]
    from switchboard.training.lifecycle import mirror_status

    status = mirror_status(settings, registry)
    if not status["checked"]:
        return [f"MLflow mirror: not checked ({status['why']})"]
    lines = []
    for alias, s in status["aliases"].items():
        if s["ok"]:
            lines.append(f"MLflow mirror: {alias} ok (MLflow version {s['mlflow'] or 'unset'})")
        else:
            lines.append(
                f"MLflow mirror: {alias} DRIFTED: the registry says MLflow version "
                f"{s['registry'] or 'unset'}, MLflow says {s['mlflow'] or 'unset'}; "
                "`switchboard models sync` rewrites MLflow from the registry"
            )
    return lines


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    registry = _registry(settings)
    aliases = registry.aliases()
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    rows = []
    for v in registry.versions():
        entry = registry.get(v)
        meta = _metadata(entry)
        intent = meta.get("metrics", {}).get("intent", {}).get("macro_f1")
        rows.append(
            {
                "version": v,
                "aliases": sorted(by_version.get(v, [])),
                "registered_at": entry.registered_at,
                "heads": sorted(meta.get("heads", {})),
                "intent_macro_f1": intent,
                "data": meta.get("data_files", []),
                "mlflow_version": entry.extra.get("mlflow_version"),
            }
        )
    mirror = _mirror_lines(settings, registry, not args.no_mlflow)
    if args.json:
        print(json.dumps({"versions": rows, "aliases": aliases, "mirror": mirror}))
        return 0
    if not rows:
        print(f"no versions in {registry.index_path}")
    for r in rows:
        f1 = "–" if r["intent_macro_f1"] is None else f"{r['intent_macro_f1']:.3f}"
        tag = f" [{', '.join(r['aliases'])}]" if r["aliases"] else ""
        print(
            f"{r['version']}{tag}  {r['registered_at']}  heads {','.join(r['heads']) or '–'}  "
            f"intent macro-F1 {f1}  data {_files(r['data'])}"
            + (f"  mlflow v{r['mlflow_version']}" if r["mlflow_version"] else "")
        )
    for line in mirror:
        print(line)
    return 0


def _files(paths: list[str]) -> str:
    if len(paths) > 3:
        return f"{paths[0]} and {len(paths) - 1} more files"
    return ", ".join(paths) or "–"


def _metadata(entry: Any) -> dict[str, Any]:
    """metadata.json as written (not verified: list/show only display it)."""
    try:
        return json.loads((entry.path / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    registry = _registry(settings)
    entry = registry.get(args.version)
    aliases = [a for a, v in registry.aliases().items() if v == entry.version]
    print(f"{entry.version}" + (f" [{', '.join(sorted(aliases))}]" if aliases else ""))
    print(f"  bundle      {entry.path}")
    print(f"  manifest    sha256 {entry.manifest_sha256}")
    print(f"  registered  {entry.registered_at}")
    for key in ("run_name", "run_id", "mlflow_version"):
        if key in entry.extra:
            print(f"  {key:<11} {entry.extra[key]}")
    history = [
        e for e in registry.history() if entry.version in (e.get("version"), e.get("previous"))
    ]
    if history:
        print("  alias history:")
        for e in history:
            print("    " + _history_line(e))
    for line in _mirror_lines(settings, registry, not args.no_mlflow):
        print(f"  {line}")
    card = registry.card(entry.version)
    print()
    print(card if card else f"(no model card stored for {entry.version})")
    return 0


def _history_line(e: dict[str, Any]) -> str:
    what = (
        f"{e['alias']} -> {e['version']}"
        if e.get("version")
        else f"{e['alias']} cleared (was {e.get('previous')})"
    )
    why = f": {e['reason']}" if e.get("reason") else ""
    forced = f" [overrode: {'; '.join(e['overridden'])}]" if e.get("overridden") else ""
    return f"{e['at']}  {e['action']:<8} {what} (was {e.get('previous')}) by {e['by']}{why}{forced}"


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    registry = _registry(settings)
    for e in registry.history(args.alias):
        print(_history_line(e))
    return 0


def _data(args: argparse.Namespace, settings: Settings, purpose: str) -> Any:
    from switchboard.cli.offline import _load

    return _load(args, settings, purpose).accepted.reset_index(drop=True)


def _policy(settings: Settings) -> Any:
    from switchboard.routing.policy import load_policy

    return load_policy(settings.policy_file)


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.training.lifecycle import compare, format_compare

    registry = _registry(settings)
    a, b = registry.load(args.a), registry.load(args.b)
    frame = _data(args, settings, "compare on")
    report = compare(a, b, frame, _policy(settings), examples=args.examples)
    if args.json:
        print(json.dumps(report, default=str))
    else:
        print(format_compare(report))
    return 0


def cmd_promote(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.training.lifecycle import promote

    if args.force and not (args.reason or "").strip():
        raise CliError("--force needs --reason TEXT: an override is recorded with who and why")
    registry = _registry(settings)
    registry.get(args.version)  # unknown version: exit 2 before loading any data
    frame = _data(args, settings, "gate on") if args.data else None
    entry, gate, warning = promote(
        settings,
        args.version,
        _policy(settings),
        force=args.force,
        reason=args.reason or "",
        tolerance=args.tolerance,
        data=frame,
    )
    for note in gate.notes:
        say(note)
    if entry is None:
        print(f"{args.version} already is champion; nothing changed")
        return 0
    if entry["action"] == "force":
        say("gate overridden (--force): " + "; ".join(gate.problems))
    print(f"champion: {entry['previous'] or 'none'} -> {entry['version']} ({entry['action']})")
    if warning:
        say(f"warning: {warning}")
    return 0


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.training.lifecycle import rollback

    _registry(settings)
    old, new, warning = rollback(settings, reason=args.reason or "")
    print(f"champion: {old} -> {new} (rollback); reload the service: POST /v1/model/reload")
    if warning:
        say(f"warning: {warning}")
    return 0


def cmd_challenger(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.ml.registry import CHALLENGER
    from switchboard.training.lifecycle import mirror_aliases, set_challenger

    registry = _registry(settings)
    if args.clear:
        registry.clear_alias(CHALLENGER, reason="cleared by hand")
        warning = mirror_aliases(settings, registry)
        print(f"{CHALLENGER} cleared")
    else:
        if not args.version:
            raise CliError("name a version, or pass --clear")
        warning = set_challenger(settings, registry.get(args.version).version)
        print(f"{CHALLENGER}: {args.version}")
    if warning:
        say(f"warning: {warning}")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.training.lifecycle import mirror_aliases

    registry = _registry(settings)
    warning = mirror_aliases(settings, registry)
    if warning:
        raise CliError(warning)
    for line in _mirror_lines(settings, registry, True):
        print(line)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from switchboard.cli.offline import _data_args

    models = sub.add_parser(
        "models", help="list, inspect, compare, promote and roll back registered versions"
    )
    msub = models.add_subparsers(dest="models_command", required=True)

    p = msub.add_parser("list", help="every version, its aliases and headline figures")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-mlflow", action="store_true", help="do not check the MLflow mirror")
    p.set_defaults(func=cmd_list)

    p = msub.add_parser("show", help="one version: registry entry, alias history, model card")
    p.add_argument("version", help="vN or an alias (champion, challenger)")
    p.add_argument("--no-mlflow", action="store_true", help="do not check the MLflow mirror")
    p.set_defaults(func=cmd_show)

    p = msub.add_parser("history", help="every alias change: who, when, why")
    p.add_argument("--alias", help="only this alias (champion, challenger)")
    p.set_defaults(func=cmd_history)

    p = msub.add_parser("compare", help="score two versions on the same data")
    p.add_argument("a", help="vN or alias (the baseline, e.g. champion)")
    p.add_argument("b", help="vN or alias (the candidate)")
    _data_args(p)
    p.add_argument("--examples", type=int, default=10, help="changed decisions shown (10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_compare)

    p = msub.add_parser("promote", help="make a version champion if it passes the gate")
    p.add_argument("version")
    p.add_argument("--force", action="store_true", help="override the gate (needs --reason)")
    p.add_argument("--reason", help="why; recorded in the alias history")
    p.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE_DEFAULT,
        help="how much lower a head's macro-F1 or the decision accuracy may be than the "
        "champion's (default: %(default)s)",
    )
    _data_args(p, required=False)  # --data: gate on these rows instead of stored figures
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_promote)

    p = msub.add_parser("rollback", help="restore the previous champion")
    p.add_argument("--reason", help="why; recorded in the alias history")
    p.set_defaults(func=cmd_rollback)

    p = msub.add_parser("challenger", help="set (or --clear) the version scored in shadow")
    p.add_argument("version", nargs="?")
    p.add_argument("--clear", action="store_true")
    p.set_defaults(func=cmd_challenger)

    p = msub.add_parser("sync", help="rewrite MLflow's aliases from the registry")
    p.set_defaults(func=cmd_sync)
