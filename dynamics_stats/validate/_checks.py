"""Run-level checks on validated metrics: missing roles, hidden non-finite losses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.config import ValidationConfig
from dynamics_stats.core.report import ValidationIssue

__all__ = ["check_metrics"]


def _first(metrics: tuple[MetricSeries, ...], role: str) -> MetricSeries | None:
    candidates = [m for m in metrics if m.role == role]
    return max(candidates, key=len) if candidates else None


def _hidden_nonfinite(loss: MetricSeries, grad: MetricSeries) -> ValidationIssue | None:
    """Report a finite loss logged where the gradient norm is NaN/inf (HF hides NaN losses)."""
    bad_grad = grad.steps[~np.isfinite(grad.values)]
    if not len(bad_grad):
        return None
    at = np.isin(loss.steps, bad_grad)
    hidden = at & np.isfinite(loss.values)
    if not hidden.any():
        return None
    steps = loss.steps[hidden]
    return ValidationIssue(
        code="hidden_nonfinite_loss",
        level="warning",
        message=f"at {int(hidden.sum())} steps (first: {int(steps[0])}) {grad.name!r} is NaN or "
        f"inf while {loss.name!r} is finite: the trainer probably hid a non-finite loss "
        "(the HF Trainer skips NaN losses by default). Treat these steps as divergent.",
        metric=loss.name,
        n_affected=int(hidden.sum()),
        hint="In the HF Trainer, set logging_nan_inf_filter=False to log the real loss.",
    )


def check_metrics(
    metrics: tuple[MetricSeries, ...], records: pd.DataFrame, config: ValidationConfig
) -> list[ValidationIssue]:
    """Return warnings about what the analysis will lack or should distrust.

    Parameters
    ----------
    metrics : tuple of MetricSeries
        The validated metrics.
    records : pandas.DataFrame
        The raw records (for names of metrics that had no usable value).
    config : ValidationConfig
        Thresholds.

    Returns
    -------
    list of ValidationIssue
    """
    issues: list[ValidationIssue] = []
    present = {m.name for m in metrics}
    for name in pd.unique(records["metric"].astype(str)):
        if name not in present:
            issues.append(
                ValidationIssue(
                    code="empty_metric",
                    level="warning",
                    message=f"{name!r} has no usable value and was left out.",
                    metric=name,
                )
            )
    loss = _first(metrics, "train_loss")
    if metrics and loss is None:
        issues.append(
            ValidationIssue(
                code="no_train_loss",
                level="warning",
                message="no metric was recognised as the training loss; the analysis will "
                "be partial.",
                hint="Name it with ValidationConfig(roles={'<name>': 'train_loss'}) or "
                "--role <name>=train_loss.",
            )
        )
    elif loss is not None and len(loss) < config.min_train_points:
        issues.append(
            ValidationIssue(
                code="short_run",
                level="warning",
                message=f"the training loss {loss.name!r} has only {len(loss)} points.",
                metric=loss.name,
            )
        )
    grad = _first(metrics, "grad_norm")
    if loss is not None and grad is not None:
        hidden = _hidden_nonfinite(loss, grad)
        if hidden is not None:
            issues.append(hidden)
    return issues
