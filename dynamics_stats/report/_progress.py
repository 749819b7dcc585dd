"""A one-line stage indicator on a terminal's stderr, for analyses of long logs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

__all__ = ["LONG_INPUT_BYTES", "StageProgress", "input_bytes"]

#: Inputs at least this large (summed over a folder's files) get a progress indicator.
LONG_INPUT_BYTES = 2_000_000
_MAX_FILES_COUNTED = 10_000


def input_bytes(path: str | Path) -> int:
    """Return the size of a log file, or the summed size of a folder's files (0 if absent).

    Parameters
    ----------
    path : str or Path
        The run's file or folder (non-paths such as ``runs:/`` URIs give 0).

    Returns
    -------
    int
        Bytes; at most the first 10,000 files of a folder are counted.
    """
    target = Path(path)
    try:
        if target.is_file():
            return target.stat().st_size
        if not target.is_dir():
            return 0
        total = 0
        for index, (root, _, files) in enumerate(os.walk(target)):
            if index > _MAX_FILES_COUNTED:
                break
            total += sum((Path(root) / name).stat().st_size for name in files)
        return total
    except OSError:
        return 0


class StageProgress:
    """Show ``[i/n] stage...`` on one line of ``stream``, only when it is a terminal.

    Parameters
    ----------
    stream : text stream
        Usually ``sys.stderr``.
    n_stages : int
        How many stages will be announced.
    enabled : bool, default=True
        Also required for output (e.g. only for long inputs); a non-terminal stream
        never gets any output.
    """

    def __init__(self, stream: TextIO, n_stages: int, *, enabled: bool = True) -> None:
        isatty = getattr(stream, "isatty", None)
        self.stream = stream
        self.n_stages = n_stages
        self.enabled = enabled and bool(isatty and isatty())
        self._index = 0

    def stage(self, text: str) -> None:
        """Announce the next stage, replacing the previous line."""
        self._index += 1
        if self.enabled:
            self.stream.write(f"\r\x1b[K[{self._index}/{self.n_stages}] {text}...")
            self.stream.flush()

    def close(self) -> None:
        """Erase the indicator line."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
