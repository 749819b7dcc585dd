"""`render_sweep_text`: a sweep analysis as a plain-text table at most 100 columns wide."""

from __future__ import annotations

import textwrap

from dynamics_stats.sweeps.effects import ParameterEffect
from dynamics_stats.sweeps.result import SweepResult

__all__ = ["render_sweep_text"]

_WIDTH = 100
_NAME_WIDTH = 18
_HEADER = (
    f"{'#':>3}  {'parameter':<{_NAME_WIDTH}} {'importance [CI]':<23} {'spearman [CI]':<21} "
    f"{'p_adj':>7} {'sig':>4}  direction"
)


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _with_interval(value: float | None, interval: tuple[float, float] | None, spec: str) -> str:
    if value is None:
        return "-"
    if interval is None:
        return format(value, spec)
    return f"{value:{spec}} [{interval[0]:{spec}}, {interval[1]:{spec}}]"


def _name(name: str) -> str:
    return name if len(name) <= _NAME_WIDTH else name[: _NAME_WIDTH - 1] + "~"


def _parameter_lines(effect: ParameterEffect) -> list[str]:
    importance = _with_interval(effect.importance, effect.importance_interval, ".3f")
    spearman = _with_interval(effect.spearman, effect.spearman_interval, "+.2f")
    line = (
        f"{effect.rank:>3}  {_name(effect.name):<{_NAME_WIDTH}} {importance:<23} {spearman:<21} "
        f"{_num(effect.p_value_adjusted, '.2g'):>7} {'yes' if effect.significant else 'no':>4}  "
        f"{effect.direction}"
    )
    lines = [line[:_WIDTH]]
    detail = [effect.effect] if effect.effect else []
    links = [
        f"{link.kind} ({link.measure} {link.effect_size:+.2f}, p_adj "
        f"{link.p_value_adjusted:.2g}, {link.direction})"
        for link in effect.pathologies
    ]
    if links:
        detail.append("drives: " + "; ".join(links))
    for text in detail:
        lines += textwrap.wrap(
            text, width=_WIDTH, initial_indent=" " * 5, subsequent_indent=" " * 7
        )
    return lines


def render_sweep_text(result: SweepResult) -> str:
    """Render a sweep analysis as a readable table.

    Parameters
    ----------
    result : SweepResult
        What `dynamics_stats.sweeps.analyze.analyze_sweep` returned.

    Returns
    -------
    str
        The objective and run counts, then one row per parameter in importance order
        (importance and Spearman with their intervals, adjusted p-value, significance,
        direction, the effect in words and the problem kinds it drives), the strongest
        interactions and the limitations. No line is longer than 100 characters.
    """
    r2 = result.model.r2_heldout
    lines = [
        f"Sweep: {result.n_runs} runs ({result.n_runs_used} with the objective); objective "
        f"{result.objective} ({result.direction})",
        *textwrap.wrap(
            f"Importance model: held-out R^2 {_num(r2, '.2f')} ({result.model.method})",
            width=_WIDTH,
            subsequent_indent="  ",
        ),
        "",
        _HEADER,
        "-" * len(_HEADER),
    ]
    for effect in result.parameters:
        lines += _parameter_lines(effect)
    if result.interactions:
        lines += ["", "Strongest interactions (Friedman H^2, share of prediction variance):"]
        lines += [
            f"  {a} x {b}: H^2 {i.h_statistic:.2f}, variance {i.variance_frac:.1%}"
            for i in result.interactions[:3]
            for a, b in [i.parameters]
        ]
    if result.limitations:
        lines += ["", "Limitations:"]
        for text in result.limitations:
            lines += textwrap.wrap(text, width=_WIDTH, initial_indent="- ", subsequent_indent="  ")
    return "\n".join(line[:_WIDTH] for line in lines)
