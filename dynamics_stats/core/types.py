"""Type aliases shared by every layer."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ROLES",
    "BoolArray",
    "Direction",
    "FloatArray",
    "HParamValue",
    "IntArray",
    "JSONValue",
    "MetricName",
    "Role",
    "Severity",
    "Step",
    "StepUnit",
]

MetricName: TypeAlias = str
Step: TypeAlias = int
FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]

JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
HParamValue: TypeAlias = None | bool | int | float | str

Severity: TypeAlias = Literal["info", "warning", "critical"]
Direction: TypeAlias = Literal["min", "max", "none"]
StepUnit: TypeAlias = Literal["step", "epoch", "index"]

Role: TypeAlias = Literal[
    "train_loss",
    "val_loss",
    "train_metric",
    "val_metric",
    "grad_norm",
    "grad_norm_clipped",
    "clip_threshold",
    "learning_rate",
    "layer_grad_norm",
    "other",
]

ROLES: tuple[Role, ...] = (
    "train_loss",
    "val_loss",
    "train_metric",
    "val_metric",
    "grad_norm",
    "grad_norm_clipped",
    "clip_threshold",
    "learning_rate",
    "layer_grad_norm",
    "other",
)
