"""Exceptions and warnings raised by dynamics_stats.

The hierarchy::

    DynamicsStatsError
    ├── InputError (also ValueError)
    │   ├── LoadError          cannot find, read or recognise a log
    │   ├── InvalidRunError    readable but unusable; carries .report (ValidationReport)
    │   └── ConfigError        bad parameter or config key
    ├── UnknownNameError (also LookupError)   unregistered detector, loader or calibrator
    ├── NotFittedError (also AttributeError)  calibrator used before fit/load
    └── ModelFitError          statsmodels/ruptures/scikit-learn failed on valid input
    DynamicsStatsWarning (UserWarning) ── DataQualityWarning, FitWarning, TrainingAlertWarning

Every message says what is wrong, where, what was received and how to fix it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dynamics_stats.core.report import ValidationReport

__all__ = [
    "ConfigError",
    "DataQualityWarning",
    "DynamicsStatsError",
    "DynamicsStatsWarning",
    "FitWarning",
    "InputError",
    "InvalidRunError",
    "LoadError",
    "ModelFitError",
    "NotFittedError",
    "TrainingAlertWarning",
    "UnknownNameError",
]


class DynamicsStatsError(Exception):
    """Base class of every exception raised on purpose by dynamics_stats."""


class InputError(DynamicsStatsError, ValueError):
    """The input (a file, a table, a parameter) cannot be used as given."""


class LoadError(InputError):
    """A log cannot be found, read or recognised."""


class InvalidRunError(InputError):
    """A log was read but holds nothing that can be analysed.

    Parameters
    ----------
    message : str
        What is wrong, where, and how to fix it.
    report : ValidationReport
        Every issue found while validating, fatal or not.
    """

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


class ConfigError(InputError):
    """A parameter or configuration key has an invalid value."""


class UnknownNameError(DynamicsStatsError, LookupError):
    """A name (loader, detector, calibrator, role) is not registered."""

    def __str__(self) -> str:
        # LookupError subclasses are fine, but keep the plain message (KeyError would quote it).
        return str(self.args[0]) if self.args else ""


class NotFittedError(DynamicsStatsError, AttributeError):
    """A calibrator was used before it was fitted or loaded."""


class ModelFitError(DynamicsStatsError):
    """A statistical model failed on input that passed validation."""


class DynamicsStatsWarning(UserWarning):
    """Base class of the warnings emitted by dynamics_stats."""


class DataQualityWarning(DynamicsStatsWarning):
    """The data were usable but something in them lowers the reliability of the analysis."""


class FitWarning(DynamicsStatsWarning):
    """A model fit did not converge or fell back to a simpler method."""


class TrainingAlertWarning(DynamicsStatsWarning):
    """A training run being monitored shows a problem (NaN/Inf, spike, likely divergence)."""
