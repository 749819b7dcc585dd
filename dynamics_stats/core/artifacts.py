"""`MetricSeries` and `TrainingArtifacts`: a validated run, ready for analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dynamics_stats.core.errors import UnknownNameError
from dynamics_stats.core.report import ValidationReport
from dynamics_stats.core.types import (
    Direction,
    FloatArray,
    HParamValue,
    IntArray,
    JSONValue,
    Role,
    StepUnit,
)

__all__ = ["MetricSeries", "TrainingArtifacts"]


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class MetricSeries:
    """One metric of a validated run: strictly increasing steps and their values.

    Parameters
    ----------
    name : str
        The metric's name as the source logged it (``"train/loss"``, ``"eval_loss"``).
    role : Role
        Its canonical role (``"train_loss"``, ``"val_loss"``, ``"learning_rate"``...).
    direction : {"min", "max", "none"}
        Whether lower is better (losses), higher is better (accuracies) or neither.
    steps : ndarray of int64
        Strictly increasing steps (optimizer steps, or epochs for epoch-level logs).
    values : ndarray of float64
        Values; NaN and inf are kept, they are evidence of divergence.
    epochs : ndarray of float64
        Epoch at each point, NaN where unknown.
    wall_times : ndarray of float64
        Wall-clock seconds at each point, NaN where unknown.
    """

    name: str
    role: Role
    direction: Direction
    steps: IntArray
    values: FloatArray
    epochs: FloatArray
    wall_times: FloatArray

    def __post_init__(self) -> None:
        n = len(self.steps)
        for attr in ("values", "epochs", "wall_times"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"MetricSeries {self.name!r}: {attr} and steps differ in length.")
            object.__setattr__(self, attr, _readonly(np.asarray(getattr(self, attr), float)))
        object.__setattr__(self, "steps", _readonly(np.asarray(self.steps, np.int64)))

    def __len__(self) -> int:
        return len(self.steps)

    def describe(self) -> dict[str, JSONValue]:
        """Return name, role, direction, point count, step range and median logging interval."""
        n = len(self.steps)
        finite = np.isfinite(self.values)
        interval = float(np.median(np.diff(self.steps))) if n > 1 else None
        return {
            "name": self.name,
            "role": self.role,
            "direction": self.direction,
            "n_points": n,
            "n_nonfinite": int(n - finite.sum()),
            "first_step": int(self.steps[0]) if n else None,
            "last_step": int(self.steps[-1]) if n else None,
            "median_interval": interval,
        }


@dataclass(frozen=True, slots=True, eq=False)
class TrainingArtifacts:
    """A validated training run: metrics with roles, hyper-parameters and a validation report.

    Parameters
    ----------
    source : str
        Path or URI the run was read from.
    format : str
        Registry name of the loader that read it.
    step_unit : {"step", "epoch", "index"}
        What the steps count.
    metrics : tuple of MetricSeries
        Every numeric metric, in source order.
    primary : mapping of Role to str
        For each role present, the name of the metric that stands for it (e.g. which of
        ``train_loss_step`` and ``train_loss_epoch`` is "the" train loss).
    hparams : mapping of str to scalar
        Hyper-parameters, flattened with dotted keys.
    report : ValidationReport
        What validation found and repaired.
    files : tuple of str, default=()
        Files that were read.
    """

    source: str
    format: str
    step_unit: StepUnit
    metrics: tuple[MetricSeries, ...]
    primary: Mapping[Role, str]
    hparams: Mapping[str, HParamValue]
    report: ValidationReport
    files: tuple[str, ...] = ()
    _by_name: Mapping[str, MetricSeries] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "primary", MappingProxyType(dict(self.primary)))
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))
        by_name = MappingProxyType({m.name: m for m in self.metrics})
        object.__setattr__(self, "_by_name", by_name)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Names of all metrics, in source order."""
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> MetricSeries:
        """Return the metric logged under ``name``.

        Raises
        ------
        UnknownNameError
            If the run has no such metric; the message lists the available ones.
        """
        try:
            return self._by_name[name]
        except KeyError:
            available = ", ".join(self.metric_names) or "none"
            raise UnknownNameError(
                f"run {self.source!r} has no metric named {name!r}. Available: {available}."
            ) from None

    def by_role(self, role: Role) -> tuple[MetricSeries, ...]:
        """Return every metric with the given role, in source order."""
        return tuple(m for m in self.metrics if m.role == role)

    def get(self, role: Role) -> MetricSeries | None:
        """Return the primary metric for ``role``, or None if the run has none."""
        name = self.primary.get(role)
        return None if name is None else self._by_name[name]

    def to_frame(self) -> pd.DataFrame:
        """Return the canonical long table: step, metric, role, value, epoch, wall_time."""
        frames = [
            pd.DataFrame(
                {
                    "step": m.steps,
                    "metric": m.name,
                    "role": m.role,
                    "value": m.values,
                    "epoch": m.epochs,
                    "wall_time": m.wall_times,
                }
            )
            for m in self.metrics
        ]
        columns = ["step", "metric", "role", "value", "epoch", "wall_time"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def describe(self) -> dict[str, JSONValue]:
        """Return a JSON-native description of the run (what ``inspect`` prints)."""
        return {
            "source": self.source,
            "format": self.format,
            "step_unit": self.step_unit,
            "files": list(self.files),
            "primary": {role: name for role, name in self.primary.items()},
            "metrics": [m.describe() for m in self.metrics],
            "hparams": dict(self.hparams),
            "validation": self.report.to_dict(),
        }
