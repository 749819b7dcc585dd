"""`summarize_run`: what was analysed, as plain values for the result."""

from __future__ import annotations

from dynamics_stats.core.agent_result import MetricSummary, RunSummary
from dynamics_stats.core.artifacts import TrainingArtifacts

__all__ = ["summarize_run"]


def summarize_run(artifacts: TrainingArtifacts) -> RunSummary:
    """Return the source, format, metrics and their extents of a validated run.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.

    Returns
    -------
    RunSummary
    """
    metrics = tuple(
        MetricSummary(
            name=m.name,
            role=m.role,
            direction=m.direction,
            n_points=len(m),
            first_step=int(m.steps[0]) if len(m) else None,
            last_step=int(m.steps[-1]) if len(m) else None,
        )
        for m in artifacts.metrics
    )
    last = [m.last_step for m in metrics if m.last_step is not None]
    return RunSummary(
        source=artifacts.source,
        format=artifacts.format,
        step_unit=artifacts.step_unit,
        last_step=max(last) if last else None,
        metrics=metrics,
        primary=tuple(artifacts.primary.items()),
    )
