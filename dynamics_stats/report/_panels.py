"""Build the HTML report's charts from an analysis: curves, gap, grad norm, LR schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import FloatArray, Role
from dynamics_stats.curves.types import SmoothedCurve
from dynamics_stats.report._svg import Chart, Rule, Series

if TYPE_CHECKING:
    from dynamics_stats.agent.agent import AnalysisDetails

__all__ = ["build_charts", "clip_threshold"]

_Z95 = 1.96
_CLIP_KEYS = ("gradient_clip_val", "max_grad_norm", "clip_grad_norm", "grad_clip", "clip_norm")


def _natural(curve: SmoothedCurve, values: FloatArray) -> FloatArray:
    return np.power(10.0, values) if curve.log_scale else values


def _curve_series(curve: SmoothedCurve, css: str) -> tuple[Series, ...]:
    steps = curve.steps.astype(float)
    low = _natural(curve, curve.level - _Z95 * curve.level_se)
    high = _natural(curve, curve.level + _Z95 * curve.level_se)
    return (
        Series(f"{curve.metric}: 95% band of the level", steps, low, css, "band", high),
        Series(f"{curve.metric}: smoothed level", steps, _natural(curve, curve.level), css),
    )


def _metric_series(metric: MetricSeries, css: str, curve: SmoothedCurve | None) -> list[Series]:
    steps = metric.steps.astype(float)
    shape = "points" if len(metric) <= 200 and curve is not None else "faint"
    if curve is None:
        shape = "line"
    raw = Series(f"{metric.name} (logged)", steps, metric.values, css, shape)  # type: ignore[arg-type]
    return [raw, *(_curve_series(curve, css) if curve is not None else ())]


def _finding_rules(details: AnalysisDetails, metrics: set[str], fallback: bool) -> list[Rule]:
    rules = []
    for finding in details.result.findings:
        if finding.onset_step is None:
            continue
        if finding.metric in metrics or (fallback and finding.metric not in _all_plotted(details)):
            p = "" if finding.probability is None else f" p={finding.probability:.2f}"
            label = f"{finding.kind} onset{p}"
            tooltip = f"{label} at step {finding.onset_step:,}: {finding.message}"
            rules.append(Rule(float(finding.onset_step), label, "onset", tooltip=tooltip))
    return rules


def _all_plotted(details: AnalysisDetails) -> set[str]:
    return set(details.artifacts.primary.values())


def _changepoint_rules(details: AnalysisDetails, metrics: Iterable[str]) -> list[Rule]:
    rules = []
    for name in metrics:
        for cp in details.modelled.changepoints.get(name, ()):
            label = f"change p={cp.probability:.2f}"
            tooltip = f"change in {name} at step {cp.step:,}: p={cp.probability:.2f}"
            rules.append(Rule(float(cp.step), label, "change", tooltip=tooltip))
    return rules


def _marked_steps(details: AnalysisDetails, kinds: set[str]) -> set[int]:
    steps = {s for e in details.evidence if e.kind in kinds for s in e.steps}
    return steps | {s for f in details.result.findings if f.kind in kinds for s in f.steps}


def _markers(metric: MetricSeries, steps: set[int], label: str, css: str) -> list[Series]:
    if not steps:
        return []
    mask = np.isin(metric.steps, np.fromiter(steps, np.int64))
    if not mask.any():
        return []
    return [Series(label, metric.steps[mask].astype(float), metric.values[mask], css, "points")]


def _loss_chart(details: AnalysisDetails) -> Chart | None:
    arts, curves = details.artifacts, details.modelled.curves
    series: list[Series] = []
    names = []
    loss_roles: tuple[tuple[Role, str], ...] = (("train_loss", "s0"), ("val_loss", "s1"))
    for role, css in loss_roles:
        metric = arts.get(role)
        if metric is not None:
            names.append(metric.name)
            series += _metric_series(metric, css, curves.get(metric.name))
    if not series:
        return None
    train = arts.get("train_loss")
    if train is not None:
        spikes = _marked_steps(details, {"loss_spikes"})
        series += _markers(train, spikes, "loss spikes", "bad")
    rules = _changepoint_rules(details, names) + _finding_rules(details, set(names), True)
    return Chart("Loss", "loss", tuple(series), tuple(rules))


def _gap_chart(details: AnalysisDetails) -> Chart | None:
    train, val = details.artifacts.get("train_loss"), details.artifacts.get("val_loss")
    if train is None or val is None or len(val) < 2:
        return None
    curve = details.modelled.curves.get(train.name)
    if curve is not None:
        ref_steps, ref_values = curve.steps.astype(float), _natural(curve, curve.level)
    else:
        ref_steps, ref_values = train.steps.astype(float), train.values
    ok = np.isfinite(ref_values)
    if ok.sum() < 2:
        return None
    train_at_val = np.interp(val.steps.astype(float), ref_steps[ok], ref_values[ok])
    positive = bool(np.all(train_at_val > 0) and np.all(val.values[np.isfinite(val.values)] > 0))
    if positive:
        gap, label = val.values / train_at_val, "validation loss / training loss"
    else:
        gap, label = val.values - train_at_val, "validation loss - training loss"
    series = (Series(label, val.steps.astype(float), gap, "s2"),)
    rules = _finding_rules(details, {val.name}, False)
    rules = [r for r in rules if r.label.startswith("overfitting")]
    return Chart("Train / validation gap", label, series, tuple(rules))


def clip_threshold(details: AnalysisDetails) -> tuple[float, str] | None:
    """Return the gradient-clip threshold to draw and where it came from, if known.

    Parameters
    ----------
    details : AnalysisDetails
        The analysis.

    Returns
    -------
    tuple of (float, str) or None
        The run's own clip value (a logged ``clip_threshold`` metric, else a clip
        hyper-parameter) or else the clip value the clipping detector recommends.
    """
    logged = details.artifacts.get("clip_threshold")
    if logged is not None:
        finite = logged.values[np.isfinite(logged.values) & (logged.values > 0)]
        if len(finite):
            median = float(np.median(finite))
            return median, f"clip threshold ({logged.name}, median {median:.3g})"
    for key, value in details.artifacts.hparams.items():
        leaf = key.rsplit(".", 1)[-1].lower()
        if leaf in _CLIP_KEYS and isinstance(value, int | float) and value > 0:
            return float(value), f"clip threshold ({key}={value:g})"
    for evidence in details.evidence:
        for name, value in evidence.values:
            if name == "recommended_clip" and np.isfinite(value) and value > 0:
                return float(value), f"recommended clip {value:.3g}"
    return None


def _grad_chart(details: AnalysisDetails) -> Chart | None:
    metric = details.artifacts.get("grad_norm")
    if metric is None:
        return None
    series = _metric_series(metric, "s3", details.modelled.curves.get(metric.name))
    anomalies = details.modelled.grad_anomalies
    flagged = set()
    if anomalies is not None and anomalies.metric == metric.name:
        flagged = {int(s) for s in anomalies.steps[anomalies.is_anomaly]}
    series += _markers(metric, flagged, "anomalous steps (isolation forest)", "warn")
    rules = _changepoint_rules(details, [metric.name]) + _finding_rules(
        details, {metric.name}, False
    )
    clip = clip_threshold(details)
    if clip is not None:
        rules.append(Rule(clip[0], clip[1], "clip", vertical=False))
    return Chart("Gradient norm", "grad norm", tuple(series), tuple(rules))


def _simple_chart(details: AnalysisDetails, role: Role, title: str, css: str) -> Chart | None:
    metric = details.artifacts.get(role)
    if metric is None:
        return None
    series = _metric_series(metric, css, details.modelled.curves.get(metric.name))
    rules = _changepoint_rules(details, [metric.name]) + _finding_rules(
        details, {metric.name}, False
    )
    return Chart(title, metric.name, tuple(series), tuple(rules))


def build_charts(details: AnalysisDetails) -> tuple[Chart, ...]:
    """Return the report's charts, in reading order, for the roles the run logged.

    Parameters
    ----------
    details : AnalysisDetails
        The analysis with its validated run, curve models and evidence.

    Returns
    -------
    tuple of Chart
        Loss curves, train/validation gap, gradient norm, learning rate, validation metric
        (each only when the run logged what it needs).
    """
    charts = (
        _loss_chart(details),
        _gap_chart(details),
        _grad_chart(details),
        _simple_chart(details, "learning_rate", "Learning-rate schedule", "s4"),
        _simple_chart(details, "val_metric", "Validation metric", "s5"),
    )
    return tuple(c for c in charts if c is not None)
