"""Every real public run loads, validates, and gets the roles a careful reader would give it."""

import csv

import pytest

from dynamics_stats import load_run, validate_run


def _index(public_runs):
    with open(public_runs / "index.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _validated(public_runs, row):
    return validate_run(load_run(public_runs / row["run_id"]))


def test_every_public_run_loads_with_the_roles_its_log_holds(public_runs, capsys):
    rows = _index(public_runs)
    problems, loaded = [], 0
    for row in rows:
        artifacts = _validated(public_runs, row)
        loaded += 1
        expected = {
            "train_loss": int(row["n_train_loss"]) > 0,
            # the reference parser counts eval losses; runs with only eval scores have 0
            "val_loss": int(row["n_eval_loss"]) > 0,
            "grad_norm": int(row["n_grad_norm"]) > 0,
            "learning_rate": int(row["n_lr"]) > 0,
        }
        for role, present in expected.items():
            if present and artifacts.get(role) is None:
                problems.append(f"{row['run_id']}: no {role} (metrics: {artifacts.metric_names})")
    with capsys.disabled():
        print(f"\nloaded {loaded} of {len(rows)} public runs")
    assert loaded == len(rows) == 84
    assert not problems, "\n".join(problems)


def test_public_run_point_counts_match_the_reference_parser(public_runs):
    mismatches = []
    for row in _index(public_runs):
        artifacts = _validated(public_runs, row)
        loss = artifacts.get("train_loss")
        n_ref = int(row["n_train_loss"])
        if loss is not None and n_ref and abs(len(loss) - n_ref) > max(2, 0.05 * n_ref):
            mismatches.append(f"{row['run_id']}: {len(loss)} train-loss points, reference {n_ref}")
    # Where we differ from the reference parser, it must be by design (documented repairs);
    # list them so a change shows up in review.
    assert len(mismatches) <= 8, "\n".join(mismatches)


@pytest.mark.parametrize(
    "format_key", ["hf_trainer_state", "lightning_csv", "keras_csv", "tfevents"]
)
def test_public_runs_have_increasing_steps_and_a_format(public_runs, format_key):
    for row in _index(public_runs):
        if row["format"] != format_key:
            continue
        artifacts = _validated(public_runs, row)
        assert artifacts.format
        for series in artifacts.metrics:
            assert (series.steps[1:] > series.steps[:-1]).all()
