"""`switchboard serve | keys | export-feedback | quickstart`: the service side's commands.

`quickstart` may train (on the shipped sample) and then *replaces its process* with
`switchboard serve`, so the service never carries the training stack in memory.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.cli.common import CliError, say
from switchboard.cli.extras import require_extra
from switchboard.data.shipped import (
    SAMPLE_ROSTER,
    default_training_files,
    load_default_training,
)
from switchboard.settings import Settings

log = logging.getLogger("switchboard.serve")
APP_FACTORY = "switchboard.service.app:create_app"

if TYPE_CHECKING:  # the service stack is imported by the commands that use it, not by --help
    from sqlalchemy import Engine

    from switchboard.service.auth import KeyInfo


CURL = (
    "  curl -H \"Authorization: Bearer $KEY\" -H 'content-type: application/json' \\\n"
    '       -d \'{{"id":"1","text":"where is my order?"}}\' {url}/v1/score'
)


def own_command() -> str:
    """How a shell runs this switchboard: `switchboard` when PATH finds this very script, else
    its path (`.venv/bin/switchboard` after `make run`, whose venv is not activated)."""
    script = Path(sys.executable).with_name("switchboard")
    if not script.exists():
        return "switchboard"
    found = shutil.which("switchboard")
    if found and Path(found).resolve() == script.resolve():
        return "switchboard"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else str(script)


def key_banner(url: str, new_key: str | None, env_keys: bool, command: str = "switchboard") -> str:
    """What a start prints about keys: the demo key it just made (the only time it can be
    shown: only its hash is stored), else how to make one with `command`; and a curl line for
    `url`, the address actually served."""
    if new_key is not None:
        head = f"Demo API key (all scopes), shown once: {new_key}\n  export KEY={new_key}"
    elif env_keys:
        head = (
            "API keys come from SWITCHBOARD_API_KEYS; set KEY to one of them:\n"
            "  export KEY=<a key with the score scope>"
        )
    else:
        head = (
            "API keys were made here before; only their hashes are stored, so none can be "
            "shown again.\n"
            f"  Make a new one: export KEY=$({command} keys create --scopes score)\n"
            f"  (see them: {command} keys list; withdraw one: {command} keys revoke ID)"
        )
    return head + "\n" + CURL.format(url=url)


def client_url(host: str, port: int) -> str:
    """The address a client on this machine uses: a wildcard bind (0.0.0.0, ::) is no address
    to send a request to, so the curl example names the loopback instead."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ready_schema(settings: Settings, engine: Engine) -> None:
    """Migrate (under the migration lock), or with `SWITCHBOARD_MIGRATE_ON_START=false` only
    check that the database is at this code's revision, as the service's start-up does."""
    from switchboard.service.db import SchemaBehind, prepare_schema

    try:
        prepare_schema(engine, settings.migrate_on_start)
    except SchemaBehind as exc:
        raise CliError(str(exc)) from exc


