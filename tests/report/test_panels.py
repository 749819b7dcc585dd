"""Tests of the chart builder: which charts, and where the clip threshold comes from."""

from __future__ import annotations

from dataclasses import replace

from dynamics_stats.agent.analyze import AnalysisDetails
from dynamics_stats.report._panels import build_charts, clip_threshold


def test_clip_threshold_prefers_the_runs_own_setting(spiky_details: AnalysisDetails) -> None:
    recommended = clip_threshold(spiky_details)
    assert recommended is not None and recommended[1].startswith("recommended clip")
    hparams = {**spiky_details.artifacts.hparams, "trainer.gradient_clip_val": 2.5}
    own = replace(spiky_details, artifacts=replace(spiky_details.artifacts, hparams=hparams))
    assert clip_threshold(own) == (2.5, "clip threshold (trainer.gradient_clip_val=2.5)")


def test_no_gap_chart_without_validation_loss(spiky_details: AnalysisDetails) -> None:
    primary = {k: v for k, v in spiky_details.artifacts.primary.items() if k != "val_loss"}
    without_val = replace(
        spiky_details, artifacts=replace(spiky_details.artifacts, primary=primary)
    )
    titles = [chart.title for chart in build_charts(without_val)]
    assert titles == ["Loss", "Gradient norm", "Learning-rate schedule"]
    assert [c.title for c in build_charts(spiky_details)][1] == "Train / validation gap"
