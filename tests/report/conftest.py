"""Fixtures of the report tests: analyses of runs whose names try to inject HTML."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynamics_stats.agent.analyze import AnalysisDetails, analyze_in_detail
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.io.synthetic import make_run
from dynamics_stats.validate import validate_run

HOSTILE_METRIC = '<script>window.__pwned=1;document.title="pwned"</script>'
HOSTILE_HPARAM = '<img src=x onerror="window.__pwned=2">'
HOSTILE_SOURCE = "runs/<b>bold</b>&\"quoted\"/'a'"


def hostile_details(
    kind: str, *, seed: int = 0, n_steps: int = 1500, strength: float = 1.0
) -> AnalysisDetails:
    """Analyse a synthetic run whose train loss, a hyper-parameter and path are hostile."""
    run, _ = make_run(kind, seed=seed, n_steps=n_steps, strength=strength)
    records = run.records.copy()
    records["metric"] = records["metric"].replace({"train_loss_step": HOSTILE_METRIC})
    hints = {
        (HOSTILE_METRIC if name == "train_loss_step" else name): role
        for name, role in run.role_hints.items()
    }
    hparams = {**run.hparams, HOSTILE_HPARAM: HOSTILE_HPARAM, "note": "</table><h1>x</h1>"}
    run = replace(run, records=records, role_hints=hints, hparams=hparams, source=HOSTILE_SOURCE)
    config = AnalysisConfig()
    return analyze_in_detail(validate_run(run, config.validation), config)


@pytest.fixture(scope="session")
def hostile() -> dict[str, str]:
    """The hostile strings the fixtures put into the log."""
    return {"metric": HOSTILE_METRIC, "hparam": HOSTILE_HPARAM, "source": HOSTILE_SOURCE}


@pytest.fixture(scope="session")
def spiky_details() -> AnalysisDetails:
    """A hostile-named run with loss spikes (train loss, val loss, LR, grad norm)."""
    return hostile_details("loss_spikes")


@pytest.fixture(scope="session")
def overfit_details() -> AnalysisDetails:
    """A hostile-named run that clearly overfits (the charts need an overfitting finding)."""
    return hostile_details("overfitting", seed=1, strength=2.0)
