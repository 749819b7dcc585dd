"""Horizontal bars with interval whiskers, as inline SVG (for the sweep report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

__all__ = ["IntervalBar", "render_interval_bars"]

_LABEL_WIDTH, _ROW_HEIGHT, _TOP, _RIGHT = 170, 22, 34, 20


@dataclass(frozen=True, slots=True)
class IntervalBar:
    """One labelled value with an optional interval and a highlight flag."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    highlight: bool = False


def _limits(bars: tuple[IntervalBar, ...]) -> tuple[float, float]:
    numbers = [0.0]
    for bar in bars:
        numbers += [v for v in (bar.value, bar.low, bar.high) if v is not None]
    low, high = min(numbers), max(numbers)
    return (low, high) if high > low else (low - 1.0, high + 1.0)


def _row(bar: IntervalBar, index: int, x: Callable[[float], float], zero: float) -> str:
    y = _TOP + index * _ROW_HEIGHT
    label = escape(bar.label)
    parts = [
        f'<text class="tick" x="{_LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{label}</text>'
    ]
    if bar.value is None:
        parts.append(f'<text class="tick" x="{zero + 4:.1f}" y="{y + 14}">n/a</text>')
        return "".join(parts)
    left, right = sorted((zero, x(bar.value)))
    css = "bar-rect high" if bar.highlight else "bar-rect"
    parts.append(
        f'<rect class="{css}" x="{left:.1f}" y="{y + 4}" width="{max(right - left, 1):.1f}" '
        f'height="{_ROW_HEIGHT - 8}"><title>{label}: {bar.value:.3g}</title></rect>'
    )
    if bar.low is not None and bar.high is not None:
        x_low, x_high = x(bar.low), x(bar.high)
        mid = y + _ROW_HEIGHT / 2
        parts.append(
            f'<path class="whisker" d="M{x_low:.1f} {mid:.1f} L{x_high:.1f} {mid:.1f} '
            f"M{x_low:.1f} {mid - 5:.1f} L{x_low:.1f} {mid + 5:.1f} "
            f'M{x_high:.1f} {mid - 5:.1f} L{x_high:.1f} {mid + 5:.1f}"/>'
        )
    return "".join(parts)


def render_interval_bars(title: str, bars: tuple[IntervalBar, ...], *, width: int = 920) -> str:
    """Return a ``<figure>`` of horizontal bars from zero with interval whiskers.

    Parameters
    ----------
    title : str
        Chart title (escaped).
    bars : tuple of IntervalBar
        One row each, drawn top to bottom.
    width : int, default=920
        SVG width in pixels.

    Returns
    -------
    str
        HTML; labels are escaped.
    """
    low, high = _limits(bars)
    inner = width - _LABEL_WIDTH - _RIGHT

    def x(value: float) -> float:
        return _LABEL_WIDTH + (value - low) / (high - low) * inner

    height = _TOP + _ROW_HEIGHT * len(bars) + 24
    zero = x(0.0)
    rows = "".join(_row(bar, i, x, zero) for i, bar in enumerate(bars))
    axis = (
        f'<line class="grid" x1="{zero:.1f}" x2="{zero:.1f}" y1="{_TOP}" y2="{height - 24}"/>'
        f'<text class="tick" x="{x(low):.1f}" y="{height - 8}">{low:.3g}</text>'
        f'<text class="tick" x="{x(high):.1f}" y="{height - 8}" text-anchor="end">{high:.3g}</text>'
    )
    if min(zero - x(low), x(high) - zero) > 40:
        axis += f'<text class="tick" x="{zero:.1f}" y="{height - 8}" text-anchor="middle">0</text>'

    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><text class="title" x="{_LABEL_WIDTH}" y="18">'
        f"{escape(title)}</text>{axis}{rows}</svg>"
    )
    return f'<figure class="chart-figure">{svg}</figure>'
