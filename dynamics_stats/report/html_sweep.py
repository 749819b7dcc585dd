"""Render a sweep analysis as one self-contained HTML page (inline SVG, no script)."""

from __future__ import annotations

from html import escape

from dynamics_stats.report._bars import IntervalBar, render_interval_bars
from dynamics_stats.report._html_style import PAGE_STYLE
from dynamics_stats.report.html import CONTENT_SECURITY_POLICY
from dynamics_stats.sweeps.effects import Interval, ParameterEffect
from dynamics_stats.sweeps.result import SweepResult

__all__ = ["render_sweep_html"]

_BAR_STYLE = ".bar-rect{fill:#9ecae1}.bar-rect.high{fill:#d62728}.whisker{stroke:#222;fill:none}"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "n/a" if value is None else format(value, fmt)


def _interval(interval: Interval | None) -> str:
    return "" if interval is None else f" [{interval[0]:.3g}, {interval[1]:.3g}]"


def _bar(
    name: str, value: float | None, interval: Interval | None, significant: bool
) -> IntervalBar:
    low, high = interval if interval is not None else (None, None)
    return IntervalBar(name, value, low, high, highlight=significant)


def _charts(result: SweepResult) -> str:
    importance = tuple(
        _bar(p.name, p.importance, p.importance_interval, p.significant) for p in result.parameters
    )
    spearman = tuple(
        _bar(p.name, p.spearman, p.spearman_interval, p.significant) for p in result.parameters
    )
    return (
        "<section><h2>Parameters</h2><p class='where'>Bars: point estimate; whiskers: "
        "interval; red: significant after the multiple-testing correction.</p>"
        + render_interval_bars("Permutation importance (held-out)", importance)
        + render_interval_bars(f"Spearman correlation with {result.objective}", spearman)
        + "</section>"
    )


def _effect_row(p: ParameterEffect) -> str:
    links = "; ".join(
        f"{link.kind} ({link.measure} {link.effect_size:+.2f}, p_adj {link.p_value_adjusted:.3g})"
        for link in p.pathologies
    )
    cells = [
        str(p.rank),
        p.name,
        p.kind,
        _num(p.importance) + _interval(p.importance_interval),
        _num(p.spearman, "+.2f") + _interval(p.spearman_interval),
        _num(p.p_value_adjusted),
        "yes" if p.significant else "no",
        p.better_when or p.direction,
        links or "-",
    ]
    return "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"


def _table(result: SweepResult) -> str:
    head = (
        "rank",
        "parameter",
        "kind",
        "importance [CI]",
        "spearman [CI]",
        "p_adj",
        "significant",
        "effect",
        "pathologies",
    )
    rows = "".join(_effect_row(p) for p in result.parameters)
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return (
        f"<section><h2>Effects</h2><table class='evidence'><thead><tr>{header}</tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _notes(result: SweepResult) -> str:
    model = result.model
    interactions = "".join(
        f"<li>{_e(' x '.join(i.parameters))}: H^2 {i.h_statistic:.2f}, "
        f"{i.variance_frac:.1%} of prediction variance</li>"
        for i in result.interactions
    )
    limitations = "".join(f"<li>{_e(item)}</li>" for item in result.limitations)
    return (
        "<section><h2>Model and limitations</h2>"
        f"<p>{_e(model.method)}; {model.n_folds} folds, {model.n_estimators} trees, "
        f"{model.n_repeats} repeats; held-out R^2 {_e(_num(model.r2_heldout, '.2f'))}.</p>"
        + (f"<h3>Strongest interactions</h3><ul>{interactions}</ul>" if interactions else "")
        + (f"<h3>Limitations</h3><ul>{limitations}</ul>" if limitations else "<p>None.</p>")
        + "</section>"
    )


def render_sweep_html(result: SweepResult) -> str:
    """Return a self-contained HTML report of a sweep analysis.

    Parameters
    ----------
    result : SweepResult
        From `dynamics_stats.agent.sweep.analyze_sweep_runs` or `analyze_sweep`.

    Returns
    -------
    str
        One HTML document: importance and correlation bars with their intervals, the
        table of effects with pathology links, interactions and limitations. It loads
        nothing from the network and runs no script; every name is escaped.
    """
    title = f"dynamics-stats sweep: {result.objective}"
    verdict = (
        f"{result.n_runs_used} of {result.n_runs} runs used; objective {result.objective} "
        f"({result.direction}); "
        f"{sum(p.significant for p in result.parameters)} significant parameter(s)."
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{_e(title)}</title><style>{PAGE_STYLE}{_BAR_STYLE}</style></head><body><main>"
        f"<header><h1>Sweep report</h1><p class='verdict'>{_e(verdict)}</p></header>"
        + _charts(result)
        + _table(result)
        + _notes(result)
        + "</main></body></html>\n"
    )