class SchemaNotCurrent(CliError):
    """`migrate --check` on a database that is not at the code's schema revision."""

    exit_code = 1


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Migrations as their own step: a deployment runs this once, then starts N replicas
    with SWITCHBOARD_MIGRATE_ON_START=false (or lets them take turns under the lock)."""
    from switchboard.service.db import make_engine, migrate, schema_revisions

    engine = make_engine(settings.db_url)
    try:
        before, head = schema_revisions(engine)
        if args.check:
            if before != head:
                raise SchemaNotCurrent(
                    f"database at schema revision {before or 'none (empty)'}, code at {head}: "
                    "run `switchboard migrate`"
                )
            print(f"database at schema revision {head}, as the code expects")
            return 0
        migrate(engine)
        after, _ = schema_revisions(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"database already at schema revision {after}")
    else:
        print(f"database migrated from {before or 'empty'} to schema revision {after}")
    return 0


def prepare(settings: Settings, seed_roster: Path | None, url: str) -> None:
    """Migrate, seed an empty roster, and make a demo key when no key exists at all; say how
    to call the service at `url` either way."""
    from switchboard.service import store
    from switchboard.service.auth import SCOPES, any_db_keys, create_key
    from switchboard.service.db import make_engine
    from switchboard.service.roster import load_roster

    engine = make_engine(settings.db_url)
    ready_schema(settings, engine)
    if seed_roster is not None:
        added = store.seed_roster(engine, load_roster(seed_roster))
        if added:
            log.info("seeded the roster with %d responders from %s", added, seed_roster)
    new_key = None
    # The demo key is printed for the person at the terminal, never logged: logs are shipped.
    if not settings.api_keys and not any_db_keys(engine):
        new_key = create_key(engine, frozenset(SCOPES))
    say(key_banner(url, new_key, bool(settings.api_keys), own_command()))
    engine.dispose()


def empty_metrics_dir(directory: Path) -> None:
    """Make the multiprocess metrics directory and drop the files of an earlier run (before any
    worker starts: a worker must not delete what its siblings wrote), then point
    prometheus_client at it; the workers inherit the variable. prometheus_client reads it when
    it is first imported, so nothing here may import it (service.metrics does)."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging.config

    from switchboard.service.logs import log_config

    if args.workers < 1:
        raise CliError(f"--workers must be 1 or more, got {args.workers}")
    try:
        config = log_config(settings.log_format, settings.log_level)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    logging.config.dictConfig(config)  # Alembic's lines in prepare() are JSON too
    if settings.metrics_dir:  # before prometheus_client is imported (service.app imports it)
        empty_metrics_dir(Path(settings.metrics_dir))

    import uvicorn

    from switchboard.service.app import create_app

    prepare(settings, args.seed_roster, client_url(args.host, args.port))
    log.info("Switchboard on http://%s:%s (OpenAPI at /schema)", args.host, args.port)
    common = {"host": args.host, "port": args.port, "log_config": config}
    if args.workers == 1:
        uvicorn.run(create_app(settings), **common)
        return 0
    # Each worker is a replica of the others on one database: they must share author history
    # (settings.shared_author_history) or a repeat rager is missed when his mentions alternate.
    os.environ["SWITCHBOARD_SHARED_AUTHOR_HISTORY"] = "true"
    if not settings.metrics_dir:
        log.warning(
            "%d workers without SWITCHBOARD_METRICS_DIR: /metrics counts only the worker "
            "that answers the scrape",
            args.workers,
        )
    # Each worker builds its own app from the SWITCHBOARD_* environment (an import string is
    # what uvicorn can hand to the processes it spawns).
    uvicorn.run(APP_FACTORY, factory=True, workers=args.workers, **common)
    return 0


class UnknownKey(CliError):
    """`keys revoke` of an id no stored key has."""

    exit_code = 1


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.service.auth import create_key, list_keys, parse_keys, revoke_key
    from switchboard.service.db import make_engine

    engine = make_engine(settings.db_url)
    try:
        ready_schema(settings, engine)
        if args.keys_command == "create":
            scopes = frozenset(s.strip() for s in args.scopes.split(","))
            print(create_key(engine, scopes, args.name))
        elif args.keys_command == "list":
            print(format_keys(list_keys(engine, parse_keys(settings.api_keys))))
        else:
            when = revoke_key(engine, args.id)
            if when is None:
                raise UnknownKey(
                    f"no stored API key has id {args.id} (see `switchboard keys list`)"
                )
            print(f"key {args.id} revoked at {when:%Y-%m-%d %H:%M:%S} UTC; the service refuses it")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    return 0


