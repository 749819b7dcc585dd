"""`AnalysisConfig`: the settings of every stage of one analysis, loadable from TOML."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.config import ValidationConfig
from dynamics_stats.core.errors import ConfigError, LoadError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["AnalysisConfig", "load_config"]


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    """Settings of one analysis.

    Parameters
    ----------
    validation : ValidationConfig, default=ValidationConfig()
        Role overrides and validation thresholds.
    curves : object or None, default=None
        Curve-model settings (`CurvesConfig`); None uses the defaults.
    detectors : mapping of str to mapping, default={}
        Detector name -> parameters overriding its defaults, e.g.
        ``{"spikes": {"z_threshold": 8.0}}``.
    format : str or None, default=None
        Force a log format instead of detecting it.
    min_probability : float, default=0.5
        A problem becomes a finding when its probability reaches this value.
    calibration : str or None, default=None
        Path of a calibration map to use instead of the shipped one.
    """

    validation: ValidationConfig = field(default_factory=ValidationConfig)
    curves: Any = None
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    format: str | None = None
    min_probability: float = 0.5
    calibration: str | None = None

    def __post_init__(self) -> None:
        check_float(self, "min_probability", low=0.0, high=1.0)
        frozen = {k: MappingProxyType(dict(v)) for k, v in self.detectors.items()}
        object.__setattr__(self, "detectors", MappingProxyType(frozen))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisConfig:
        """Build a config from plain values, rejecting unknown keys.

        Raises
        ------
        ConfigError
            If a key is unknown (the message lists the valid ones) or a value is invalid.
        """
        _reject_unknown("AnalysisConfig", data, cls)
        values = dict(data)
        if "validation" in values:
            _reject_unknown("ValidationConfig", values["validation"], ValidationConfig)
            values["validation"] = ValidationConfig(**values["validation"])
        if "curves" in values:
            values["curves"] = _curves_from_dict(values["curves"])
        return cls(**values)


def _curves_from_dict(data: Mapping[str, Any]) -> Any:
    from dynamics_stats.core import config as config_module

    curves_cls = getattr(config_module, "CurvesConfig", None)
    if curves_cls is None:
        raise ConfigError("curve settings are not supported by this version.")
    _reject_unknown("CurvesConfig", data, curves_cls)
    nested = {}
    for f in dataclasses.fields(curves_cls):
        value = data.get(f.name)
        if isinstance(value, Mapping) and dataclasses.is_dataclass(f.default_factory()):  # type: ignore[misc]
            sub_cls = type(f.default_factory())  # type: ignore[misc]
            _reject_unknown(sub_cls.__name__, value, sub_cls)
            nested[f.name] = sub_cls(**value)
        elif f.name in data:
            nested[f.name] = value
    return curves_cls(**nested)


def _reject_unknown(owner: str, data: Any, cls: type) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{owner} settings must be a table of keys; got {type(data).__name__}.")
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown {owner} key(s): {', '.join(unknown)}. Valid keys: {', '.join(valid)}."
        )


def load_config(path: str | Path) -> AnalysisConfig:
    """Read an `AnalysisConfig` from a TOML file.

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
    return AnalysisConfig.from_dict(data)
