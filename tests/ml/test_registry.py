"""The registry index: a broken registry.json is a RegistryError naming the file, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import UserError
from switchboard.ml.registry import (
    CHAMPION,
    CorruptRegistryError,
    Registry,
    RegistryError,
    UnknownVersionError,
)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"versions": {', r"not valid JSON \(line 1, column 15"),
        (b"", r"not valid JSON \(line 1, column 1"),
        (b"\xff\xfe garbage", "cannot be read"),
        (b"[]", "expected a JSON object, got list"),
        (b'{"versions": {}}', '"aliases" is missing or not an object'),
        (b'{"versions": {"v1": 3}, "aliases": {}}', "version 'v1' is not an object"),
        (
            b'{"versions": {"v1": {"path": "bundles/v1"}}, "aliases": {}}',
            r"version 'v1' lacks the text field\(s\) \['manifest_sha256', 'registered_at'\]",
        ),
        (b'{"versions": {}, "aliases": {"champion": null}}', "alias 'champion' does not name"),
    ],
    ids=["truncated", "empty", "not-utf8", "list", "no-aliases", "entry", "fields", "alias"],
)
def test_corrupt_index_raises_registry_error_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    """Check that every way registry.json can be broken is one clear CorruptRegistryError."""
    registry = Registry(tmp_path)
    registry.index_path.write_bytes(content)
    for call in (lambda: registry.get(CHAMPION), registry.versions, lambda: registry.has("v1")):
        with pytest.raises(CorruptRegistryError, match=problem) as caught:
            call()
        assert str(caught.value).startswith(f"{registry.index_path}: ")


def test_registry_errors_are_user_errors_with_exit_code_2() -> None:
    """Check that the CLI reports registry errors without a traceback, as exit 2."""
    for cls in (RegistryError, UnknownVersionError, CorruptRegistryError):
        assert issubclass(cls, UserError) and cls.exit_code == 2


def test_missing_index_is_an_empty_registry_and_unknown_alias_is_not_corrupt(
    tmp_path: Path,
) -> None:
    """Check that "no champion yet" stays distinguishable from "the index is broken"."""
    registry = Registry(tmp_path / "absent")
    assert registry.versions() == [] and not registry.has(CHAMPION)
    with pytest.raises(UnknownVersionError, match="champion"):
        registry.get(CHAMPION)
