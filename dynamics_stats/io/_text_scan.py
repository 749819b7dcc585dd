"""Scan plain-text logs for ``Name: number`` pairs and positions (``epoch N``, ``step N``).

The generic reader of the plain-text loader (`read_key_values`), its two patterns
(`POSITION`, `PAIR`, also used to sniff) and the record building shared with its regex
reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import IntArray, StepUnit
from dynamics_stats.io._log_text import numeric_or_text

__all__ = ["PAIR", "POSITION", "ignored_note", "nonempty_lines", "read_key_values", "text_records"]

_NUM = r"[-+]?(?:(?i:nan|inf(?:inity)?)|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
_STEP_WORDS = ("global_step", "iteration", "step", "iter")
POSITION = re.compile(
    # The first letter leads (a character set lets `re` skip ahead fast), then the word.
    r"(?P<kw>[EeSsIiGg](?<![\w./-][EeSsIiGg])"
    r"(?i:(?<=g)lobal_step|(?<=i)teration|(?<=e)poch|(?<=s)tep|(?<=i)ter))(?!\w)[\"']?"
    r"[ \t]*[:=#]?[ \t]*\[?[ \t]*(?P<pos>\d+(?:\.\d+)?)(?:[ \t]*/[ \t]*\d+)?"
)
_NAME = r"[A-Za-z][\w./-]*(?:[ ][A-Za-z][\w./-]*){0,3}"
PAIR = re.compile(
    rf"(?<![\w./-])[\"']?(?P<name>{_NAME})[\"']?[ \t]*[:=][ \t]*(?P<value>{_NUM})(?![\w/:]|\.\d)"
)
_MAX_LINES = 10


def text_records(
    metrics: Sequence[str], steps: object, epochs: object, values: Sequence[object], lines: object
) -> pd.DataFrame:
    """Build records from parallel sequences; values are numbers where they read as one."""
    return pd.DataFrame(
        {
            "metric": pd.Series(list(metrics), dtype=object),
            "step": np.asarray(steps, dtype=float),
            "epoch": np.asarray(epochs, dtype=float),
            "wall_time": np.full(len(metrics), np.nan),
            "value": numeric_or_text(values),
            "line": np.asarray(lines, dtype=np.int64),
        }
    )


def nonempty_lines(text: str) -> IntArray:
    """1-based numbers of the lines that hold more than white space."""
    return np.array([i for i, s in enumerate(text.split("\n"), 1) if s.strip()], dtype=np.int64)


def ignored_note(path: Path, ignored: IntArray, what: str) -> list[ValidationIssue]:
    """Return an info note counting the ``ignored`` lines (none if there are none)."""
    if not len(ignored):
        return []
    return [
        ValidationIssue(
            "ignored_lines",
            "info",
            f"{len(ignored)} line(s) of '{path.name}' {what} and were ignored "
            f"(first: line {ignored[0]}).",
            n_affected=len(ignored),
            lines=tuple(int(i) for i in ignored[:_MAX_LINES]),
        )
    ]


def _matches_by_line(pattern: re.Pattern[str], text: str) -> tuple[IntArray, list[tuple[str, ...]]]:
    """Return the groups of every match of ``pattern`` and the 1-based line of each.

    Newlines are matched by the same scan, so that `re.findall` (plain tuples, much faster
    than match objects) also gives the line numbers.
    """
    found = re.compile(r"(\n)|" + pattern.pattern, pattern.flags).findall(text)
    is_newline = np.fromiter((f[0] == "\n" for f in found), dtype=bool, count=len(found))
    lines = np.cumsum(is_newline)[~is_newline] + 1
    return lines.astype(np.int64), [f[1:] for f in found if not f[0]]


def _positions(text: str) -> pd.DataFrame:
    """Per line: the first step-like position and the first epoch."""
    lines, found = _matches_by_line(POSITION, text)
    if not found:
        return pd.DataFrame({"step": pd.Series(dtype=float), "epoch": pd.Series(dtype=float)})
    keywords, positions = zip(*found, strict=True)
    frame = pd.DataFrame(
        {
            "line": lines,
            "is_epoch": pd.Series(keywords, dtype=object).str.lower().eq("epoch").to_numpy(),
            "pos": pd.to_numeric(pd.Series(positions, dtype=object)).to_numpy(dtype=float),
        }
    )
    first = frame.groupby(["line", "is_epoch"], sort=True)["pos"].first().unstack()
    return first.reindex(columns=[False, True]).set_axis(["step", "epoch"], axis=1)


def _pairs(text: str) -> pd.DataFrame:
    lines, found = _matches_by_line(PAIR, text)
    names, values = zip(*found, strict=True) if found else ((), ())
    raw = pd.Series(names, dtype=object)
    unique = raw.unique()  # normalise each distinct name once
    metric = {n: re.sub(r"\s+", "_", n.strip().lower()) for n in unique}
    is_position = {n: n.split()[-1].lower() in (*_STEP_WORDS, "epoch") for n in unique}
    frame = pd.DataFrame(
        {
            "metric": raw.map(metric),
            "value": pd.Series(values, dtype=object),
            "line": lines,
        }
    )
    return frame[~raw.map(is_position).astype(bool).to_numpy()]


def read_key_values(path: Path, text: str) -> tuple[pd.DataFrame, StepUnit, list[ValidationIssue]]:
    """Read every ``Name: number`` pair of the lines that hold a position.

    Returns the records, the step unit (``"step"`` if any line names a step, else
    ``"epoch"``) and a note on the ignored lines.
    """
    pairs = _pairs(text)
    positions = _positions(text)
    has_step = positions["step"].notna().any()
    if has_step:  # lines with only an epoch belong to the last step printed before them
        step = positions["step"].ffill()
        unit: StepUnit = "step"
    else:
        step = positions["epoch"]
        unit = "epoch"
    at_line = pd.DataFrame({"step": step, "epoch": positions["epoch"]}).dropna(subset=["step"])
    pairs = pairs[pairs["line"].isin(at_line.index)]
    used = at_line.reindex(pairs["line"].to_numpy())
    records = text_records(
        pairs["metric"].tolist(),
        used["step"],
        used["epoch"],
        pairs["value"].tolist(),
        pairs["line"],
    )
    ignored = np.setdiff1d(nonempty_lines(text), pairs["line"].to_numpy())
    return records, unit, ignored_note(path, ignored, "hold no position and metric")
