"""Read a text log file and turn what was found in it into line numbers and values.

Shared by the JSON-lines, Hugging Face, LLaMA-Factory, llm.c and plain-text loaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.types import HParamValue, IntArray

__all__ = [
    "line_numbers",
    "newline_index",
    "numeric_or_text",
    "read_log_text",
    "read_text_head",
    "scalar_value",
]

_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})


def read_text_head(path: Path, n_bytes: int) -> bytes | None:
    """Return the first ``n_bytes`` of a text file, for sniffing.

    None when ``path`` is not a file, cannot be read, or holds a NUL byte (binary).
    """
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(n_bytes)
    except OSError:
        return None
    return None if b"\x00" in head else head


def read_log_text(path: Path) -> str:
    r"""Return the text of a log file, or raise `LoadError` if unreadable or empty.

    Line ends are kept as written, so that line numbers count ``"\n"`` as `wc -l` does.
    """
    try:  # newline="": a lone "\r" (progress bars) is not a line break, as in `wc -l`
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read()
    except OSError as err:
        raise LoadError(f"cannot read '{path}': {err}. Check the path and permissions.") from err
    if not text.strip():
        raise LoadError(
            f"'{path}' is empty: it holds no logged values. Check that the run wrote its log "
            "(or that you picked the right file)."
        )
    return text


def newline_index(text: str) -> IntArray:
    r"""Positions of every ``"\n"`` in ``text`` (character offsets)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    return np.flatnonzero(codes == 10)


def line_numbers(text: str | IntArray, positions: Sequence[int]) -> IntArray:
    """1-based line numbers of character offsets, given the text or its `newline_index`."""
    newlines = newline_index(text) if isinstance(text, str) else text
    return np.searchsorted(newlines, np.asarray(positions, dtype=np.int64)) + 1


def numeric_or_text(values: Sequence[object]) -> np.ndarray:
    """Numbers where the text is a number (``nan`` included), the text itself elsewhere."""
    raw = pd.Series(list(values), dtype=object)
    numbers = pd.to_numeric(raw, errors="coerce")
    text = numbers.isna() & ~raw.astype(str).str.strip().str.lower().isin(_NAN_WORDS)
    if not text.any():
        return numbers.to_numpy(dtype=float)
    out = numbers.to_numpy(dtype=object)
    out[text.to_numpy()] = raw[text].to_numpy()
    return out


def scalar_value(text: str) -> HParamValue:
    """Return the text as an int or a float when it is one, else as is."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
