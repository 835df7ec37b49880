"""Errors about whole inputs (as opposed to single bad rows, which go to the rejects file)."""

from __future__ import annotations

from switchboard.errors import UserError


class DataError(UserError):
    """The input cannot be used at all: unreadable file, missing column, bad --map.

    The message names the file and the column so that the user can fix it.
    """
