"""Top-level package names (`datasets` is also Hugging Face's) must resolve to this repo."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["datasets", "models", "service", "training"])
def test_package_imports_from_this_repo(package: str) -> None:
    """Check that each top-level package is this project's, not a same-named PyPI one."""
    module = importlib.import_module(package)
    assert Path(module.__file__).resolve().parent == REPO_ROOT / package


def test_service_never_imports_training() -> None:
    """Check that importing the service app leaves the offline pipeline unloaded."""
    if not (REPO_ROOT / "service" / "app.py").exists():
        pytest.skip("service/app.py is not built yet")
    code = (
        "import sys, service.app; "
        "bad = [m for m in sys.modules if m == 'training' or m.startswith('training.')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
