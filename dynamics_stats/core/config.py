"""Configuration objects, one frozen dataclass per stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dynamics_stats.core._checks import check_int
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.types import ROLES, Role

__all__ = ["ValidationConfig"]


def _check_roles(owner: str, name: str, roles: Mapping[str, str]) -> None:
    for key, role in roles.items():
        if role not in ROLES:
            raise ConfigError(
                f"{owner}.{name}[{key!r}] must be one of {', '.join(ROLES)}; got {role!r}."
            )


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """How `validate_run` treats a run.

    Parameters
    ----------
    roles : mapping of str to Role, default={}
        Metric name -> role, overriding what the loader and the name imply
        (e.g. ``{"norm": "grad_norm", "objective": "train_loss"}``).
    primary : mapping of Role to str, default={}
        Role -> metric name that stands for it, when several metrics share a role.
    min_train_points : int, default=3
        Fewer train-loss points than this is reported as a warning.
    """

    roles: Mapping[str, Role] = field(default_factory=dict)
    primary: Mapping[Role, str] = field(default_factory=dict)
    min_train_points: int = 3

    def __post_init__(self) -> None:
        _check_roles("ValidationConfig", "roles", self.roles)
        for role in self.primary:
            if role not in ROLES:
                raise ConfigError(
                    f"ValidationConfig.primary has key {role!r}, which is not a role; "
                    f"use one of {', '.join(ROLES)}."
                )
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))
        object.__setattr__(self, "primary", MappingProxyType(dict(self.primary)))
        check_int(self, "min_train_points", low=1)
