"""Tests of the hand-written SVG charts."""

from __future__ import annotations

import re

import numpy as np

from dynamics_stats.report._svg import Chart, Rule, Series, decimate, render_chart


def test_decimate_keeps_bound_and_extremes(rng: np.random.Generator) -> None:
    steps = np.arange(50_000, dtype=float)
    values = rng.normal(size=50_000)
    values[12_345] = 1e6
    values[40_000] = -1e6
    kept_steps, kept_values = decimate(steps, values, max_points=2000)
    assert len(kept_steps) <= 2000
    assert np.all(np.diff(kept_steps) > 0)
    assert 12_345.0 in kept_steps and 40_000.0 in kept_steps
    assert kept_values.max() == 1e6 and kept_values.min() == -1e6


def test_decimate_leaves_short_lines_alone() -> None:
    steps, values = np.arange(10.0), np.arange(10.0)
    kept_steps, kept_values = decimate(steps, values)
    assert kept_steps is steps and kept_values is values


def _chart(values: np.ndarray, **kwargs: object) -> str:
    steps = np.arange(len(values), dtype=float)
    return render_chart(Chart("t", "y", (Series("line", steps, values, "s0"),), **kwargs))  # type: ignore[arg-type]


def test_wide_positive_range_gets_log_axis() -> None:
    assert "(log scale)" in _chart(np.geomspace(10.0, 1e-4, 100))
    assert "(log scale)" not in _chart(np.linspace(1.0, 2.0, 100))
    assert "(log scale)" not in _chart(np.linspace(-5.0, 500.0, 100))


def test_non_finite_values_break_the_line() -> None:
    values = np.linspace(1.0, 2.0, 10)
    values[5] = np.nan
    path = re.search(r'<path class="line s0" d="([^"]*)"', _chart(values))
    assert path is not None
    assert path.group(1).count("M") == 2


def test_texts_are_escaped() -> None:
    evil = "<script>x()</script>"
    steps = np.arange(5.0)
    chart = Chart(evil, evil, (Series(evil, steps, steps, "s0"),), (Rule(2.0, evil, "onset"),))
    svg = render_chart(chart)
    assert "<script" not in svg
    assert svg.count("&lt;script&gt;") >= 4


def test_band_and_points_and_rules_are_drawn() -> None:
    steps = np.arange(20.0)
    series = (
        Series("band", steps, steps, "s0", "band", steps + 1),
        Series("dots", steps[:3], steps[:3], "bad", "points"),
    )
    rules = (Rule(5.0, "v", "change"), Rule(3.0, "h", "clip", vertical=False))
    svg = render_chart(Chart("t", "y", series, rules))
    assert svg.count('class="band s0"') == 1
    assert svg.count("<circle") == 3
    assert svg.count('class="rule ') == 2


def test_empty_chart_does_not_fail() -> None:
    svg = render_chart(Chart("empty", "y", ()))
    assert "<svg" in svg


def test_rule_tooltip_is_escaped_and_late_labels_stay_inside() -> None:
    steps = np.arange(100.0)
    rules = (Rule(99.0, "late", "onset", tooltip="<b>x</b>"), Rule(1.0, "early", "onset"))
    svg = render_chart(Chart("t", "y", (Series("s", steps, steps, "s0"),), rules))
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in svg
    assert re.search(r'text-anchor="end" y="\d+">late</text>', svg)
    assert "<title>early</title>" in svg
