"""`TrainingDynamicsConfig`: the settings of every stage of one analysis, loadable from TOML.

`AnalysisConfig` is the same class under its earlier name.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.config import CurvesConfig, ValidationConfig
from dynamics_stats.core.errors import ConfigError, LoadError
from dynamics_stats.core.kinds import CORE_KINDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_RISK_WEIGHTS",
    "AnalysisConfig",
    "PolicyConfig",
    "TrainingDynamicsConfig",
    "load_config",
]


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Thresholds of the agent's policy: risk levels, confidence and the LR response.

    Parameters
    ----------
    risk_medium : float, default=0.3
        Risk scores from this value are "medium".
    risk_high : float, default=0.7
        Risk scores from this value are "high".
    driver_min_probability : float, default=0.3
        A problem kind whose impact-weighted probability reaches this value is named as a
        risk driver.
    min_train_points : int, default=50
        A training loss with fewer points is a short or sparse log (lowers confidence).
    min_val_points : int, default=5
        A validation curve with fewer points is sparse (lowers confidence).
    lr_response_windows : int, default=12
        Number of step windows in which the loss slope is related to the learning rate.
    max_lr_factor : float, default=10.0
        A recommended learning rate stays within this factor of the current one.
    risk_weights : mapping of str to float, default=DEFAULT_RISK_WEIGHTS
        Impact of each core kind on the run-level risk, in [0, 1]: how likely the problem,
        if real, is to keep the run from a good result or waste its compute. Kinds not
        given keep their default weight.

    Notes
    -----
    The default weights are a judgement, not a fit: divergence, stalled training and
    vanishing gradients stop learning outright (1.0); exploding gradients often precede
    divergence and overfitting wastes the compute after the best checkpoint, which is
    still usable (0.8); spikes that recover and oscillation slow training but rarely
    prevent a good result (0.5).
    """

    risk_medium: float = 0.3
    risk_high: float = 0.7
    driver_min_probability: float = 0.3
    min_train_points: int = 50
    min_val_points: int = 5
    lr_response_windows: int = 12
    max_lr_factor: float = 10.0
    risk_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RISK_WEIGHTS))

    def __post_init__(self) -> None:
        check_float(self, "risk_medium", low=0.0, high=1.0)
        check_float(self, "risk_high", low=self.risk_medium, high=1.0)
        check_float(self, "driver_min_probability", low=0.0, high=1.0)
        check_int(self, "min_train_points", low=1)
        check_int(self, "min_val_points", low=1)
        check_int(self, "lr_response_windows", low=5, high=200)
        check_float(self, "max_lr_factor", low=1.0, low_open=True)
        object.__setattr__(self, "risk_weights", MappingProxyType(_risk_weights(self.risk_weights)))


#: Default impact of each core kind on the run-level risk (see `PolicyConfig`).
DEFAULT_RISK_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "overfitting": 0.8,
        "stalled": 1.0,
        "divergence": 1.0,
        "loss_spikes": 0.5,
        "oscillation": 0.5,
        "exploding_gradients": 0.8,
        "vanishing_gradients": 1.0,
    }
)


def _risk_weights(given: Any) -> dict[str, float]:
    if not isinstance(given, Mapping):
        raise ConfigError(f"PolicyConfig.risk_weights must map kinds to weights; got {given!r}.")
    unknown = sorted(set(given) - set(CORE_KINDS))
    if unknown:
        raise ConfigError(
            f"PolicyConfig.risk_weights has unknown kind(s) {', '.join(unknown)}; "
            f"valid kinds: {', '.join(CORE_KINDS)}."
        )
    for kind, weight in given.items():
        ok = isinstance(weight, (int, float)) and not isinstance(weight, bool)
        if not ok or not 0.0 <= weight <= 1.0:
            raise ConfigError(
                f"PolicyConfig.risk_weights[{kind!r}] must be a number in [0, 1]; got {weight!r}."
            )
    return {**DEFAULT_RISK_WEIGHTS, **{k: float(v) for k, v in given.items()}}


