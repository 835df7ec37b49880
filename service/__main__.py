"""`python -m service serve [--host H] [--port P] [--seed-roster FILE]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from models.settings import get_settings
from service.app import create_app
from service.roster import load_roster


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the scoring service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--seed-roster", type=Path, help="roster JSON (list of responders)")
    args = parser.parse_args(argv)
    settings = get_settings()
    roster = load_roster(args.seed_roster) if args.seed_roster else ()
    app = create_app(settings, roster)
    print(
        f"Switchboard serving on http://{args.host or settings.host}:{args.port or settings.port}"
        " (OpenAPI at /schema)",
        file=sys.stderr,
    )
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
