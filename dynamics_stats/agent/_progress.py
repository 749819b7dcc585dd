"""A one-line progress bar on stderr for long per-run work (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]

_WIDTH = 30


class ProgressBar:
    """Count finished items and redraw ``[#####.....] 12/24 runs  3 s`` in place.

    Parameters
    ----------
    total : int
        Number of items.
    enabled : bool or None, default=None
        Draw the bar; None draws it only when ``stream`` is a terminal.
    stream : text stream or None, default=None
        Where to draw; ``sys.stderr`` when None.
    label : str, default="runs"
        What the items are.
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        label: str = "runs",
    ) -> None:
        self.stream = stream or sys.stderr
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = is_tty if enabled is None else enabled
        self.total = total
        self.label = label
        self.done = 0
        self._start = time.perf_counter()

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more finished items and redraw."""
        self.done += n
        if not self.enabled:
            return
        filled = _WIDTH * self.done // max(self.total, 1)
        elapsed = time.perf_counter() - self._start
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.label}  {elapsed:.0f} s")
        self.stream.flush()

    def close(self) -> None:
        """End the line the bar was drawn on."""
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()
