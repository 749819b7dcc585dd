"""Hand-written SVG line charts for the HTML report: no JavaScript, every text escaped.

A `Chart` lists its `Series` (lines, point markers, uncertainty bands) and its `Rule` s
(vertical lines at steps, horizontal lines at values); `render_chart` draws it as one
``<figure>`` holding an inline ``<svg>`` and an HTML legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Literal

import numpy as np

from dynamics_stats.core.types import BoolArray, FloatArray

__all__ = ["Chart", "Rule", "Series", "decimate", "render_chart"]

_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 16, 40, 34
_MAX_MARKERS = 400
_WIDE_RANGE_RATIO = 30.0


@dataclass(frozen=True, slots=True, eq=False)
class Series:
    """One thing drawn against steps: a line, point markers or a band.

    Parameters
    ----------
    label : str
        Legend text (escaped when drawn).
    steps : ndarray of float64
        x values.
    values : ndarray of float64
        y values (the lower edge for a band); non-finite values break the line.
    css : str
        Colour class (``s0`` ... ``s5``, ``warn``, ``bad``), defined by the page's style.
    shape : {"line", "points", "band", "faint"}, default="line"
        ``faint`` is a thin, pale line for raw noisy values.
    upper : ndarray of float64 or None, default=None
        Upper edge of a band.
    """

    label: str
    steps: FloatArray
    values: FloatArray
    css: str
    shape: Literal["line", "points", "band", "faint"] = "line"
    upper: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A vertical line at a step (``vertical=True``) or a horizontal line at a value.

    ``label`` is drawn beside the line; ``tooltip`` (default: the label) shows on hover.
    """

    position: float
    label: str
    css: str
    vertical: bool = True
    tooltip: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Chart:
    """A titled chart: series and rules; log y when the range is wide, unless forced."""

    title: str
    y_label: str
    series: tuple[Series, ...]
    rules: tuple[Rule, ...] = ()
    log_y: bool | None = None


def decimate(
    steps: FloatArray, values: FloatArray, *, max_points: int = 2000
) -> tuple[FloatArray, FloatArray]:
    """Keep at most ``max_points`` points, preserving each bucket's minimum and maximum.

    Parameters
    ----------
    steps, values : ndarray of float64
        The line, in step order.
    max_points : int, default=2000
        Upper bound on the points returned.

    Returns
    -------
    tuple of ndarray
        Decimated steps and values; spikes survive because each bucket keeps its extremes.

    Examples
    --------
    >>> import numpy as np
    >>> s, v = decimate(np.arange(10_000.0), np.sin(np.arange(10_000.0)), max_points=500)
    >>> len(s) <= 500
    True
    """
    n = len(steps)
    if n <= max_points:
        return steps, values
    size = math.ceil(n / max(1, max_points // 2))
    n_buckets = math.ceil(n / size)
    finite = np.isfinite(values)
    padded_low = np.full(n_buckets * size, np.inf)
    padded_high = np.full(n_buckets * size, -np.inf)
    padded_low[:n] = np.where(finite, values, np.inf)
    padded_high[:n] = np.where(finite, values, -np.inf)
    offsets = np.arange(n_buckets) * size
    lows = offsets + padded_low.reshape(n_buckets, size).argmin(axis=1)
    highs = offsets + padded_high.reshape(n_buckets, size).argmax(axis=1)
    index = np.unique(np.minimum(np.concatenate([lows, highs]), n - 1))
    return steps[index], values[index]


@dataclass(frozen=True, slots=True)
class _Frame:
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    log_y: bool
    width: int
    height: int

    def x(self, step: float) -> float:
        span = self.x_high - self.x_low or 1.0
        inner = self.width - _MARGIN_LEFT - _MARGIN_RIGHT
        return _MARGIN_LEFT + (step - self.x_low) / span * inner

    def y(self, value: float) -> float:
        v = math.log10(value) if self.log_y else value
        span = self.y_high - self.y_low or 1.0
        inner = self.height - _MARGIN_TOP - _MARGIN_BOTTOM
        return self.height - _MARGIN_BOTTOM - (v - self.y_low) / span * inner


def _y_values(chart: Chart) -> FloatArray:
    parts = [s.values for s in chart.series]
    parts += [s.upper for s in chart.series if s.upper is not None]
    parts.append(np.array([r.position for r in chart.rules if not r.vertical], float))
    values = np.concatenate([np.asarray(p, float) for p in parts])
    finite: FloatArray = values[np.isfinite(values)]
    return finite


def _frame(chart: Chart, width: int, height: int) -> _Frame:
    xs = np.concatenate([np.asarray(s.steps, float) for s in chart.series] or [np.array([0.0])])
    xs = np.concatenate([xs, [r.position for r in chart.rules if r.vertical]])
    xs = xs[np.isfinite(xs)]
    ys = _y_values(chart)
    log_y = chart.log_y
    if log_y is None:
        positive = ys[ys > 0]
        log_y = bool(len(positive) == len(ys) and len(ys) > 0)
        log_y = log_y and float(positive.max() / positive.min()) > _WIDE_RANGE_RATIO
    if log_y:
        ys = np.log10(ys[ys > 0])
    x_low, x_high = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    y_low, y_high = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
    pad = (y_high - y_low) * 0.04 or (abs(y_high) * 0.1 or 1.0)
    return _Frame(x_low, x_high, y_low - pad, y_high + pad, log_y, width, height)


def _nice_ticks(low: float, high: float, n_target: int = 5) -> list[float]:
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [low]
    raw = span / n_target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    decades = list(range(math.ceil(low), math.floor(high) + 1))
    if len(decades) >= 2:
        return [10.0**d for d in decades]
    candidates = [
        m * 10.0**d for d in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)
    ]
    return [c for c in candidates if low <= math.log10(c) <= high]


def _label(value: float) -> str:
    return f"{value:.3g}"


def _axes(frame: _Frame, chart: Chart) -> list[str]:
    bottom, right = frame.height - _MARGIN_BOTTOM, frame.width - _MARGIN_RIGHT
    parts = [
        f'<rect class="plot-area" x="{_MARGIN_LEFT}" y="{_MARGIN_TOP}" '
        f'width="{right - _MARGIN_LEFT}" height="{bottom - _MARGIN_TOP}"/>'
    ]
    y_ticks = (
        _log_ticks(frame.y_low, frame.y_high)
        if frame.log_y
        else _nice_ticks(frame.y_low, frame.y_high)
    )
    for value in y_ticks:
        y = frame.y(value)
        parts.append(
            f'<line class="grid" x1="{_MARGIN_LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{_MARGIN_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{escape(_label(value))}</text>"
        )
    for step in _nice_ticks(frame.x_low, frame.x_high, 8):
        x = frame.x(step)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{escape(f'{step:,.0f}')}</text>"
        )
    scale = " (log scale)" if frame.log_y else ""
    parts.append(f'<text class="title" x="{_MARGIN_LEFT}" y="16">{escape(chart.title)}</text>')
    parts.append(
        f'<text class="axis-label" x="{_MARGIN_LEFT}" y="30">{escape(chart.y_label + scale)}</text>'
    )
    parts.append(
        f'<text class="axis-label" x="{right}" y="{frame.height - 4}" text-anchor="end">step</text>'
    )
    return parts