def _names(owner: str, value: Any) -> tuple[str, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str)
    if not ok or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{owner} must be a list of detector names; got {value!r}.")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class TrainingDynamicsConfig:
    """Settings of one analysis: thresholds, windows, which analyses run, budget, calibration.

    Parameters
    ----------
    validation : ValidationConfig, default=ValidationConfig()
        Role overrides and validation thresholds.
    curves : CurvesConfig or None, default=None
        Curve-model settings (smoothing, changepoints, anomalies); None uses the defaults.
    detectors : mapping of str to mapping, default={}
        Detector name -> parameters overriding its defaults (thresholds, windows), e.g.
        ``{"spikes": {"z_threshold": 8.0}}``.
    enabled_detectors : tuple of str or None, default=None
        Run only these detectors (None: every registered one but the null detector).
    disabled_detectors : tuple of str, default=()
        Detectors not to run; the result lists them as ``disabled``.
    format : str or None, default=None
        Force a log format instead of detecting it.
    min_probability : float, default=0.5
        A problem becomes a finding when its probability reaches this value.
    calibration : str or None, default=None
        Path of a calibration map (JSON) to use instead of the shipped one.
    max_model_points : int or None, default=None
        Performance budget: curves longer than this are binned to this many points before
        modelling (overrides ``curves.smoothing.max_points``).
    policy : PolicyConfig, default=PolicyConfig()
        Risk, confidence and LR-response settings.

    Examples
    --------
    >>> config = TrainingDynamicsConfig.from_dict(
    ...     {"disabled_detectors": ["efficiency"], "policy": {"risk_high": 0.8}}
    ... )
    >>> config.disabled_detectors, config.policy.risk_high
    (('efficiency',), 0.8)
    """

    validation: ValidationConfig = field(default_factory=ValidationConfig)
    curves: CurvesConfig | None = None
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    enabled_detectors: tuple[str, ...] | None = None
    disabled_detectors: tuple[str, ...] = ()
    format: str | None = None
    min_probability: float = 0.5
    calibration: str | None = None
    max_model_points: int | None = None
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def __post_init__(self) -> None:
        check_float(self, "min_probability", low=0.0, high=1.0)
        if self.max_model_points is not None:
            check_int(self, "max_model_points", low=20)
        if not isinstance(self.detectors, Mapping) or not all(
            isinstance(v, Mapping) for v in self.detectors.values()
        ):
            raise ConfigError(
                "TrainingDynamicsConfig.detectors must map detector names to tables of "
                f"parameters; got {self.detectors!r}."
            )
        frozen = {k: MappingProxyType(dict(v)) for k, v in self.detectors.items()}
        object.__setattr__(self, "detectors", MappingProxyType(frozen))
        if self.enabled_detectors is not None:
            names = _names("TrainingDynamicsConfig.enabled_detectors", self.enabled_detectors)
            object.__setattr__(self, "enabled_detectors", names)
        names = _names("TrainingDynamicsConfig.disabled_detectors", self.disabled_detectors)
        object.__setattr__(self, "disabled_detectors", names)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingDynamicsConfig:
        """Build a config from plain values (e.g. parsed TOML), rejecting unknown keys.

        Parameters
        ----------
        data : mapping
            Keys are the field names; nested tables for ``validation``, ``curves``,
            ``detectors`` and ``policy``.

        Returns
        -------
        TrainingDynamicsConfig

        Raises
        ------
        ConfigError
            If a key is unknown (the message lists the valid ones) or a value is invalid.
        """
        _reject_unknown("TrainingDynamicsConfig", data, cls)
        values = dict(data)
        if "validation" in values:
            values["validation"] = _nested(ValidationConfig, values["validation"])
        if "curves" in values:
            values["curves"] = _curves_from_dict(values["curves"])
        if "policy" in values:
            values["policy"] = _nested(PolicyConfig, values["policy"])
        return cls(**values)


#: The earlier name of `TrainingDynamicsConfig`, kept for compatibility.
AnalysisConfig = TrainingDynamicsConfig


def _nested(cls: type, data: Any) -> Any:
    _reject_unknown(cls.__name__, data, cls)
    return cls(**data)


def _curves_from_dict(data: Any) -> CurvesConfig:
    _reject_unknown("CurvesConfig", data, CurvesConfig)
    nested = {}
    for f in dataclasses.fields(CurvesConfig):
        if f.name in data:
            sub_cls = type(getattr(CurvesConfig(), f.name))
            nested[f.name] = _nested(sub_cls, data[f.name])
    return CurvesConfig(**nested)


def _reject_unknown(owner: str, data: Any, cls: type) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{owner} settings must be a table of keys; got {type(data).__name__}.")
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown {owner} key(s): {', '.join(unknown)}. Valid keys: {', '.join(valid)}."
        )


def load_config(path: str | Path) -> TrainingDynamicsConfig:
    """Read a `TrainingDynamicsConfig` from a TOML file.

    Parameters
    ----------
    path : str or Path
        The TOML file; its top-level keys are the config's fields.

    Returns
    -------
    TrainingDynamicsConfig

    Raises
    ------
    LoadError
        If the file cannot be read or is not valid TOML.
    ConfigError
        If a key is unknown or a value invalid.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise LoadError(f"cannot read the config file '{path}': {err.strerror}.") from err
    except tomllib.TOMLDecodeError as err:
        raise LoadError(f"'{path}' is not valid TOML: {err}. Fix the file's syntax.") from err
    try:
        return TrainingDynamicsConfig.from_dict(data)
    except ConfigError as err:
        raise ConfigError(f"in '{path}': {err}") from err
