"""The package resolves to this repo, and its sub-packages import one way only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import switchboard

SRC = Path(__file__).resolve().parents[2] / "src" / "switchboard"

# What each sub-package may import from the others: service -> routing -> ml -> data,
# batch -> routing, data, and training -> batch, routing, ml, data (the MLflow decision model
# is batch's). `settings` and `vocabulary` sit at the root, open to all; `cli` is the top and
# may import anything.
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "ml": {"data"},
    "routing": {"ml", "data"},
    "batch": {"routing", "data"},
    "training": {"batch", "routing", "ml", "data"},
    "service": {"routing", "ml", "data"},
    "cli": {"service", "training", "batch", "routing", "ml", "data"},
}
ROOT_MODULES = {"settings", "vocabulary", "errors"}


def _imports(path: Path) -> set[str]:
    """Sub-packages of switchboard that a module imports (at top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "switchboard" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_package_imports_from_this_repo() -> None:
    """Check that `switchboard` is this checkout's package, not a same-named PyPI one."""
    assert Path(switchboard.__file__).resolve().parent == SRC


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_one_way(package: str) -> None:
    """Check that a sub-package imports only the sub-packages below it."""
    wrong = {}
    for path in sorted((SRC / package).rglob("*.py")):
        bad = _imports(path) - ALLOWED[package] - ROOT_MODULES - {package}
        if bad:
            wrong[str(path.relative_to(SRC))] = sorted(bad)
    assert not wrong, f"imports against the one-way rule: {wrong}"


def _loaded_after(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    code = f"import sys; {statement}; print([m for m in sys.modules if m.startswith({prefixes!r})])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip())


def test_service_never_loads_training() -> None:
    """Check that importing the service app leaves the offline pipeline unloaded."""
    assert _loaded_after("import switchboard.service.app", ("switchboard.training",)) == []


def test_command_line_loads_neither_side_until_a_command_runs() -> None:
    """Check that `switchboard serve` (or --help) does not load the training stack."""
    assert _loaded_after("import switchboard.cli", ("switchboard.training", "mlflow")) == []


def test_training_never_loads_the_web_stack() -> None:
    """Check that `switchboard train`'s code path loads neither the service nor Litestar."""
    loaded = _loaded_after(
        "import switchboard.training.fit, switchboard.training.evaluate",
        ("switchboard.service", "litestar"),
    )
    assert loaded == []
