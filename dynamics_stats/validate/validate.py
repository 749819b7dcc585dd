"""`validate_run`: from a raw `RunLog` to `TrainingArtifacts`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.core.artifacts import MetricSeries, TrainingArtifacts
from dynamics_stats.core.config import ValidationConfig
from dynamics_stats.core.errors import InvalidRunError
from dynamics_stats.core.report import ValidationIssue, ValidationReport
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray, Role
from dynamics_stats.validate._checks import check_metrics
from dynamics_stats.validate._primary import choose_primary
from dynamics_stats.validate._steps import resolve_steps, superseded_mask
from dynamics_stats.validate._values import coerce_values
from dynamics_stats.validate.roles import infer_role

__all__ = ["validate_run"]


def validate_run(run: RunLog, config: ValidationConfig | None = None) -> TrainingArtifacts:
    """Check, repair and give roles to a loaded run.

    Values are coerced to numbers (NaN and inf are kept: they are evidence), records
    get integer steps (epoch-only records are placed at the end of their epoch), writes
    superseded by later writes (duplicates, resumed runs) are dropped keeping the latest,
    and every metric gets a role and direction: the user's override first, then what the
    format says, then what the name says. Every repair is described in the report.

    Parameters
    ----------
    run : RunLog
        A run from `dynamics_stats.load_run`.
    config : ValidationConfig or None, default=None
        Role overrides and thresholds.

    Returns
    -------
    TrainingArtifacts
        The validated run; ``artifacts.report`` lists what was found and repaired.

    Raises
    ------
    InvalidRunError
        If nothing in the run can be analysed (no numeric value at all). The exception
        carries the full report.

    Examples
    --------
    >>> import pandas as pd
    >>> from dynamics_stats import load_run, validate_run
    >>> frame = pd.DataFrame({"step": [1, 2, 2, 3], "loss": [2.0, 1.5, 1.4, "nan"]})
    >>> artifacts = validate_run(load_run(frame))
    >>> artifacts.get("train_loss").values.tolist()
    [2.0, 1.4, nan]
    """
    config = config or ValidationConfig()
    records = run.records
    issues: list[ValidationIssue] = list(run.notes)
    values, junk, value_issues = coerce_values(records)
    steps, has_step, step_unit, step_issues = resolve_steps(records, run.step_unit)
    issues.extend(value_issues + step_issues)
    codes, names = pd.factorize(records["metric"].astype(str), sort=False)
    superseded, backward = superseded_mask(codes[has_step], steps[has_step])
    issues.extend(_superseded_notes(records[has_step], superseded, backward))
    positioned = np.flatnonzero(has_step)[~superseded]
    kept = positioned[~junk[positioned]]
    metrics = _build_metrics(run, records, kept, codes, list(names), values, steps, config)
    issues.extend(check_metrics(metrics, records, config))
    report = ValidationReport(run.source, tuple(issues))
    if not metrics:
        fatal = ValidationIssue(
            code="no_numeric_metric",
            level="fatal",
            message=f"'{run.source}' holds no numeric metric value "
            f"(names seen: {', '.join(map(str, names[:10])) or 'none'}).",
            hint="Check that this is the training log and that it is not empty.",
        )
        report = report.with_issues(fatal)
        raise InvalidRunError(f"cannot analyse {fatal.message} {fatal.hint}", report)
    return TrainingArtifacts(
        source=run.source,
        format=run.format,
        step_unit=step_unit,
        metrics=metrics,
        primary=choose_primary(metrics, config.primary),
        hparams=run.hparams,
        report=report,
        files=run.files,
    )


def _role_of(name: str, run: RunLog, config: ValidationConfig) -> tuple[Role, str]:
    inferred_role, direction = infer_role(name)
    role = config.roles.get(name) or run.role_hints.get(name) or inferred_role
    if role != inferred_role:
        direction = "min" if role in ("train_loss", "val_loss") else "none"
        if role in ("train_metric", "val_metric"):
            direction = infer_role(name)[1]
    return role, direction


def _build_metrics(  # noqa: PLR0913 - one internal assembly step
    run: RunLog,
    records: pd.DataFrame,
    kept: IntArray,
    codes: IntArray,
    names: list[str],
    values: FloatArray,
    steps: FloatArray,
    config: ValidationConfig,
) -> tuple[MetricSeries, ...]:
    order = kept[np.argsort(codes[kept], kind="stable")]
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    epochs = pd.to_numeric(records["epoch"], errors="coerce").to_numpy(float)
    walls = pd.to_numeric(records["wall_time"], errors="coerce").to_numpy(float)
    metrics = []
    for group in np.split(order, bounds):
        if not len(group):
            continue
        name = names[codes[group[0]]]
        role, direction = _role_of(name, run, config)
        sort = np.argsort(steps[group], kind="stable")
        rows = group[sort]
        metrics.append(
            MetricSeries(
                name=name,
                role=role,
                direction=direction,  # type: ignore[arg-type]
                steps=steps[rows].astype(np.int64),
                values=values[rows],
                epochs=epochs[rows],
                wall_times=walls[rows],
            )
        )
    first_seen = {name: i for i, name in enumerate(names)}
    return tuple(sorted(metrics, key=lambda m: first_seen[m.name]))


def _superseded_notes(
    records: pd.DataFrame, superseded: BoolArray, backward: BoolArray
) -> list[ValidationIssue]:
    metrics = records["metric"].astype(str).to_numpy()
    lines = records["line"].to_numpy(np.int64)
    notes = []
    for metric in pd.unique(metrics[superseded]):
        mine = metrics == metric
        n_dropped = int((superseded & mine).sum())
        n_back = int((backward & mine).sum())
        cause = (
            f"its steps go backwards {n_back} time(s) (a run resumed from an earlier checkpoint)"
            if n_back
            else "the same steps were written more than once"
        )
        where = backward & mine if n_back else superseded & mine
        notes.append(
            ValidationIssue(
                code="steps_backwards" if n_back else "duplicate_steps",
                level="repaired",
                message=f"{metric!r}: {cause}; {n_dropped} earlier values were replaced by "
                "the later writes of the same steps.",
                metric=str(metric),
                n_affected=n_dropped,
                lines=tuple(int(x) for x in lines[where][:10] if x > 0),
            )
        )
    return notes
