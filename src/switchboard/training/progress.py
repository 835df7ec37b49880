"""Progress bars for the long steps (loading, vectorising, fitting heads, CV folds, MLflow).

tqdm on stderr, so stdout stays the command's result. A bar is drawn only on a terminal
(`disable=None` is tqdm's "not a TTY, stay silent"), so tests, pipes and CI logs get no
bar; `--quiet` turns them off on a terminal too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Wraps an iterable of finished steps with a progress display: progress(steps, total).
Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def bar(
    steps: Iterable[T], total: int | None, desc: str, unit: str = "step", quiet: bool = False
) -> Iterable[T]:
    from tqdm import tqdm

    return tqdm(
        steps,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=True if quiet else None,
        leave=False,
        dynamic_ncols=True,
    )


def progress(desc: str, unit: str = "step", quiet: bool = False) -> Progress:
    """A `Progress` for code that takes one (fit_bundle, load_cases, cross_validate...)."""
    return lambda steps, total: bar(steps, total, desc, unit, quiet)


class Stages:
    """Named stages of one long call, ticked as each starts: `stages.start("vectorise")`.

    With no `Progress` it does nothing, so library callers pay nothing for it.
    """

    def __init__(self, names: Sequence[str], progress: Progress | None = None) -> None:
        self._names = list(names)
        self._iter: Iterator[Any] | None = (
            iter(progress(self._names, len(self._names))) if progress else None
        )
        self._started = 0

    def start(self, name: str) -> None:
        if self._iter is None or name not in self._names:
            return
        target = self._names.index(name) + 1
        while self._started < target:
            next(self._iter, None)
            self._started += 1

    def done(self) -> None:
        if self._iter is not None:
            for _ in self._iter:
                pass
            self._started = len(self._names)
