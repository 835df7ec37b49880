"""Which optional dependencies (pyproject extras) a command needs, and a clear refusal without them.

`pip install 'switchboard[serve]'` runs the service without MLflow or matplotlib; the training
commands then stop with one line naming the extra to install, not a traceback. Two checks: an
upfront one for the commands that always need the training stack (`train`, and `quickstart`
when it has to train), and `missing_extra()` for an import that fails halfway (e.g. `evaluate`
on a .parquet file, `models promote` mirroring to MLflow), used by `switchboard.cli.main`.
"""

from __future__ import annotations

import importlib.util

from switchboard.cli.common import CliError

# Top-level modules of each extra's distributions (pyproject.toml [project.optional-dependencies]).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("mlflow", "matplotlib", "pyarrow"),
    "serve": ("litestar", "uvicorn", "sqlalchemy", "alembic", "prometheus_client", "jinja2"),
    "spark": ("pyspark",),  # `batch-score --engine spark` (with the train extra's mlflow)
}
WHAT = {"train": "training", "serve": "serving", "spark": "Spark"}


def absent(modules: tuple[str, ...]) -> list[str]:
    """The modules that cannot be imported here (not installed, or refused by an import hook)."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def needs_extra_error(command: str, extra: str, missing: list[str]) -> CliError:
    return CliError(
        f"`switchboard {command}` needs the {WHAT[extra]} extras: "
        f"pip install 'switchboard[{extra}]' (missing: {', '.join(missing)})"
    )


def require_extra(command: str, extra: str) -> None:
    """Refuse (exit 2) before any work when the extra's modules are not importable."""
    missing = absent(EXTRA_MODULES[extra])
    if missing:
        raise needs_extra_error(command, extra, missing)


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The extra that provides the module an import failed on, or None if it is not ours."""
    top = (exc.name or "").partition(".")[0]
    return next((extra for extra, mods in EXTRA_MODULES.items() if top in mods), None)
