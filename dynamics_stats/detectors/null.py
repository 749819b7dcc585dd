"""`NullDetector`: never fires; for tests and ablations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.base import Evidence

__all__ = ["NullDetector"]


@dataclass(frozen=True, slots=True)
class NullDetector:
    """A detector that emits nothing, whatever the run.

    Examples
    --------
    >>> NullDetector().kinds
    ()
    """

    name: ClassVar[str] = "null"
    requires: ClassVar[frozenset[str]] = frozenset()
    kinds: ClassVar[tuple[str, ...]] = ()

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return no evidence."""
        return ()
