"""`RunLog`: a training log as read from its source, before validation.

A loader's only job is to turn a file (or a logger's store) into a `RunLog`: one long table
of raw records in source order, plus what the source says about hyper-parameters and the
meaning of its metric names. Validation (`dynamics_stats.validate`) then coerces, repairs,
assigns roles and produces `TrainingArtifacts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import HParamValue, Role, StepUnit

__all__ = ["RECORD_COLUMNS", "RunLog"]

#: Columns of `RunLog.records`, in this order.
RECORD_COLUMNS: tuple[str, ...] = ("metric", "step", "epoch", "wall_time", "value", "line")


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True, eq=False)
class RunLog:
    """A training log as read, one record per logged value, in source order.

    Parameters
    ----------
    source : str
        Path or URI the log was read from (or ``"<DataFrame>"``).
    format : str
        Registry name of the loader that read it.
    records : pandas.DataFrame
        Columns `RECORD_COLUMNS`: ``metric`` (str, the name as logged), ``step`` (float,
        NaN where the source gave none), ``epoch`` (float or NaN), ``wall_time`` (seconds,
        float or NaN), ``value`` (as read: float, or str where the source held text) and
        ``line`` (1-based line or row number in the source file, 0 when unknown).
    step_unit : {"step", "epoch", "index"}, default="step"
        What the ``step`` column counts: optimizer steps, epochs (epoch-level logs such as
        Keras CSVs), or only the row position.
    hparams : mapping of str to scalar, default={}
        Hyper-parameters found beside the log, flattened with dotted keys.
    role_hints : mapping of str to Role, default={}
        Roles the loader knows from the format (e.g. HF ``loss`` is the train loss).
    notes : tuple of ValidationIssue, default=()
        What the loader noticed or repaired (a truncated last line, a picked version...).
    files : tuple of str, default=()
        Every file that was read.
    """

    source: str
    format: str
    records: pd.DataFrame
    step_unit: StepUnit = "step"
    hparams: Mapping[str, HParamValue] = field(default_factory=dict)
    role_hints: Mapping[str, Role] = field(default_factory=dict)
    notes: tuple[ValidationIssue, ...] = ()
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [c for c in RECORD_COLUMNS if c not in self.records.columns]
        if missing:
            raise TypeError(f"RunLog.records lacks columns {missing}; it needs {RECORD_COLUMNS}.")
        object.__setattr__(self, "hparams", _frozen_mapping(self.hparams))
        object.__setattr__(self, "role_hints", _frozen_mapping(self.role_hints))

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Metric names in order of first appearance."""
        return tuple(pd.unique(self.records["metric"]))
