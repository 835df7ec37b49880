"""Errors about whole inputs (as opposed to single bad rows, which go to the rejects file)."""

from __future__ import annotations

from switchboard.errors import UserError


class DataError(UserError):
    """The input cannot be used at all: unreadable file, missing column, bad --map.

    The message names the file and the column so that the user can fix it.
    """


class NoRowsError(DataError):
    """Every row was rejected, or there were none: nothing to train or evaluate on.

    Exit code 3 ("nothing trainable"), like data without a single label: the files were
    readable, so this is not a bad-input (2) case, and the rejects file says why per row.
    """

    exit_code = 3
