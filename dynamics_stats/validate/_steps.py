"""Give every record an integer step, and drop writes that later writes superseded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray, StepUnit

__all__ = ["resolve_steps", "superseded_mask"]

_MAX_LINES = 10


def _lines(lines: IntArray, mask: BoolArray) -> tuple[int, ...]:
    picked = lines[mask][:_MAX_LINES]
    return tuple(int(x) for x in picked if x > 0)


def _epochs_to_steps(epoch: FloatArray, step: FloatArray) -> FloatArray:
    """Map epochs to steps using the records that carry both (end-of-epoch step)."""
    both = np.isfinite(epoch) & np.isfinite(step)
    pairs = pd.DataFrame({"epoch": epoch[both], "step": step[both]})
    last = pairs.groupby("epoch")["step"].max()
    xs, ys = last.index.to_numpy(float), last.to_numpy(float)
    mapped = np.interp(epoch, xs, ys) if len(xs) else np.full(len(epoch), np.nan)
    exact = pd.Series(epoch).map(last).to_numpy(float)
    return np.where(np.isfinite(exact), exact, mapped)


def _positions_without_steps(
    records: pd.DataFrame, epoch: FloatArray, step_unit: StepUnit
) -> tuple[FloatArray, StepUnit, list[ValidationIssue]]:
    if np.isfinite(epoch).all() and len(epoch):
        if np.allclose(epoch, np.round(epoch)):
            return epoch.copy(), "epoch", []
        ranks = np.asarray(pd.Series(epoch).rank(method="dense"), dtype=np.float64) - 1
        note = ValidationIssue(
            code="fractional_epochs_as_index",
            level="repaired",
            message="the log has fractional epochs and no step; points are ordered by epoch "
            "and numbered 0, 1, 2...",
        )
        return ranks, "index", [note]
    index = np.asarray(records.groupby("metric", sort=False).cumcount(), dtype=np.float64)
    unit: StepUnit = "index" if step_unit == "step" else step_unit
    note = ValidationIssue(
        code="no_steps",
        level="info",
        message="the log gives no step or epoch; each metric's points are numbered in order.",
    )
    return index, unit, [note]


def resolve_steps(
    records: pd.DataFrame, step_unit: StepUnit
) -> tuple[FloatArray, BoolArray, StepUnit, tuple[ValidationIssue, ...]]:
    """Return a step for every record, which records have one, the unit and the issues.

    Records without a step but with an epoch are placed at the last step logged in that
    epoch (interpolated for fractional epochs): validation logged per epoch next to
    training logged per step. A log with no step at all uses epochs, or the order.

    Parameters
    ----------
    records : pandas.DataFrame
        `RunLog.records`.
    step_unit : {"step", "epoch", "index"}
        The unit the loader declared.

    Returns
    -------
    steps : ndarray of float64
        Step of each record (NaN where none could be given).
    has_step : ndarray of bool
        Whether the record got a step.
    step_unit : {"step", "epoch", "index"}
        The unit after resolution.
    issues : tuple of ValidationIssue
        What was repaired or dropped.
    """
    step = pd.to_numeric(records["step"], errors="coerce").to_numpy(float)
    epoch = pd.to_numeric(records["epoch"], errors="coerce").to_numpy(float)
    lines = records["line"].to_numpy(np.int64)
    issues: list[ValidationIssue] = []
    if len(step) and not np.isfinite(step).any():
        step, step_unit, notes = _positions_without_steps(records, epoch, step_unit)
        issues.extend(notes)
    missing = ~np.isfinite(step)
    if missing.any():
        mapped = _epochs_to_steps(epoch, step)
        fill = missing & np.isfinite(mapped)
        step = np.where(fill, np.round(mapped), step)
        issues.extend(_placed_notes(records, fill))
        dropped = missing & ~fill
        if dropped.any():
            issues.append(
                ValidationIssue(
                    code="no_position",
                    level="warning",
                    message=f"{int(dropped.sum())} values have neither a step nor an epoch "
                    "and were skipped.",
                    n_affected=int(dropped.sum()),
                    lines=_lines(lines, dropped),
                )
            )
    has_step = np.isfinite(step)
    fractional = has_step & (np.abs(step - np.round(step)) > 1e-9)
    if fractional.any():
        issues.append(_fractional_note(lines, fractional))
    step = np.where(has_step, np.round(step), step)
    return step, has_step, step_unit, tuple(issues)


def _placed_notes(records: pd.DataFrame, fill: BoolArray) -> list[ValidationIssue]:
    metrics = records["metric"].to_numpy()
    notes = []
    for metric in pd.unique(metrics[fill]):
        n = int((fill & (metrics == metric)).sum())
        notes.append(
            ValidationIssue(
                code="epoch_mapped_to_step",
                level="repaired",
                message=f"{n} values of {metric!r} had an epoch but no step; each was placed "
                "at the last step logged in its epoch.",
                metric=str(metric),
                n_affected=n,
            )
        )
    return notes


def _fractional_note(lines: IntArray, fractional: BoolArray) -> ValidationIssue:
    return ValidationIssue(
        code="fractional_steps",
        level="repaired",
        message=f"{int(fractional.sum())} steps were not whole numbers and were rounded.",
        n_affected=int(fractional.sum()),
        lines=_lines(lines, fractional),
    )


def superseded_mask(codes: IntArray, steps: FloatArray) -> tuple[BoolArray, BoolArray]:
    """Find writes that a later write of the same metric replaced.

    Within one metric, in source order, a record is kept only if its step is smaller
    than every later record's step: a repeated step keeps its latest write, and after a
    resume from an earlier checkpoint (steps going backwards) the later values replace
    the earlier ones. The kept records are strictly increasing in step.

    Parameters
    ----------
    codes : ndarray of int64
        Metric code of each record (source order).
    steps : ndarray of float64
        Step of each record.

    Returns
    -------
    superseded : ndarray of bool
        True where a later write replaces the record.
    backward : ndarray of bool
        True where the step is smaller than the previous record's step of the same metric.
    """
    frame = pd.DataFrame({"code": codes, "step": steps})
    reversed_min = frame.iloc[::-1].groupby("code", sort=False)["step"].cummin().iloc[::-1]
    next_min = reversed_min.groupby(frame["code"], sort=False).shift(-1).to_numpy(float)
    superseded = np.isfinite(next_min) & (steps >= next_min)
    previous = frame.groupby("code", sort=False)["step"].shift(1).to_numpy(float)
    backward = np.isfinite(previous) & (steps < previous)
    return superseded, backward
