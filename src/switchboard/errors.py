"""The root of every error a user can fix (bad data, a missing model, a wrong argument).

Each layer raises its own subclass; the command line turns any of them into a message and the
subclass's `exit_code`, without a traceback and without importing the layer that raised it.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked for cannot be done as asked; the message says why."""

    exit_code = 2
