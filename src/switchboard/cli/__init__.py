"""`switchboard`: one command line for training, evaluation, data and the service.

Exit codes: 0 success; 1 `validate` found rejects; 2 bad input (unreadable or undecodable data,
missing column, bad --map, unknown or tampered model, corrupt registry, --force without
--reason, nothing to roll back to); 3 nothing trainable in the data (no labels, or every row
rejected); 4 a promotion refused by the gate (`train --promote`, `models promote`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from switchboard import __version__
from switchboard.cli import batch, models, offline, service
from switchboard.cli.common import say
from switchboard.cli.extras import missing_extra, needs_extra_error
from switchboard.errors import UserError
from switchboard.ml.bundle import BundleIntegrityError
from switchboard.settings import Settings, get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    offline.add_commands(sub)
    models.add_commands(sub)
    service.add_commands(sub)
    batch.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings or get_settings()
    if getattr(args, "host", "") is None:
        args.host = settings.host
    if getattr(args, "port", 0) is None:
        args.port = settings.port
    sub = getattr(args, "models_command", None) or getattr(args, "keys_command", None)
    command = " ".join(filter(None, [args.command, sub]))
    try:
        try:
            return int(args.func(args, settings))
        except ModuleNotFoundError as exc:
            # An optional dependency (pyproject extra) is not installed: say which extra.
            extra = missing_extra(exc)
            if extra is None:
                raise
            raise needs_extra_error(command, extra, [str(exc.name)]) from exc
    except (UserError, BundleIntegrityError) as exc:
        say(f"switchboard {command}: error: {exc}")
        return getattr(exc, "exit_code", 2)


if __name__ == "__main__":
    sys.exit(main())
