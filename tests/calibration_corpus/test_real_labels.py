"""The label rules of the real corpus: re-applied to committed runs they give the committed
labels, and on constructed curves each rule fires where it should (and only there)."""

import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REAL = Path(__file__).parents[2] / "calibration" / "real"
sys.path.insert(0, str(REAL))

import label_rules  # noqa: E402

#: One run per mechanism (and two hard negatives); all are committed under runs/.
FIXED_RUNS = (
    "h_digits_mlp_s0",
    "hn_noisy_wine_s0",
    "hn_stepdrop_digits_s1",
    "o_digits_512_s0",
    "d_digits_sgd_s0",
    "d_diabetes_ramp_s1",
    "s_digits_s0",
    "e_digits_burst_s0",
    "v_digits_sig10_s0",
    "t_digits_adam_s0",
    "c_wine_1_s0",
)


def _committed() -> dict[str, dict[str, str]]:
    with open(REAL / "labels.csv", newline="") as handle:
        return {row["run_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("run_id", FIXED_RUNS)
def test_rules_reproduce_committed_labels(run_id):
    committed = _committed()
    if run_id not in committed:
        pytest.fail(f"{run_id} is missing from calibration/real/labels.csv")
    found = label_rules.label_run(REAL / "runs" / run_id / "metrics.csv")
    for kind in label_rules.KINDS:
        flag, onset = found[kind]
        assert int(flag) == int(committed[run_id][f"label_{kind}"]), kind
        expected_onset = committed[run_id][f"onset_{kind}"]
        assert ("" if onset is None else str(onset)) == expected_onset.replace(".0", ""), kind


def test_every_run_has_its_two_files_and_nothing_else():
    for folder in (REAL / "runs").iterdir():
        assert sorted(p.name for p in folder.iterdir()) == ["hparams.yaml", "metrics.csv"]


def _frame(loss, *, val=None, grad=None):
    steps = np.arange(len(loss))
    out = {"train": pd.Series(loss, steps)}
    if val is not None:
        out["val"] = pd.Series(val[1], val[0])
    out["grad"] = pd.Series(np.ones(len(loss)) if grad is None else grad, steps)
    return out


def test_rules_on_constructed_curves(rng):
    n = 400
    healthy = 2.0 * np.exp(-np.arange(n) / 80) + 0.1 + 0.01 * rng.standard_normal(n)
    assert not any(flag for flag, _ in (r(_frame(healthy)) for r in label_rules.RULES.values()))
    spiky = healthy.copy()
    spiky[250] = 3.0
    assert label_rules.loss_spikes(_frame(spiky)) == (True, 250)
    diverging = healthy.copy()
    diverging[300:] = np.nan
    assert label_rules.divergence(_frame(diverging))[0]
    flat = 2.3 + 0.01 * rng.standard_normal(n)
    assert label_rules.stalled(_frame(flat))[0]
    wobble = healthy + 0.3 * np.sin(np.arange(n) * np.pi / 4)
    assert label_rules.oscillation(_frame(wobble))[0]
    grad = np.ones(n)
    grad[200:] = 50.0
    assert label_rules.exploding_gradients(_frame(healthy, grad=grad)) == (True, 200)
    val_steps = np.arange(0, n, 10)
    val = np.where(val_steps < 100, 1.0 - val_steps / 200, 0.5 + (val_steps - 100) / 300)
    assert label_rules.overfitting(_frame(healthy, val=(val_steps, val))) == (True, 100)
