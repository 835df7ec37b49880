"""The registry's alias history: who/when/why for every change, and rollback from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.ml.registry import (
    CHALLENGER,
    CHAMPION,
    CorruptRegistryError,
    Registry,
    RegistryError,
)


def _registry(tmp_path: Path, versions: int = 3, **index: object) -> Registry:
    """An index with `versions` entries (no bundles needed for alias bookkeeping)."""
    entry = {"path": "bundles/x", "manifest_sha256": "0" * 64, "registered_at": "2026-01-01"}
    body = {"versions": {f"v{i}": dict(entry) for i in range(1, versions + 1)}, "aliases": {}}
    body.update(index)
    registry = Registry(tmp_path)
    registry.index_path.write_text(json.dumps(body))
    return registry


def test_every_alias_change_records_who_when_and_why(tmp_path: Path) -> None:
    """Check set_alias appends {at, alias, version, previous, action, by, reason}."""
    registry = _registry(tmp_path)
    registry.set_alias(CHAMPION, "v1", action="first", by="ci", reason="nothing to beat")
    registry.set_alias(CHAMPION, "v2", action="promote", by="alice", reason="better", extra=1)
    last = registry.history(CHAMPION)[-1]
    assert {k: last[k] for k in ("alias", "version", "previous", "action", "by", "reason")} == {
        "alias": CHAMPION,
        "version": "v2",
        "previous": "v1",
        "action": "promote",
        "by": "alice",
        "reason": "better",
    }
    assert last["extra"] == 1 and last["at"].endswith("+00:00")
    assert registry.history()[0]["by"] == "ci"


def test_old_style_set_alias_still_works_and_is_recorded(tmp_path: Path) -> None:
    """Check that `set_alias(alias, version)` (the service fixtures' call) keeps working."""
    registry = _registry(tmp_path)
    registry.set_alias(CHAMPION, "v1")
    assert registry.get(CHAMPION).version == "v1"
    assert registry.history()[0]["action"] == "set" and registry.history()[0]["by"]


def test_rollback_pops_the_lineage_and_ignores_other_aliases(tmp_path: Path) -> None:
    """Check rollback per alias: challenger changes never count as champion history."""
    registry = _registry(tmp_path)
    registry.set_alias(CHAMPION, "v1", action="first")
    registry.set_alias(CHALLENGER, "v3")
    registry.set_alias(CHAMPION, "v2", action="promote")
    assert registry.lineage(CHAMPION) == ["v1", "v2"]
    assert registry.rollback(CHAMPION, reason="oops") == "v1"
    assert registry.get(CHAMPION).version == "v1" and registry.get(CHALLENGER).version == "v3"
    with pytest.raises(RegistryError, match="champion has only v1"):
        registry.rollback(CHAMPION)


def test_registry_without_history_has_nothing_to_roll_back_to(tmp_path: Path) -> None:
    """Check a registry written before the history existed: its champion stands alone."""
    registry = _registry(tmp_path, aliases={CHAMPION: "v2"})
    assert registry.lineage(CHAMPION) == ["v2"]
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        registry.rollback()


def test_clear_alias_is_recorded(tmp_path: Path) -> None:
    """Check that removing the challenger alias leaves a history entry."""
    registry = _registry(tmp_path)
    registry.set_alias(CHALLENGER, "v2")
    registry.clear_alias(CHALLENGER, reason="promoted")
    assert not registry.has(CHALLENGER)
    assert registry.history()[-1]["action"] == "clear"


def test_a_broken_history_is_a_corrupt_registry(tmp_path: Path) -> None:
    """Check that a history that is not a list of alias changes is reported by name."""
    registry = _registry(tmp_path, history=[{"alias": "champion", "action": "dance"}])
    with pytest.raises(CorruptRegistryError, match='"history" is not a list'):
        registry.versions()
