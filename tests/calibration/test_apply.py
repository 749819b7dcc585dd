from dynamics_stats.calibration import calibrate, provisional_map
from dynamics_stats.detectors.base import CORE_KINDS, Evidence


def test_every_core_kind_gets_a_probability_and_unassessed_ones_are_marked():
    evidence = (
        Evidence(kind="divergence", detector="divergence", score=5.0, onset_step=40),
        Evidence(kind="loss_spikes", detector="spikes", score=0.0),
        Evidence(
            kind="validation_plateau", detector="validation_plateau", score=2.0, severity="warning"
        ),
    )
    out = calibrate(evidence, provisional_map(CORE_KINDS))
    issues = dict(out.issues)
    assert set(issues) == set(CORE_KINDS)
    assert all(0.0 <= p <= 1.0 for p in issues.values())
    assert issues["divergence"] > 0.9 > issues["loss_spikes"]
    assessed = dict(out.assessed)
    assert assessed["divergence"] and assessed["loss_spikes"] and not assessed["overfitting"]
    kinds = [f.kind for f in out.findings]
    assert kinds[0] == "divergence" and "loss_spikes" not in kinds
    plateau = next(f for f in out.findings if f.kind == "validation_plateau")
    assert plateau.probability is None and not plateau.calibrated


def test_strongest_evidence_of_a_kind_wins():
    evidence = (
        Evidence(kind="exploding_gradients", detector="a", score=0.1),
        Evidence(kind="exploding_gradients", detector="b", score=3.0),
    )
    out = calibrate(evidence, provisional_map(CORE_KINDS))
    assert out.findings[0].detector == "b"


def test_nonfinite_evidence_values_are_left_out_of_findings():
    evidence = (
        Evidence(
            kind="divergence", detector="d", score=9.0, values=(("a", float("nan")), ("b", 1.0))
        ),
    )
    finding = calibrate(evidence, provisional_map(CORE_KINDS)).findings[0]
    assert finding.evidence == (("b", 1.0),)