def _visible(frame: _Frame, values: FloatArray) -> BoolArray:
    ok = np.isfinite(values)
    return ok & (values > 0) if frame.log_y else ok


def _polyline(frame: _Frame, steps: FloatArray, values: FloatArray) -> str:
    steps, values = decimate(np.asarray(steps, float), np.asarray(values, float))
    ok = _visible(frame, values)
    commands: list[str] = []
    pen_down = False
    for step, value, good in zip(steps, values, ok, strict=True):
        if not good:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{frame.x(step):.1f} {frame.y(value):.1f}")
        pen_down = True
    return " ".join(commands)


def _series(frame: _Frame, series: Series) -> str:
    label = f"<title>{escape(series.label)}</title>"
    if series.shape == "band" and series.upper is not None:
        ok = _visible(frame, series.values) & _visible(frame, series.upper)
        steps, low, high = series.steps[ok], series.values[ok], series.upper[ok]
        if len(steps) < 2:
            return ""
        top = [f"{frame.x(s):.1f} {frame.y(v):.1f}" for s, v in zip(steps, high, strict=True)]
        bottom = [f"{frame.x(s):.1f} {frame.y(v):.1f}" for s, v in zip(steps, low, strict=True)]
        points = "M" + " L".join(top + bottom[::-1]) + " Z"
        return f'<path class="band {series.css}" d="{points}">{label}</path>'
    if series.shape == "points":
        ok = _visible(frame, series.values)
        pairs = list(zip(series.steps[ok], series.values[ok], strict=True))[:_MAX_MARKERS]
        dots = "".join(
            f'<circle cx="{frame.x(s):.1f}" cy="{frame.y(v):.1f}" r="3"/>' for s, v in pairs
        )
        return f'<g class="points {series.css}">{label}{dots}</g>'
    d = _polyline(frame, series.steps, series.values)
    if not d:
        return ""
    return f'<path class="{series.shape} {series.css}" d="{d}">{label}</path>'


def _rule(frame: _Frame, rule: Rule, index: int) -> str:
    title = f"<title>{escape(rule.tooltip or rule.label)}</title>"
    if rule.vertical:
        x = frame.x(rule.position)
        top, bottom = _MARGIN_TOP, frame.height - _MARGIN_BOTTOM
        text_y = top + 10 + 11 * (index % 4)
        left_side = x > 0.7 * frame.width  # keep labels of late lines inside the plot
        anchor = f'x="{x - 3:.1f}" text-anchor="end"' if left_side else f'x="{x + 3:.1f}"'
        return (
            f'<g class="rule {rule.css}">{title}<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" '
            f'y2="{bottom}"/><text {anchor} y="{text_y}">{escape(rule.label)}</text></g>'
        )
    if frame.log_y and rule.position <= 0:
        return ""
    y = frame.y(rule.position)
    right = frame.width - _MARGIN_RIGHT
    return (
        f'<g class="rule {rule.css}">{title}<line x1="{_MARGIN_LEFT}" x2="{right}" y1="{y:.1f}" '
        f'y2="{y:.1f}"/><text x="{right - 4}" y="{y - 4:.1f}" text-anchor="end">'
        f"{escape(rule.label)}</text></g>"
    )


def _legend(chart: Chart) -> str:
    items = [
        f'<li><span class="swatch {escape(s.css)} {escape(s.shape)}"></span>{escape(s.label)}</li>'
        for s in chart.series
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'


def render_chart(chart: Chart, *, width: int = 920, height: int = 280) -> str:
    """Return the chart as a ``<figure>`` with an inline SVG and an HTML legend.

    Parameters
    ----------
    chart : Chart
        What to draw.
    width, height : int, default=920, 280
        Size of the SVG in pixels (it scales down with the page).

    Returns
    -------
    str
        HTML; every text (titles, labels, legend) is escaped.
    """
    frame = _frame(chart, width, height)
    body = _axes(frame, chart)
    body += [_series(frame, s) for s in chart.series]
    body += [_rule(frame, r, i) for i, r in enumerate(chart.rules)]
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">'
        + "".join(body)
        + "</svg>"
    )
    return f'<figure class="chart-figure">{svg}{_legend(chart)}</figure>'
