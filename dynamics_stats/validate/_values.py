"""Coerce raw logged values to floats, salvaging what can be salvaged."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import BoolArray, FloatArray

__all__ = ["coerce_values"]

_NONFINITE = {
    "nan": np.nan,
    "-nan": np.nan,
    "+nan": np.nan,
    "inf": np.inf,
    "+inf": np.inf,
    "-inf": -np.inf,
    "infinity": np.inf,
    "-infinity": -np.inf,
    "+infinity": np.inf,
}
# A value printed from a tensor or a numpy scalar: tensor(0.53, device='cuda:0'), np.float32(0.5)
_WRAPPED = re.compile(r"^\s*[\w.]+\(\s*\[?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")
_MAX_LINES = 10


def _parse_text(text: str) -> float | None:
    lowered = text.strip().lower()
    if lowered in _NONFINITE:
        return float(_NONFINITE[lowered])
    match = _WRAPPED.match(lowered)
    if match:
        return float(match.group(1))
    return None


def coerce_values(
    records: pd.DataFrame,
) -> tuple[FloatArray, BoolArray, tuple[ValidationIssue, ...]]:
    """Return the values as float64, the records to drop, and the issues met on the way.

    Numbers pass through; ``"nan"``/``"inf"`` strings become NaN/inf (kept: they are
    evidence of divergence); values printed from tensors (``tensor(0.53)``) are salvaged
    with a "repaired" note; other text is marked for removal with a warning naming the
    metric and its lines.

    Parameters
    ----------
    records : pandas.DataFrame
        `RunLog.records`.

    Returns
    -------
    values : ndarray of float64
        One value per record.
    junk : ndarray of bool
        True where the record held text that is not a number.
    issues : tuple of ValidationIssue
        What was salvaged or dropped.
    """
    raw = records["value"]
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    junk = np.zeros(len(raw), dtype=bool)
    if raw.dtype != object and not isinstance(raw.dtype, pd.StringDtype):
        return numeric, junk, ()
    failed = np.isnan(numeric) & raw.notna().to_numpy()
    salvaged: dict[str, list[int]] = {}
    for pos in np.flatnonzero(failed):
        text = str(raw.iat[int(pos)])
        parsed = _parse_text(text)
        if parsed is None:
            junk[pos] = True
            continue
        numeric[pos] = parsed
        if text.strip().lower() not in _NONFINITE:
            salvaged.setdefault(str(records["metric"].iat[int(pos)]), []).append(int(pos))
    issues = _salvage_notes(records, salvaged) + _junk_notes(records, junk)
    return numeric, junk, tuple(issues)


def _lines(records: pd.DataFrame, positions: NDArray[np.intp]) -> tuple[int, ...]:
    lines = records["line"].to_numpy()[positions[:_MAX_LINES]]
    return tuple(int(x) for x in lines if int(x) > 0)


def _salvage_notes(records: pd.DataFrame, salvaged: dict[str, list[int]]) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            code="wrapped_numbers",
            level="repaired",
            message=f"{len(pos)} values of {metric!r} were written as text around a number "
            f"(e.g. {str(records['value'].iat[pos[0]])[:40]!r}); the number was kept.",
            metric=metric,
            n_affected=len(pos),
            lines=_lines(records, np.asarray(pos)),
        )
        for metric, pos in salvaged.items()
    ]


def _junk_notes(records: pd.DataFrame, junk: BoolArray) -> list[ValidationIssue]:
    notes = []
    metrics = records["metric"].to_numpy()
    for metric in pd.unique(metrics[junk]):
        pos = np.flatnonzero(junk & (metrics == metric))
        example = str(records["value"].iat[pos[0]])[:40]
        notes.append(
            ValidationIssue(
                code="non_numeric_values",
                level="warning",
                message=f"{len(pos)} values of {metric!r} are not numbers (e.g. {example!r}) "
                "and were skipped.",
                metric=str(metric),
                n_affected=len(pos),
                lines=_lines(records, pos),
                hint="Check how the metric was written to the log; only numbers can be analysed.",
            )
        )
    return notes
