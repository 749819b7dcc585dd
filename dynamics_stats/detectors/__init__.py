"""Detectors: each measures one family of problems on a `ModelledRun` and emits `Evidence`.

The registry `DETECTORS` maps names to classes; `get_detector` builds one by name and
`default_detectors` builds the set the analysis runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dynamics_stats.core.errors import ConfigError, UnknownNameError
from dynamics_stats.detectors.base import CORE_KINDS, Detector, Evidence
from dynamics_stats.detectors.clipping import ClippingDetector
from dynamics_stats.detectors.divergence import DivergenceDetector
from dynamics_stats.detectors.efficiency import EfficiencyDetector
from dynamics_stats.detectors.gradients import GradientDetector
from dynamics_stats.detectors.lr_schedule import LRScheduleDetector
from dynamics_stats.detectors.null import NullDetector
from dynamics_stats.detectors.oscillation import OscillationDetector
from dynamics_stats.detectors.overfitting import OverfittingDetector
from dynamics_stats.detectors.progress import ProgressDetector
from dynamics_stats.detectors.run import DetectorRun, run_detectors
from dynamics_stats.detectors.spikes import SpikeDetector
from dynamics_stats.detectors.validation_plateau import ValidationPlateauDetector

__all__ = [
    "CORE_KINDS",
    "DETECTORS",
    "ClippingDetector",
    "Detector",
    "DetectorRun",
    "DivergenceDetector",
    "EfficiencyDetector",
    "Evidence",
    "GradientDetector",
    "LRScheduleDetector",
    "NullDetector",
    "OscillationDetector",
    "OverfittingDetector",
    "ProgressDetector",
    "SpikeDetector",
    "ValidationPlateauDetector",
    "default_detectors",
    "get_detector",
    "run_detectors",
]

_CLASSES: tuple[type, ...] = (
    OverfittingDetector,
    ProgressDetector,
    DivergenceDetector,
    SpikeDetector,
    OscillationDetector,
    GradientDetector,
    ClippingDetector,
    ValidationPlateauDetector,
    LRScheduleDetector,
    EfficiencyDetector,
    NullDetector,
)

#: Every registered detector class by name (read-only).
DETECTORS: Mapping[str, type] = MappingProxyType({cls.name: cls for cls in _CLASSES})  # type: ignore[attr-defined]

#: Detectors that run by default (all but the null detector), in this order.
DEFAULT_NAMES: tuple[str, ...] = tuple(n for n in DETECTORS if n != "null")


def get_detector(name: str, **params: Any) -> Detector:
    """Build the detector registered under ``name`` with the given parameters.

    Raises
    ------
    UnknownNameError
        If no detector has that name; the message suggests close names.
    ConfigError
        If a parameter is unknown or invalid.
    """
    if name not in DETECTORS:
        close = difflib.get_close_matches(name, DETECTORS, n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(
            f"no detector named {name!r}.{hint} Available: {', '.join(sorted(DETECTORS))}."
        )
    try:
        return DETECTORS[name](**params)  # type: ignore[no-any-return]
    except TypeError as err:
        raise ConfigError(f"bad parameters for detector {name!r}: {err}.") from err


def default_detectors(
    params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    names: tuple[str, ...] = DEFAULT_NAMES,
) -> tuple[Detector, ...]:
    """Build the detectors the analysis runs.

    Parameters
    ----------
    params : mapping of str to mapping, default=None
        Detector name -> parameters overriding its defaults.
    names : tuple of str, default=DEFAULT_NAMES
        Which detectors to build, in order.

    Returns
    -------
    tuple of Detector
    """
    params = params or {}
    unknown = sorted(set(params) - set(DETECTORS))
    if unknown:
        raise UnknownNameError(
            f"no detector named {unknown[0]!r} in the detector parameters. "
            f"Available: {', '.join(sorted(DETECTORS))}."
        )
    return tuple(get_detector(name, **dict(params.get(name, {}))) for name in names)
