import numpy as np
import pandas as pd
import pytest

from dynamics_stats import UpstreamValidation, load_run, validate_run
from dynamics_stats.agent.confidence import assess_confidence
from dynamics_stats.core.analysis_config import PolicyConfig
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.io.synthetic import make_run


def _frame_run(n, **columns):
    steps = np.arange(n)
    frame = pd.DataFrame({"step": steps, "loss": 2.0 / (1 + steps / 10), **columns})
    return validate_run(load_run(frame))


def test_complete_validated_data_gives_full_confidence():
    artifacts = validate_run(make_run("overfitting", seed=0)[0])
    upstream = UpstreamValidation(ran=True, passed=True, source="validator")
    confidence = assess_confidence(artifacts, fit_notes=(), upstream=upstream)
    assert confidence.score == 1.0 and confidence.level == "high" and confidence.reasons == ()
    assert "validated upstream by validator" in confidence.explanation


def test_each_data_gap_lowers_the_score_by_its_weight_and_is_explained():
    artifacts = _frame_run(30)
    confidence = assess_confidence(artifacts, fit_notes=())
    factors = dict(confidence.factors)
    assert set(factors) == {
        "no_validation",
        "no_grad_norm",
        "no_learning_rate",
        "short_run",
        "not_validated_upstream",
    }
    assert confidence.score == pytest.approx(1 - sum(factors.values()))
    assert confidence.level == "low"
    assert "only 30 points" in confidence.explanation
    assert confidence.explanation.startswith(f"Confidence is low ({confidence.score:.2f})")


def test_fit_failures_failed_detectors_and_upstream_issues_count():
    artifacts = validate_run(make_run("stalled", seed=0)[0])
    notes = (ValidationIssue("smoothing_fallback", "warning", "EWMA used", metric="loss"),)
    upstream = UpstreamValidation(ran=True, passed=False, n_issues=3, source="v")
    confidence = assess_confidence(
        artifacts, fit_notes=notes, upstream=upstream, failed_detectors=("spikes",)
    )
    factors = dict(confidence.factors)
    assert factors == pytest.approx(
        {"fit_fallbacks": 0.05, "detectors_failed": 0.1, "upstream_issues": 0.1}
    )
    assert any("3 issue(s)" in r for r in confidence.reasons)


def test_short_run_threshold_comes_from_the_policy():
    artifacts = _frame_run(30)
    relaxed = assess_confidence(artifacts, fit_notes=(), policy=PolicyConfig(min_train_points=20))
    assert "short_run" not in dict(relaxed.factors)
