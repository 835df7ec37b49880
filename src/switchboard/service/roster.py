"""Reading a roster file to seed an empty roster table (`python -m service serve --seed-roster`).

The JSON is a list of `switchboard.routing.types.Responder`-shaped objects (see
datasets/sample/roster.json). Seeded responders count as online unless the file says otherwise,
so that a demo answers with people; in production the SMMS keeps presence current through
`PUT /v1/responders/{id}/presence`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from switchboard.routing.types import Responder

TUPLE_FIELDS = ("skills", "languages", "tiers")


def responder_from_dict(d: dict[str, Any]) -> Responder:
    fields = {k: tuple(v) if k in TUPLE_FIELDS else v for k, v in d.items()}
    fields.setdefault("online", True)
    return Responder(**fields)


def load_roster(path: Path) -> tuple[Responder, ...]:
    """Parse a roster file; a bad entry is an error naming its position."""
    items = json.loads(path.read_text())
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of responders")
    roster = []
    for i, item in enumerate(items):
        try:
            roster.append(responder_from_dict(item))
        except TypeError as exc:
            raise ValueError(f"{path}: responder #{i}: {exc}") from exc
    return tuple(roster)
