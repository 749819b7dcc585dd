"""Tests of `render_sweep_html`: escaping, self-containment and interval bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.report.html_sweep import render_sweep_html
from dynamics_stats.sweeps import SweepResult, analyze_sweep
from dynamics_stats.sweeps.table import SweepTable

EVIL = "<script>window.__pwned=1</script>"


@pytest.fixture(scope="module")
def result() -> SweepResult:
    rng = np.random.default_rng(7)
    n_runs = 40
    lr = 10 ** rng.uniform(-4, -1, n_runs)
    params = pd.DataFrame({"lr": lr, EVIL: rng.integers(0, 100, n_runs)})
    loss = (np.log10(lr) + 2.5) ** 2 + rng.normal(0, 0.1, n_runs)
    outcomes = pd.DataFrame({"best_val_loss": loss, "p_loss_spikes": (lr > 0.03).astype(float)})
    table = SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")
    return analyze_sweep(table, n_bootstrap=100, n_estimators=40)


def test_names_are_escaped_and_no_script(result: SweepResult) -> None:
    page = render_sweep_html(result)
    assert "<script" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_bars_with_intervals_for_every_parameter(result: SweepResult) -> None:
    page = render_sweep_html(result)
    assert page.count('<svg class="chart"') == 2
    n_with_interval = sum(p.importance_interval is not None for p in result.parameters)
    importance_svg = page.split('aria-label="Permutation importance')[1].split("</svg>")[0]
    assert importance_svg.count('class="whisker"') == n_with_interval
    assert importance_svg.count("<rect") == sum(p.importance is not None for p in result.parameters)
    lr = result.parameter("lr")
    assert lr.significant and 'class="bar-rect high"' in importance_svg


def test_self_contained(result: SweepResult) -> None:
    page = render_sweep_html(result)
    assert "src=" not in page and "href=" not in page and "://" not in page