def format_keys(keys: list[KeyInfo]) -> str:
    """One line per key: id, owner, scopes, created, status, hash prefix; never the key."""
    rows = [("id", "name", "scopes", "created (UTC)", "status", "sha256")]
    for k in keys:
        created = f"{k.created_at:%Y-%m-%d %H:%M}" if k.created_at else "-"
        status = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        rows.append(
            (
                str(k.id) if k.id is not None else "env",
                k.identity,
                ",".join(sorted(k.scopes)),
                created,
                status,
                k.hash_prefix,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if any(k.id is None for k in keys):
        lines.append(
            "env: from SWITCHBOARD_API_KEYS; `keys revoke` cannot withdraw these: remove them "
            "from the variable and restart the service"
        )
    return "\n".join(lines)


def _since(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"--since must be a date like 2026-11-01, got {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_export_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.service.db import make_engine
    from switchboard.service.feedback import export, sidecar

    url = settings.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise CliError(f"no service database at {url.removeprefix('sqlite:///')}")
    since = _since(args.since)
    engine = make_engine(url)
    try:
        ready_schema(settings, engine)
        report = export(engine, since, args.out)
    finally:
        engine.dispose()
    print(
        f"exported {report.rows} labelled cases ({report.reviewed} reviewed, "
        f"{report.outcome_only} from outcomes only) to {args.out}; manifest {sidecar(args.out)}"
    )
    return 0


def cmd_quickstart(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.ml.registry import CHAMPION, Registry
    from switchboard.training.fit import TrainConfig
    from switchboard.training.pipeline import train_and_register

    registry = Registry(settings.registry_path)
    if registry.has(CHAMPION):
        say(f"champion {registry.get(CHAMPION).version} found in {registry.index_path}")
    else:
        require_extra("quickstart", "train")
        files = default_training_files()
        say(f"no champion model yet: training on the shipped data ({len(files)} files)")
        report = load_default_training(settings.data_dir / "rejects" / "shipped.csv")
        say(report.summary())
        # No champion: the new version has nothing to beat, so it is promoted unless it cannot
        # serve the policy at all (the gate's compatibility check).
        outcome = train_and_register(
            report.accepted,
            settings,
            [str(f) for f in files],
            config=TrainConfig(second_opinion=True),
        )
        if not outcome.promoted:
            raise CliError(f"trained {outcome.version} but: " + "; ".join(outcome.refused))
        say(f"trained and promoted {outcome.version}")
    if args.no_serve:
        return 0
    return _exec_serve(args, SAMPLE_ROSTER)


def stop_worker_processes() -> None:
    """End joblib's worker processes, which it keeps for reuse after training: across the exec
    into the server they would live on beside it, and outlive it when it is killed."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True, kill_workers=True)


def _exec_serve(args: argparse.Namespace, seed_roster: Path) -> int:
    """Replace this process with `switchboard serve`: the training side stays behind."""
    stop_worker_processes()
    argv = [sys.executable, "-m", "switchboard", "serve", "--host", args.host]
    argv += ["--port", str(args.port), "--seed-roster", str(seed_roster)]
    os.execv(argv[0], argv)
    return 0  # pragma: no cover


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-feedback", help="reviewed predictions and outcomes as labelled cases (CSV)"
    )
    p.add_argument("--since", required=True, help="verdicts/outcomes recorded from this date on")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_export_feedback)

    p = sub.add_parser("migrate", help="bring the service database to this code's schema")
    p.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 unless at the code's schema"
    )
    p.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys for the service: create, list, revoke")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    p = keys_sub.add_parser("create", help="print a new key once (only its hash is stored)")
    p.add_argument("--scopes", required=True, help="comma-separated: score, roster, review, admin")
    p.add_argument(
        "--name", help="the key's owner, e.g. alice: verdicts are recorded under it (review)"
    )
    keys_sub.add_parser("list", help="id, owner, scopes, created, active/revoked; never the key")
    p = keys_sub.add_parser("revoke", help="withdraw a stored key; the service refuses it at once")
    p.add_argument("id", type=int, help="the key's id, from `switchboard keys list`")
    keys.set_defaults(func=cmd_keys)

    for name, func, text in (
        ("serve", cmd_serve, "run the scoring service"),
        ("quickstart", cmd_quickstart, "train on the shipped sample if needed, then serve"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        p.set_defaults(func=func)
    sub.choices["serve"].add_argument(
        "--seed-roster", type=Path, help="roster JSON, used if the roster is empty"
    )
    sub.choices["serve"].add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default 1); set SWITCHBOARD_METRICS_DIR with more",
    )
    sub.choices["quickstart"].add_argument("--no-serve", action="store_true")
