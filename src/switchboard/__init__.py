"""Switchboard: the routing brain for social customer care.

Sub-packages, imported one way only (tests/unit/test_imports.py checks it):
`service -> routing -> ml -> data` and `training -> routing, ml, data`; `cli` sits on top.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("switchboard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
