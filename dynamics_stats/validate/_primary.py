"""Choose, for each role, the metric that stands for it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.types import ROLES, Role
from dynamics_stats.validate.roles import is_total_loss

__all__ = ["choose_primary"]

_LOSS_ROLES = frozenset({"train_loss", "val_loss"})


def _rank(series: MetricSeries, position: int) -> tuple[int, int, int]:
    total = int(series.role in _LOSS_ROLES and is_total_loss(series.name))
    n_finite = int(np.isfinite(series.values).sum())
    return (total, n_finite, -position)


def choose_primary(
    metrics: tuple[MetricSeries, ...], overrides: Mapping[Role, str]
) -> dict[Role, str]:
    """Return role -> metric name for every role present.

    For losses an overall loss (``loss``, ``train_loss_step``, ``eval_loss``) is preferred
    to a component (``box_loss``, ``eval_g0_loss``); then the metric with the most finite
    points; then the first in source order.

    Parameters
    ----------
    metrics : tuple of MetricSeries
        The run's metrics, in source order.
    overrides : mapping of Role to str
        The user's choices, applied first.

    Returns
    -------
    dict of Role to str

    Raises
    ------
    ConfigError
        If an override names a metric the run does not have, or one with another role.
    """
    by_name = {m.name: m for m in metrics}
    for role, name in overrides.items():
        if name not in by_name:
            raise ConfigError(
                f"ValidationConfig.primary[{role!r}] names {name!r}, which the run does not "
                f"log. Metrics: {', '.join(by_name)}."
            )
    primary: dict[Role, str] = {}
    for role in ROLES:
        if role in overrides:
            primary[role] = overrides[role]
            continue
        candidates = [(i, m) for i, m in enumerate(metrics) if m.role == role]
        if candidates and role != "other":
            best = max(candidates, key=lambda pair: _rank(pair[1], pair[0]))
            primary[role] = best[1].name
    return primary
