import numpy as np
import pandas as pd

from dynamics_stats import load_run, validate_run
from dynamics_stats.curves import model_curves


def _artifacts(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    frame = pd.DataFrame(
        {
            "step": steps,
            "loss": (0.2 + 2 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, 0.05, n)),
            "grad_norm": np.exp(rng.normal(0, 0.2, n)),
            "lr": 1e-3,
        }
    )
    return validate_run(load_run(frame))


def test_models_the_main_roles():
    modelled = model_curves(_artifacts())
    assert set(modelled.curves) == {"loss", "grad_norm"}
    assert modelled.curve("train_loss").metric == "loss"
    assert "loss" in modelled.changepoints and modelled.grad_anomalies is not None
    assert modelled.notes == ()


def test_a_failing_model_becomes_a_note_and_the_others_run(monkeypatch):
    import dynamics_stats.curves.model as model
    from dynamics_stats.core.errors import ModelFitError

    def broken(*args, **kwargs):
        raise ModelFitError("boom")

    monkeypatch.setattr(model, "score_grad_norms", broken)
    modelled = model_curves(_artifacts())
    assert modelled.grad_anomalies is None and "loss" in modelled.curves
    assert [n.code for n in modelled.notes] == ["anomalies_failed"]
