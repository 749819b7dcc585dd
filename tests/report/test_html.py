"""Tests of `render_html`: escaping, self-containment, plots and sections."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import pytest

from dynamics_stats.agent.analyze import AnalysisDetails
from dynamics_stats.report.html import CONTENT_SECURITY_POLICY, render_html


class _Collector(HTMLParser):
    """Collect tags with their attributes and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector


@pytest.fixture(scope="module")
def spiky_page(spiky_details: AnalysisDetails) -> str:
    return render_html(spiky_details)


def test_no_script_and_no_event_handler_survives(spiky_page: str) -> None:
    parsed = _parse(spiky_page)
    names = {tag for tag, _ in parsed.tags}
    assert "script" not in names
    assert "img" not in names  # the hostile hyper-parameter is an <img onerror=...>
    handlers = [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    assert handlers == []
    assert "<script" not in spiky_page.lower()


def test_hostile_text_appears_literally(spiky_page: str, hostile: dict[str, str]) -> None:
    text = "".join(_parse(spiky_page).text)
    for value in hostile.values():
        assert value in text
        assert escape(value) in spiky_page


def test_page_is_self_contained(spiky_page: str) -> None:
    parsed = _parse(spiky_page)
    external = [
        (tag, key, value)
        for tag, attrs in parsed.tags
        for key, value in attrs.items()
        if key in {"src", "href", "xlink:href", "action"} and not (value or "").startswith("#")
    ]
    assert external == []
    assert not re.search(r"url\(|@import|https?://", spiky_page.split("<body>")[0])
    assert "<link" not in spiky_page


def test_content_security_policy_forbids_scripts(spiky_page: str) -> None:
    assert f'content="{CONTENT_SECURITY_POLICY}"' in spiky_page
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY


def test_charts_for_each_logged_role(spiky_page: str) -> None:
    titles = re.findall(r'<svg class="chart"[^>]*aria-label="([^"]*)"', spiky_page)
    assert titles == [
        "Loss",
        "Train / validation gap",
        "Gradient norm",
        "Learning-rate schedule",
    ]


def test_spikes_and_finding_onset_are_marked(
    spiky_page: str, spiky_details: AnalysisDetails
) -> None:
    spikes = next(f for f in spiky_details.result.findings if f.kind == "loss_spikes")
    loss_svg = spiky_page.split('aria-label="Loss"')[1].split("</svg>")[0]
    marker_group = loss_svg.split("<title>loss spikes</title>")[1].split("</g>")[0]
    assert marker_group.count("<circle") == len(spikes.steps)
    assert f"loss_spikes onset p={spikes.probability:.2f}" in loss_svg


def test_bands_and_smoothed_levels_are_drawn(spiky_page: str) -> None:
    assert spiky_page.count('class="band ') >= 3  # train loss, val loss, grad norm
    assert "smoothed level" in spiky_page


def test_gradient_chart_shows_clip_threshold(spiky_page: str) -> None:
    grad_svg = spiky_page.split('aria-label="Gradient norm"')[1].split("</svg>")[0]
    assert 'class="rule clip"' in grad_svg


def test_overfitting_onset_is_on_the_gap_chart(overfit_details: AnalysisDetails) -> None:
    page = render_html(overfit_details)
    finding = next(f for f in overfit_details.result.findings if f.kind == "overfitting")
    gap_svg = page.split('aria-label="Train / validation gap"')[1].split("</svg>")[0]
    assert f"overfitting onset p={finding.probability:.2f}" in gap_svg


def test_sections_report_probabilities_findings_and_calibration(
    spiky_page: str, spiky_details: AnalysisDetails
) -> None:
    result = spiky_details.result
    for kind, p in result.issues:
        assert f"<td>{kind}</td><td class='num'>{p:.2f}</td>" in spiky_page
    for finding in result.findings:
        assert f'id="finding-{finding.id}"' in spiky_page
    for rec in result.recommendations:
        assert escape(rec.text) in spiky_page
    assert escape(result.calibration.description) in spiky_page
    for heading in ("Limitations", "Calibration: what a probability means", "Hyper-parameters"):
        assert f"<h2>{heading}</h2>" in spiky_page


def test_rendering_is_deterministic(spiky_details: AnalysisDetails) -> None:
    assert render_html(spiky_details) == render_html(spiky_details)


def test_every_changepoint_of_a_plotted_metric_is_drawn(
    spiky_page: str, spiky_details: AnalysisDetails
) -> None:
    plotted = set(spiky_details.artifacts.primary.values())
    expected = sum(
        len(cps) for name, cps in spiky_details.modelled.changepoints.items() if name in plotted
    )
    assert spiky_page.count('class="rule change"') == expected
    assert expected > 0
    for cps in spiky_details.modelled.changepoints.values():
        for cp in cps:
            assert f"change p={cp.probability:.2f}" in spiky_page
