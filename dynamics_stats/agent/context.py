"""`AgentContext`: everything the analyzer agent is given about one run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dynamics_stats.core.agent_result import UpstreamValidation
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.errors import InputError
from dynamics_stats.core.types import HParamValue

__all__ = ["UPSTREAM_AGENT_KEY", "AgentContext"]

#: Name under which another agent's artifact-validation output is read, when
#: ``upstream_validation`` is not given explicitly.
UPSTREAM_AGENT_KEY = "artifact_validation"


def _upstream_from_agent(output: Mapping[str, Any]) -> UpstreamValidation:
    """Read an artifact-validation agent's output (``passed``, ``issues``, ``summary``)."""
    issues = output.get("issues", ())
    n_issues = output.get("n_issues", len(issues) if isinstance(issues, (list, tuple)) else 0)
    passed = output.get("passed")
    return UpstreamValidation(
        ran=True,
        passed=passed if isinstance(passed, bool) else None,
        n_issues=int(n_issues),
        summary=str(output.get("summary", "")),
        source=str(output.get("source", UPSTREAM_AGENT_KEY)),
    )


def _check_hparams(hparams: Mapping[str, Any]) -> dict[str, HParamValue]:
    checked: dict[str, HParamValue] = {}
    for key, value in hparams.items():
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise InputError(
                f"AgentContext.hparams[{key!r}] must be a number, string, bool or None; got "
                f"{type(value).__name__}. Flatten nested settings with dotted keys."
            )
        bad = isinstance(value, float) and not math.isfinite(value)
        checked[str(key)] = None if bad else value
    return checked


@dataclass(frozen=True, slots=True)
class AgentContext:
    """What the analyzer agent is given: the run and what other agents said about it.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run (required): ``validate_run(load_run(path))``.
    upstream_validation : UpstreamValidation or None, default=None
        Whether an upstream artifact validation ran and what it found. None reads it from
        ``other_agents["artifact_validation"]`` when present, else records it as unknown.
        The analysis is more reliable when artifacts were validated; the result says so.
    other_agents : mapping of str to mapping, default={}
        Outputs of other agents by name (JSON-like dicts); their names are recorded.
    hparams : mapping of str to scalar or None, default=None
        The run's hyper-parameters, overriding or adding to those found in the log (dotted
        keys, e.g. ``{"optimizer.lr": 3e-4, "gradient_clip_val": 1.0}``).

    Raises
    ------
    InputError
        If ``artifacts`` is missing or not a `TrainingArtifacts`, or a hyper-parameter is
        not a scalar.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.io.synthetic import make_run
    >>> context = AgentContext(validate_run(make_run("stalled", seed=0)[0]), hparams={"lr": 1e-4})
    >>> context.hparams["lr"], context.upstream_validation.ran is None
    (0.0001, True)
    """

    artifacts: TrainingArtifacts
    upstream_validation: UpstreamValidation | None = None
    other_agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    hparams: Mapping[str, HParamValue] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.artifacts, TrainingArtifacts):
            raise InputError(
                "AgentContext needs the validated TrainingArtifacts of a run; got "
                f"{type(self.artifacts).__name__}. Build them with "
                "validate_run(load_run(path)), or call dynamics_stats.analyze(path)."
            )
        if not all(isinstance(v, Mapping) for v in self.other_agents.values()):
            raise InputError("AgentContext.other_agents must map agent names to dicts.")
        others = {str(k): MappingProxyType(dict(v)) for k, v in self.other_agents.items()}
        object.__setattr__(self, "other_agents", MappingProxyType(others))
        merged = {**self.artifacts.hparams, **_check_hparams(self.hparams or {})}
        object.__setattr__(self, "hparams", MappingProxyType(merged))
        upstream = self.upstream_validation
        if upstream is None and UPSTREAM_AGENT_KEY in others:
            upstream = _upstream_from_agent(others[UPSTREAM_AGENT_KEY])
        object.__setattr__(self, "upstream_validation", upstream or UpstreamValidation())

    def artifacts_for_analysis(self) -> TrainingArtifacts:
        """Return the artifacts with the context's hyper-parameters (the input is unchanged)."""
        if dict(self.artifacts.hparams) == dict(self.hparams or {}):
            return self.artifacts
        return dataclasses.replace(self.artifacts, hparams=dict(self.hparams or {}))
