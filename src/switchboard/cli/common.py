"""What every command shares: the user-error type and how messages reach the user."""

from __future__ import annotations

import sys

from switchboard.errors import UserError

# Exit codes (README "The command line"): 0 ok, 1 validate found rejects, 2 bad input,
# 3 nothing trainable, 4 a promotion refused by the gate.
EXIT_REFUSED = 4


class CliError(UserError):
    """A user error: printed without a traceback; `exit_code` is the process's."""

    exit_code = 2


def say(msg: str) -> None:
    """Progress and diagnostics go to stderr, so stdout stays the command's result."""
    print(msg, file=sys.stderr)
