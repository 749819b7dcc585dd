"""Render an `AgentResult` as text for terminals (at most 100 columns)."""

from __future__ import annotations

import textwrap

from dynamics_stats.core.agent_result import AgentResult

__all__ = ["render_text"]

_WIDTH = 100


def _verdict(result: AgentResult) -> str:
    probable = [(k, p) for k, p in result.issues if p >= 0.5]
    if not probable:
        return f"No problem is probable (risk {result.risk.level}, {result.risk.score:.2f})."
    listed = ", ".join(f"{k} ({p:.0%})" for k, p in sorted(probable, key=lambda kp: -kp[1]))
    return f"Probable: {listed} - risk {result.risk.level} ({result.risk.score:.2f})."


def _bar(p: float, width: int = 20) -> str:
    filled = int(round(p * width))
    return "#" * filled + "." * (width - filled)


def _kinds_table(result: AgentResult) -> list[str]:
    assessed = dict(result.assessed)
    lines = [f"  {'problem':<22} {'probability':>11}  {'':<20}"]
    for kind, p in result.issues:
        note = "" if assessed.get(kind, True) else "  not assessed (prior)"
        lines.append(f"  {kind:<22} {p:>11.2f}  {_bar(p)}{note}")
    return lines


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _findings(result: AgentResult) -> list[str]:
    lines: list[str] = []
    for f in result.findings[:8]:
        p = "n/a" if f.probability is None else f"{f.probability:.2f}"
        where = "" if f.onset_step is None else f" from step {f.onset_step:,}"
        lines.append(f"- {f.kind} (p={p}, {f.severity}){where}")
        lines += _wrap(f.message, "    ")
        numbers = ", ".join(f"{k}={v:.4g}" for k, v in f.evidence[:6])
        if numbers:
            lines += _wrap(f"evidence: {numbers}", "    ")
    return lines or ["  none"]


def render_text(result: AgentResult) -> str:
    """Return a readable report: verdict, the seven kinds, findings, recommendations.

    Parameters
    ----------
    result : AgentResult
        An analysis result.

    Returns
    -------
    str
    """
    run = result.run
    cal = result.calibration
    header = (
        f"run: {run.source} ({run.format}, {len(run.metrics)} metrics, last {run.step_unit} "
        f"{run.last_step}) - status {result.status}, confidence {result.confidence.level}"
    )
    lines = [
        *_wrap(_verdict(result), ""),
        *_wrap(header, ""),
        f"probabilities: {cal.name} {cal.version}"
        + ("" if cal.calibrated else " (NOT calibrated: provisional map)"),
        "",
        *_kinds_table(result),
        "",
        "Findings:",
        *_findings(result),
        "",
        "Recommendations:",
    ]
    for rec in result.recommendations:
        tag = " [general]" if rec.general else ""
        lines += _wrap(f"{rec.priority}. {rec.text}{tag}", "  ")
    if not result.recommendations:
        lines.append("  none")
    if result.limitations:
        lines += ["", "Limitations:"] + [
            w for item in result.limitations for w in _wrap(f"- {item}", "  ")
        ]
    if result.confidence.reasons:
        lines += ["", *_wrap("Confidence lowered by: " + "; ".join(result.confidence.reasons), "")]
    return "\n".join(lines)
