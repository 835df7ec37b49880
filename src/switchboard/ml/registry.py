"""The bundle registry on disk: numbered versions, their manifest checksums, and aliases.

This file is the one source of truth for which version is `champion` (and `challenger`). MLflow's
model registry records every version too, and its aliases are a *mirror* written by the same
promote/rollback call (`switchboard.training.lifecycle`); `switchboard models list` flags a mirror
that drifted. The service reads only this file: it needs no MLflow import at start-up, and it
pins each version's manifest checksum, which is what `load_bundle` checks before unpickling
anything.

    <registry>/registry.json        {"versions": {...}, "aliases": {"champion": "v3"},
                                     "history": [{"at", "alias", "version", "previous",
                                                  "action", "by", "reason", ...}, ...]}
    <registry>/bundles/v3/          a bundle directory (see ml/bundle.py)
    <registry>/cards/v3.md          the version's model card (its SHA-256 in the version entry)
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard.errors import UserError
from switchboard.ml.bundle import Bundle, load_bundle, save_bundle

CHAMPION = "champion"
# The candidate the service may score in shadow beside the champion (never answers with it).
CHALLENGER = "challenger"
_ENTRY_FIELDS = ("path", "manifest_sha256", "registered_at")
# What an alias history entry records; `action` is one of ACTIONS.
ACTIONS = ("promote", "force", "first", "rollback", "set", "clear")
_FIX = "restore it from a backup, or move it aside and run `switchboard train` to register anew"


class RegistryError(UserError):
    """The registry cannot give what was asked; the message names the file and what is wrong.

    A `UserError` (exit code 2) so the command line reports it in one line; the service turns it
    into a refused reload (409) or a 503 from `/ready`, never a 500.
    """

    exit_code = 2


class UnknownVersionError(RegistryError):
    """The registry is sound but has no such version or alias."""


class CorruptRegistryError(RegistryError):
    """`registry.json` is unreadable, not JSON, or not the shape this module writes.

    Kept apart from `UnknownVersionError` so that "no champion yet" (train one) is never
    confused with "the index is broken" (training on top of it would lose the old versions).
    """


@dataclass(frozen=True, slots=True)
class RegisteredVersion:
    version: str
    path: Path
    manifest_sha256: str
    registered_at: str
    extra: dict[str, Any]


class Registry:
    """A JSON index of bundle directories; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def index_path(self) -> Path:
        return self.root / "registry.json"

    def _read(self) -> dict[str, Any]:
        """The index, checked: a broken file raises `CorruptRegistryError`, never a traceback."""
        try:
            if not self.index_path.is_file():
                return {"versions": {}, "aliases": {}}
            raw = self.index_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptRegistryError(
                f"{self.index_path}: cannot be read ({exc}); {_FIX}"
            ) from exc
        try:
            index = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CorruptRegistryError(
                f"{self.index_path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); {_FIX}"
            ) from exc
        problem = _shape_problem(index)
        if problem:
            raise CorruptRegistryError(f"{self.index_path}: {problem}; {_FIX}")
        return index

    def _write(self, index: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".registry-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(index, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.index_path)

    def next_version(self) -> str:
        numbers = [int(v[1:]) for v in self._read()["versions"] if v[1:].isdigit()]
        return f"v{max(numbers, default=0) + 1}"

    def register(self, bundle: Bundle, version: str, **extra: Any) -> RegisteredVersion:
        """Save the bundle under `version` and record its manifest checksum."""
        self._read()  # a corrupt index refuses before a bundle is written beside it
        target = self.root / "bundles" / version
        if target.exists():
            raise RegistryError(f"version {version} already exists at {target}")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".staging-"))
        try:
            sha = save_bundle(bundle, staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        index = self._read()
        entry = {
            "path": str(target.relative_to(self.root)),
            "manifest_sha256": sha,
            "registered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **extra,
        }
        index["versions"][version] = entry
        self._write(index)
        return self.get(version)

    def annotate(self, version: str, **extra: Any) -> None:
        """Add facts learned after registration (e.g. the MLflow run and model version)."""
        index = self._read()
        if version not in index["versions"]:
            raise UnknownVersionError(f"no version {version} in {self.index_path}")
        index["versions"][version].update(extra)
        self._write(index)

    def set_alias(
        self,
        alias: str,
        version: str,
        *,
        action: str = "set",
        by: str | None = None,
        reason: str = "",
        **details: Any,
    ) -> dict[str, Any]:
        """Point `alias` at `version` and append who/when/why to the alias history."""
        index = self._read()
        if version not in index["versions"]:
            raise UnknownVersionError(f"no version {version} in {self.index_path}")
        entry = _history_entry(alias, version, index["aliases"].get(alias), action, by, reason)
        entry.update(details)
        index["aliases"][alias] = version
        index.setdefault("history", []).append(entry)
        self._write(index)
        return entry

    def clear_alias(self, alias: str, *, by: str | None = None, reason: str = "") -> None:
        """Remove `alias` (recorded in the history); a missing alias is left as it is."""
        index = self._read()
        previous = index["aliases"].pop(alias, None)
        if previous is None:
            return
        index.setdefault("history", []).append(
            _history_entry(alias, None, previous, "clear", by, reason)
        )
        self._write(index)

    def aliases(self) -> dict[str, str]:
        return dict(self._read()["aliases"])

    def history(self, alias: str | None = None) -> list[dict[str, Any]]:
        """Alias changes, oldest first (all aliases, or one)."""
        entries = self._read().get("history", [])
        return [e for e in entries if alias is None or e.get("alias") == alias]

    def lineage(self, alias: str = CHAMPION) -> list[str]:
        """The versions `alias` has held, as a stack: the current one last.

        Replays the history: a promotion pushes, a rollback pops. A registry written before the
        history existed starts from its current alias alone, so it has nothing to roll back to.
        """
        stack: list[str] = []
        for entry in self.history(alias):
            if entry["action"] == "rollback":
                stack = stack[:-1]
            elif entry["action"] == "clear":
                stack = []
            elif entry.get("version"):
                stack.append(entry["version"])
        current = self.aliases().get(alias)
        if current is None:
            return []
        if not stack or stack[-1] != current:
            stack = [current]
        return stack

    def rollback(self, alias: str = CHAMPION, *, by: str | None = None, reason: str = "") -> str:
        """Point `alias` back at the version it held before the current one; returns it."""
        stack = self.lineage(alias)
        if len(stack) < 2:
            held = f"only {stack[0]}" if stack else "no version"
            raise RegistryError(
                f"{alias} has {held} in the history of {self.index_path}; nothing to roll back to"
            )
        self.set_alias(alias, stack[-2], action="rollback", by=by, reason=reason)
        return stack[-2]

    @property
    def cards_dir(self) -> Path:
        return self.root / "cards"

    def write_card(self, version: str, text: str) -> Path:
        """Store the version's model card beside its bundle and pin its checksum."""
        self.get(version)
        self.cards_dir.mkdir(parents=True, exist_ok=True)
        path = self.cards_dir / f"{version}.md"
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.annotate(version, card_sha256=hashlib.sha256(data).hexdigest())
        return path

    def card(self, version_or_alias: str) -> str | None:
        """The stored model card, or None; a card edited after registration is refused."""
        entry = self.get(version_or_alias)
        path = self.cards_dir / f"{entry.version}.md"
        if not path.is_file():
            return None
        data = path.read_bytes()
        expected = entry.extra.get("card_sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise RegistryError(
                f"{path}: model card does not match the checksum recorded in {self.index_path}"
            )
        return data.decode("utf-8")

    def get(self, version_or_alias: str) -> RegisteredVersion:
        index = self._read()
        version = index["aliases"].get(version_or_alias, version_or_alias)
        entry = index["versions"].get(version)
        if entry is None:
            raise UnknownVersionError(
                f"no version or alias {version_or_alias!r} in {self.index_path}"
            )
        extra = {
            k: v for k, v in entry.items() if k not in {"path", "manifest_sha256", "registered_at"}
        }
        return RegisteredVersion(
            version,
            self.root / entry["path"],
            entry["manifest_sha256"],
            entry["registered_at"],
            extra,
        )

    def has(self, version_or_alias: str) -> bool:
        """Whether the version or alias exists; a corrupt index still raises."""
        try:
            self.get(version_or_alias)
        except UnknownVersionError:
            return False
        return True

    def load(self, version_or_alias: str = CHAMPION) -> Bundle:
        """Load a registered bundle, verified against the checksum recorded at registration."""
        entry = self.get(version_or_alias)
        return load_bundle(entry.path, entry.manifest_sha256)

    def versions(self) -> list[str]:
        return sorted(self._read()["versions"], key=lambda v: int(v[1:]) if v[1:].isdigit() else 0)


def _shape_problem(index: object) -> str | None:
    """What is wrong with a parsed index's structure, or None when it is what `_write` writes."""
    if not isinstance(index, dict):
        return f"expected a JSON object, got {type(index).__name__}"
    versions, aliases = index.get("versions"), index.get("aliases")
    if not isinstance(versions, dict):
        return '"versions" is missing or not an object'
    if not isinstance(aliases, dict):
        return '"aliases" is missing or not an object'
    for name, entry in versions.items():
        if not isinstance(entry, dict):
            return f"version {name!r} is not an object"
        missing = [k for k in _ENTRY_FIELDS if not isinstance(entry.get(k), str)]
        if missing:
            return f"version {name!r} lacks the text field(s) {missing}"
    for alias, target in aliases.items():
        if not isinstance(target, str):
            return f"alias {alias!r} does not name a version"
    history = index.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(e, dict) and isinstance(e.get("alias"), str) and e.get("action") in ACTIONS
        for e in history
    ):
        return '"history" is not a list of alias changes'
    return None


def current_user() -> str:
    """Who is acting, for the alias history: the OS login name, or "unknown"."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _history_entry(
    alias: str, version: str | None, previous: str | None, action: str, by: str | None, reason: str
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"unknown alias action {action!r}; expected one of {ACTIONS}")
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "alias": alias,
        "version": version,
        "previous": previous,
        "action": action,
        "by": by or current_user(),
        "reason": reason,
    }
