"""Render an `AgentResult` as text for terminals (at most 100 columns, colour optional)."""

from __future__ import annotations

import os
import re
import textwrap
from typing import TextIO

from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.core.results import Finding

__all__ = ["render_text", "use_colour"]

_WIDTH = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI = {"bold": "1", "red": "31", "yellow": "33", "green": "32", "dim": "2"}
_RISK_COLOUR = {"high": "red", "medium": "yellow", "low": "green"}


def use_colour(stream: TextIO) -> bool:
    """Return whether to colour output written to ``stream``.

    Parameters
    ----------
    stream : text stream
        Where the report goes (usually ``sys.stdout``).

    Returns
    -------
    bool
        True only when ``stream`` is a terminal and the ``NO_COLOR`` environment variable
        is unset or empty (https://no-color.org).
    """
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _clean(text: object) -> str:
    """Show control characters from the log as escape codes, so they cannot drive a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if colour else text


def _wrap(text: str, indent: str, width: int) -> list[str]:
    return textwrap.wrap(
        _clean(text), width, initial_indent=indent, subsequent_indent=indent + "  "
    ) or [indent.rstrip()]


def _verdict(result: AgentResult) -> str:
    probable = sorted(((p, k) for k, p in result.issues if p >= 0.5), reverse=True)
    risk = f"risk {result.risk.level} ({result.risk.score:.2f})"
    if not probable:
        return f"No problem is probable - {risk}."
    listed = ", ".join(f"{k} (p={p:.2f})" for p, k in probable)
    return f"Probable: {listed} - {risk}."


def _bar(p: float, width: int = 20) -> str:
    filled = int(round(min(max(p, 0.0), 1.0) * width))
    return "#" * filled + "." * (width - filled)


def _kinds_table(result: AgentResult, colour: bool) -> list[str]:
    assessed = dict(result.assessed)
    lines = [f"  {'problem':<22} {'probability':>11}  {'':<20}"]
    for kind, p in result.issues:
        note = "" if assessed.get(kind, True) else "  not assessed (prior)"
        number = _paint(f"{p:>11.2f}", "red", colour) if p >= 0.5 else f"{p:>11.2f}"
        lines.append(f"  {_clean(kind):<22} {number}  {_bar(p)}{note}")
    return lines


def _finding_lines(finding: Finding, width: int, colour: bool) -> list[str]:
    p = "n/a" if finding.probability is None else f"{finding.probability:.2f}"
    where = []
    if finding.metric:
        where.append(f"on {finding.metric}")
    if finding.onset_step is not None:
        where.append(f"from step {finding.onset_step:,}")
    if finding.end_step is not None:
        where.append(f"to step {finding.end_step:,}")
    head = _wrap(f"- {finding.kind} (p={p}, {finding.severity}) {' '.join(where)}", "", width)
    head[0] = _paint(head[0], "bold", colour)
    lines = head + _wrap(finding.message, "    ", width)
    if finding.steps:
        shown = ", ".join(f"{s:,}" for s in finding.steps[:8])
        more = f" (+{len(finding.steps) - 8} more)" if len(finding.steps) > 8 else ""
        lines += _wrap(f"steps: {shown}{more}", "    ", width)
    numbers = ", ".join(f"{k}={v:.4g}" for k, v in finding.evidence[:6])
    if numbers:
        lines += _wrap(f"evidence: {numbers}", "    ", width)
    return lines


def _findings(result: AgentResult, width: int, colour: bool, max_findings: int) -> list[str]:
    lines: list[str] = []
    for finding in result.findings[:max_findings]:
        lines += _finding_lines(finding, width, colour)
    hidden = len(result.findings) - max_findings
    if hidden > 0:
        lines.append(f"  ... {hidden} more (use --format json or html for all)")
    return lines or ["  none"]


def _recommendations(result: AgentResult, width: int) -> list[str]:
    lines: list[str] = []
    for number, rec in enumerate(result.recommendations, start=1):
        tag = " [general advice]" if rec.general else ""
        lines += _wrap(f"{number}. {rec.text}{tag}", "  ", width)
    return lines or ["  none"]


def _header(result: AgentResult, width: int) -> list[str]:
    run, cal = result.run, result.calibration
    last = "n/a" if run.last_step is None else f"{run.last_step:,}"
    header = (
        f"run: {run.source} ({run.format}, {len(run.metrics)} metrics, last {run.step_unit} "
        f"{last}) - status {result.status}, confidence {result.confidence.level}"
    )
    calibration = f"probabilities: {cal.name} {cal.version}" + (
        "" if cal.calibrated else " (NOT calibrated: provisional map)"
    )
    return _wrap(header, "", width) + _wrap(calibration, "", width)


def _tail(result: AgentResult, width: int) -> list[str]:
    lines: list[str] = []
    if result.limitations:
        lines += ["", "Limitations:"]
        lines += [w for item in result.limitations for w in _wrap(f"- {item}", "  ", width)]
    if result.confidence.reasons:
        reasons = "Confidence lowered by: " + "; ".join(result.confidence.reasons)
        lines += ["", *_wrap(reasons, "", width)]
    return lines


def render_text(
    result: AgentResult, *, colour: bool = False, width: int = _WIDTH, max_findings: int = 8
) -> str:
    """Return a readable report: verdict, the seven kinds, findings, recommendations.

    Parameters
    ----------
    result : AgentResult
        An analysis result.
    colour : bool, default=False
        Add ANSI colours (verdict by risk, probable kinds in red); see `use_colour`.
    width : int, default=100
        Maximum line width in columns (colour codes do not count).
    max_findings : int, default=8
        Findings shown; the rest are counted.

    Returns
    -------
    str
        Plain text; control characters from the log are shown escaped.

    Examples
    --------
    >>> from dynamics_stats.agent.analyze import analyze
    >>> from dynamics_stats.io.synthetic import make_run
    >>> text = render_text(analyze(make_run("divergence", seed=0)[0]))
    >>> max(len(line) for line in text.splitlines()) <= 100
    True
    """
    verdict = _wrap(_verdict(result), "", width)
    verdict[0] = _paint(verdict[0], _RISK_COLOUR.get(result.risk.level, "bold"), colour)
    lines = [
        *verdict,
        *_header(result, width),
        "",
        *_kinds_table(result, colour),
        "",
        _paint("Findings:", "bold", colour),
        *_findings(result, width, colour, max_findings),
        "",
        _paint("Recommendations:", "bold", colour),
        *_recommendations(result, width),
        *_tail(result, width),
    ]
    return "\n".join(line.rstrip() for line in lines)
