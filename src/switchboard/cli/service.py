"""`python -m service serve [--host H] [--port P] [--seed-roster FILE]`
`python -m service keys create --scopes score,roster`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.auth import SCOPES, any_db_keys, create_key
from switchboard.service.db import make_engine, migrate
from switchboard.service.roster import load_roster
from switchboard.settings import Settings, get_settings


def prepare(settings: Settings, seed_roster: Path | None) -> None:
    """Migrate, seed an empty roster, and make a demo key when no key exists at all."""
    engine = make_engine(settings.db_url)
    migrate(engine)
    if seed_roster is not None:
        added = store.seed_roster(engine, load_roster(seed_roster))
        if added:
            print(f"seeded the roster with {added} responders from {seed_roster}", file=sys.stderr)
    if not settings.api_keys and not any_db_keys(engine):
        key = create_key(engine, frozenset(SCOPES))
        print(
            f"Demo API key (all scopes): {key}\n  e.g. curl -H 'Authorization: Bearer {key}' "
            f'-H \'content-type: application/json\' -d \'{{"id":"1","text":"where is my '
            f"order?\"}}' http://{settings.host}:{settings.port}/v1/score",
            file=sys.stderr,
        )
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the scoring service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--seed-roster", type=Path, help="roster JSON, used if the roster is empty")
    keys = sub.add_parser("keys", help="API keys")
    keys.add_argument("action", choices=["create"])
    keys.add_argument("--scopes", required=True, help=f"comma-separated from {list(SCOPES)}")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "keys":
        engine = make_engine(settings.db_url)
        migrate(engine)
        try:
            print(create_key(engine, frozenset(s.strip() for s in args.scopes.split(","))))
        except ValueError as exc:
            print(f"python -m service keys: error: {exc}", file=sys.stderr)
            return 2
        return 0
    prepare(settings, args.seed_roster)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Switchboard on http://{host}:{port} (OpenAPI at /schema)", file=sys.stderr)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())
    return 0


if __name__ == "__main__":
    sys.exit(main())
