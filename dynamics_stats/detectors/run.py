"""`run_detectors`: every applicable detector on a modelled run, failures contained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dynamics_stats.core.errors import ModelFitError
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.base import Detector, Evidence

__all__ = ["DetectorRun", "run_detectors"]

# Errors a detector may meet on odd but valid data; anything else is a bug and propagates.
_CONTAINED = (
    ArithmeticError,
    ValueError,
    LookupError,
    TypeError,
    np.linalg.LinAlgError,
    ModelFitError,
)


@dataclass(frozen=True, slots=True)
class DetectorRun:
    """What running the detectors produced.

    Parameters
    ----------
    evidence : tuple of Evidence
        Evidence from every detector that ran.
    ran : tuple of str
        Names of the detectors that ran.
    skipped : tuple of (str, str)
        Detector name and the reason it did not run (missing metric roles, or an error).
    """

    evidence: tuple[Evidence, ...]
    ran: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def _missing_roles(detector: Detector, run: ModelledRun) -> list[str]:
    return sorted(role for role in detector.requires if role not in run.artifacts.primary)


def run_detectors(run: ModelledRun, detectors: Sequence[Detector]) -> DetectorRun:
    """Run each detector whose required metrics are present.

    A detector whose metrics are missing is skipped with the reason; one that fails on
    the data is skipped with the error, and the others still run.

    Parameters
    ----------
    run : ModelledRun
        The modelled run.
    detectors : sequence of Detector
        Detector instances, in order.

    Returns
    -------
    DetectorRun
    """
    evidence: list[Evidence] = []
    ran: list[str] = []
    skipped: list[tuple[str, str]] = []
    for detector in detectors:
        missing = _missing_roles(detector, run)
        if missing:
            skipped.append(
                (detector.name, f"needs {', '.join(missing)}, which the run does not log")
            )
            continue
        try:
            evidence.extend(detector.detect(run))
        except _CONTAINED as err:
            skipped.append((detector.name, f"failed on this run ({type(err).__name__}: {err})"))
            continue
        ran.append(detector.name)
    return DetectorRun(tuple(evidence), tuple(ran), tuple(skipped))
