"""Render an analysis as one self-contained HTML page with inline SVG plots.

The page needs nothing from the network (no script, font or style sheet is fetched), runs
no JavaScript at all (a Content-Security-Policy forbids scripts), and escapes every text
that comes from the log: metric names, hyper-parameters, paths and messages.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.core.results import Finding
from dynamics_stats.report._html_style import PAGE_STYLE
from dynamics_stats.report._panels import build_charts
from dynamics_stats.report._svg import render_chart

if TYPE_CHECKING:
    from dynamics_stats.agent.agent import AnalysisDetails

__all__ = ["CONTENT_SECURITY_POLICY", "render_html"]

#: No scripts, no network: only the page's own inline styles and data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _prob(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2f}"


def _verdict(result: AgentResult) -> str:
    probable = sorted(((p, k) for k, p in result.issues if p >= 0.5), reverse=True)
    if not probable:
        return "No problem is probable."
    return "Probable: " + ", ".join(f"{k} (p={p:.2f})" for p, k in probable) + "."


def _header(result: AgentResult) -> str:
    run, risk, conf = result.run, result.risk, result.confidence
    facts = [
        ("source", run.source),
        ("format", run.format),
        ("metrics", len(run.metrics)),
        (f"last {run.step_unit}", "n/a" if run.last_step is None else f"{run.last_step:,}"),
        ("status", result.status),
        ("risk", f"{risk.level} ({risk.score:.2f})"),
        ("confidence", f"{conf.level} ({conf.score:.2f})"),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    return (
        f"<header><h1>Training-dynamics report</h1>"
        f'<p class="verdict risk-{_e(risk.level)}">{_e(_verdict(result))}</p>'
        f'<dl class="facts">{items}</dl></header>'
    )


def _probabilities(result: AgentResult) -> str:
    assessed = dict(result.assessed)
    rows = []
    for kind, p in result.issues:
        note = "" if assessed.get(kind, True) else "not assessed: prior (base rate)"
        width = max(0.0, min(1.0, p)) * 100
        level = "high" if p >= 0.5 else "low"
        rows.append(
            f"<tr><td>{_e(kind)}</td><td class='num'>{p:.2f}</td>"
            f'<td class="barcell"><div class="bar {level}" style="width:{width:.1f}%"></div></td>'
            f"<td>{_e(note)}</td></tr>"
        )
    return (
        "<section><h2>Probability of each problem</h2><table class='kinds'>"
        "<thead><tr><th>problem</th><th>probability</th><th></th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _finding(finding: Finding) -> str:
    where = []
    if finding.metric is not None:
        where.append(f"metric {finding.metric}")
    if finding.onset_step is not None:
        where.append(f"from step {finding.onset_step:,}")
    if finding.end_step is not None:
        where.append(f"to step {finding.end_step:,}")
    evidence = "".join(
        f"<tr><td>{_e(k)}</td><td class='num'>{_e(f'{v:.4g}')}</td></tr>"
        for k, v in finding.evidence
    )
    steps = ", ".join(f"{s:,}" for s in finding.steps[:20])
    calibrated = "" if finding.calibrated else " (not calibrated)"
    return (
        f'<article class="finding sev-{_e(finding.severity)}" id="finding-{_e(finding.id)}">'
        f"<h3>{_e(finding.kind)} <span class='p'>p={_prob(finding.probability)}"
        f"{calibrated}</span> <span class='sev'>{_e(finding.severity)}</span></h3>"
        f"<p>{_e(finding.message)}</p><p class='where'>{_e('; '.join(where))}</p>"
        + (f"<p class='where'>steps: {_e(steps)}</p>" if steps else "")
        + f"<details><summary>evidence ({len(finding.evidence)} numbers, detector "
        f"{_e(finding.detector)}, score {finding.score:.4g})</summary>"
        f"<table class='evidence'>{evidence}</table></details></article>"
    )


def _findings(result: AgentResult) -> str:
    body = "".join(_finding(f) for f in result.findings) or "<p>No problem was found.</p>"
    return f"<section><h2>Findings</h2>{body}</section>"


def _recommendations(result: AgentResult) -> str:
    items = []
    for rec in result.recommendations:
        tag = " <span class='tag'>general advice</span>" if rec.general else ""
        links = ", ".join(f'<a href="#finding-{_e(i)}">{_e(i)}</a>' for i in rec.finding_ids)
        basis = f"; basis: {_e(rec.basis)}" if rec.basis else ""
        items.append(
            f"<li><strong>{_e(rec.text)}</strong>{tag}<br><span class='where'>expected effect: "
            f"{_e(rec.expected_effect)}; because of: {links or 'none'}{basis}</span></li>"
        )
    body = f"<ol>{''.join(items)}</ol>" if items else "<p>None.</p>"
    return f"<section><h2>Recommendations</h2>{body}</section>"


def _list(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"<h3>{_e(title)}</h3><ul>{''.join(f'<li>{_e(i)}</li>' for i in items)}</ul>"


def _limitations(result: AgentResult) -> str:
    issues = [
        f"[{i.level}] {i.code}: {i.message}" + (f" (metric {i.metric})" if i.metric else "")
        for i in result.validation.issues
    ]
    coverage = [
        f"{c.name}: {c.state}" + (f" - {c.reason}" if c.reason else "")
        for c in result.coverage
        if c.state != "ran"
    ]
    return (
        "<section><h2>Limitations</h2>"
        + (_list("What could not be analysed", list(result.limitations)) or "<p>None.</p>")
        + _list("Confidence lowered by", list(result.confidence.reasons))
        + _list("Analyses that did not run normally", coverage)
        + _list("Validation notes", issues)
        + "</section>"
    )


def _calibration(result: AgentResult) -> str:
    cal = result.calibration
    status = "calibrated" if cal.calibrated else "NOT calibrated: provisional map"
    return (
        "<section><h2>Calibration: what a probability means</h2>"
        f"<p>Map <code>{_e(cal.name)}</code>, version <code>{_e(cal.version)}</code> "
        f"({_e(status)}).</p><p>{_e(cal.description)}</p>"
        "<p>A probability of 0.80 for a problem means that, among the runs the map was "
        "fitted on whose detector scores looked like this run's, about 80% had that problem. "
        "It is a frequency on that corpus, not a certainty about this run, and it is only as "
        "good as the corpus is like your runs.</p></section>"
    )


def _hparams(result: AgentResult) -> str:
    if not result.hparams:
        return ""
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in result.hparams)
    return f"<section><h2>Hyper-parameters</h2><table class='evidence'>{rows}</table></section>"


def _charts(details: AnalysisDetails) -> str:
    charts = build_charts(details)
    body = "".join(render_chart(c) for c in charts) or "<p>No curve could be drawn.</p>"
    note = (
        "<p class='where'>Bands: 95% interval of the smoothed level (state-space model). "
        "Dashed lines: changepoints with their probability; red lines: onset of a finding. "
        "Long curves are thinned to at most 2,000 points per line, keeping each bucket's "
        "extremes.</p>"
    )
    return f"<section><h2>Curves</h2>{note}{body}</section>"


def render_html(details: AnalysisDetails) -> str:
    """Return a self-contained HTML report of one analysis.

    Parameters
    ----------
    details : AnalysisDetails
        From `analyze_in_detail`: the result, the validated run, its curve models and the
        detectors' evidence.

    Returns
    -------
    str
        One HTML document: plots (inline SVG), the seven probabilities, findings with
        evidence, recommendations, limitations and calibration. It loads nothing from the
        network and runs no script.

    Examples
    --------
    >>> from dynamics_stats.io.synthetic import make_run
    >>> from dynamics_stats.validate import validate_run
    >>> from dynamics_stats.agent.analyze import analyze_in_detail
    >>> from dynamics_stats.core.analysis_config import AnalysisConfig
    >>> config = AnalysisConfig()
    >>> artifacts = validate_run(make_run("overfitting", seed=0)[0], config.validation)
    >>> page = render_html(analyze_in_detail(artifacts, config))
    >>> page.startswith("<!DOCTYPE html>"), "<svg" in page, "<script" in page
    (True, True, False)
    """
    result = details.result
    title = f"dynamics-stats: {result.run.source}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{PAGE_STYLE}</style></head><body><main>"
        + _header(result)
        + _charts(details)
        + _probabilities(result)
        + _findings(result)
        + _recommendations(result)
        + _limitations(result)
        + _calibration(result)
        + _hparams(result)
        + f"<footer>dynamics_stats {_e(result.package_version)}</footer></main></body></html>\n"
    )
