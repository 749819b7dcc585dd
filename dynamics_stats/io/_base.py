"""What every loader provides: `LoaderSpec` and `LoadOptions`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dynamics_stats.core.run_log import RunLog

__all__ = ["LoadOptions", "LoaderSpec"]


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Options some loaders need; each loader ignores what it does not use.

    Parameters
    ----------
    tracking_uri : str or None, default=None
        MLflow tracking URI (``file:./mlruns``, ``sqlite:///mlflow.db``, ``http://host:5000``)
        for ``runs:/<run_id>`` sources.
    regex : str or None, default=None
        For plain-text logs: a regular expression with named groups; ``step`` or ``epoch``
        give the position and every other group is a metric.
    step_column : str or None, default=None
        For tables: the column holding the step, when it is not one of the usual names.
    rename : mapping of str to str, default={}
        Source metric name -> name to use (applied before roles are inferred).
    """

    tracking_uri: str | None = None
    regex: str | None = None
    step_column: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rename", MappingProxyType(dict(self.rename)))


@dataclass(frozen=True, slots=True)
class LoaderSpec:
    """A registered log format.

    Parameters
    ----------
    format : str
        Registry name, used by ``format=`` and ``--format``.
    description : str
        One line for ``dynamics-stats formats`` and error messages.
    sniff : callable
        ``sniff(path) -> bool``: cheap test (file names, first bytes) that the path holds
        this format. Never imports a heavy library.
    load : callable
        ``load(path, options) -> RunLog``. Raises `LoadError` on unreadable input.
    extra : str or None, default=None
        The pip extra the loader needs (``"tensorboard"``), or None.
    """

    format: str
    description: str
    sniff: Callable[[Path], bool]
    load: Callable[[Path, LoadOptions], RunLog]
    extra: str | None = None
