import numpy as np

from dynamics_stats.detectors import DivergenceDetector


def _score(run):
    (evidence,) = DivergenceDetector().detect(run)
    return evidence


def test_runaway_growth_scores_above_healthy_runs(healthy, modelled):
    for seed in range(4):
        steps, loss, norm = healthy(seed)
        grown = loss.copy()
        grown[2000:] *= np.exp((steps[2000:] - 2000) / 150)
        sick = _score(modelled(steps, grown, norm))
        fine = _score(modelled(steps, loss, norm))
        assert sick.score >= 1.0 > 0.3 > fine.score
        assert abs(sick.onset_step - 2000) < 300


def test_nan_loss_is_critical_with_its_first_step_and_the_lr(healthy, modelled):
    steps, loss, norm = healthy(0)
    loss = loss.copy()
    loss[1234:] = np.nan
    evidence = _score(modelled(steps, loss, norm, lr=3e-3))
    assert evidence.score >= 3.0 and evidence.onset_step == 1234
    assert evidence.severity == "critical"
    assert evidence.value("lr_at_onset") == 3e-3


def test_hidden_nan_shows_through_the_grad_norm(healthy, modelled):
    steps, loss, norm = healthy(1)
    norm = norm.copy()
    norm[900] = np.inf
    evidence = _score(modelled(steps, loss, norm))
    assert evidence.onset_step == 900 and evidence.value("hidden_by_trainer") == 1.0


def test_scale_and_logging_interval_do_not_change_the_verdict(healthy, modelled):
    steps, loss, norm = healthy(2)
    grown = loss.copy()
    grown[2000:] *= np.exp((steps[2000:] - 2000) / 150)
    base = _score(modelled(steps, grown, norm)).score
    assert abs(_score(modelled(steps, grown, norm, scale=1000.0)).score - base) < 1e-9
    assert abs(_score(modelled(steps, grown, norm, every=10)).score - base) < 0.25


def test_short_and_missing_inputs(modelled):
    assert DivergenceDetector().detect(modelled(np.arange(3), np.array([1.0, 0.9, 0.8])))
    run = modelled(np.arange(3), np.array([1.0, 0.9, 0.8]))
    assert DivergenceDetector().detect(run)[0].score < 1.0
