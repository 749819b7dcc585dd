"""Render what ``dynamics-stats inspect`` prints about a validated run."""

from __future__ import annotations

from dynamics_stats.core.artifacts import TrainingArtifacts

__all__ = ["render_inspection"]


def _fmt_interval(value: object) -> str:
    if not isinstance(value, float):
        return "-"
    return f"{value:g}"


def render_inspection(artifacts: TrainingArtifacts) -> str:
    """Return a fixed-width description of a run: format, metrics, roles, repairs.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.

    Returns
    -------
    str
        Lines of at most about 100 characters.
    """
    primary = set(artifacts.primary.values())
    lines = [
        f"source:    {artifacts.source}",
        f"format:    {artifacts.format}    steps count: {artifacts.step_unit}",
        f"metrics:   {len(artifacts.metrics)}    hyper-parameters: {len(artifacts.hparams)}",
        "",
        f"  {'metric':<36} {'role':<17} {'dir':<4} {'points':>7} {'steps':>17} "
        f"{'every':>7} {'nan/inf':>7}",
    ]
    for series in artifacts.metrics:
        d = series.describe()
        mark = "*" if series.name in primary else " "
        span = f"{d['first_step']}-{d['last_step']}"
        lines.append(
            f"{mark} {series.name[:36]:<36} {series.role:<17} {series.direction:<4} "
            f"{d['n_points']:>7} {span:>17} {_fmt_interval(d['median_interval']):>7} "
            f"{d['n_nonfinite']:>7}"
        )
    lines += ["", "* the metric that stands for its role in the analysis", ""]
    issues = artifacts.report.issues
    lines.append(f"validation: {len(issues)} note(s)" if issues else "validation: no problems")
    lines += [f"  [{i.level}] {i.message}" for i in issues]
    return "\n".join(lines)
