"""Sweep plots: trend, importance bars and pathology plots draw what they claim."""

from __future__ import annotations

import pytest

from dynamics_stats.core.errors import InputError
from dynamics_stats.sweeps import analyze_sweep
from dynamics_stats.sweeps.plots import plot_importance, plot_parameter, plot_pathology

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_numeric_parameter_gets_points_and_a_lowess_trend(make_sweep) -> None:
    table = make_sweep(0, n_runs=40)
    ax = plot_parameter(table, "lr")
    assert ax.get_xscale() == "log"
    trend = ax.get_lines()[0]
    assert trend.get_label() == "LOWESS trend"
    assert len(trend.get_xdata()) == 40
    assert ax.get_xlabel() == "lr" and ax.get_ylabel() == "best_val_loss"


def test_categorical_parameter_gets_one_box_per_level(make_sweep) -> None:
    ax = plot_parameter(make_sweep(0, n_runs=40), "optimizer")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["adam", "rmsprop", "sgd"]


def test_importance_bars_follow_the_result(make_sweep) -> None:
    result = analyze_sweep(make_sweep(1, n_runs=40), n_bootstrap=50, n_estimators=20)
    ax = plot_importance(result)
    bars = ax.patches
    assert len(bars) == len(result.parameters)
    widths = sorted(round(b.get_width(), 9) for b in bars)
    assert widths == sorted(round(p.importance, 9) for p in result.parameters)
    with pytest.raises(InputError, match="measure must be"):
        plot_importance(result, measure="gain")


def test_pathology_plot_and_its_errors(make_sweep) -> None:
    table = make_sweep(2, n_runs=30)
    ax = plot_pathology(table, "lr", "divergence")
    assert ax.get_ylabel() == "P(divergence)"
    with pytest.raises(InputError, match="no probability of 'nan_loss'"):
        plot_pathology(table, "lr", "nan_loss")
    with pytest.raises(InputError, match="cannot plot 'momentum'"):
        plot_parameter(table, "momentum")
