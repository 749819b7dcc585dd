import numpy as np
import pandas as pd
import pytest

from dynamics_stats import (
    ConfigError,
    InvalidRunError,
    RunLog,
    ValidationConfig,
    load_run,
    validate_run,
)


def _records(rows):
    """rows: (metric, step, epoch, value) in source order; line = position + 2."""
    frame = pd.DataFrame(rows, columns=["metric", "step", "epoch", "value"])
    frame["wall_time"] = np.nan
    frame["line"] = np.arange(2, len(frame) + 2)
    return frame[["metric", "step", "epoch", "wall_time", "value", "line"]]


def _run(rows, **kwargs):
    return RunLog(source="mem", format="test", records=_records(rows), **kwargs)


def _codes(artifacts):
    return [issue.code for issue in artifacts.report.issues]


def test_duplicate_steps_keep_latest_write_and_say_so():
    run = _run([("loss", 1, 0, 3.0), ("loss", 2, 0, 2.0), ("loss", 2, 0, 1.9), ("loss", 3, 0, 1.5)])
    artifacts = validate_run(run)
    loss = artifacts.get("train_loss")
    assert loss.steps.tolist() == [1, 2, 3]
    assert loss.values.tolist() == [3.0, 1.9, 1.5]
    assert "duplicate_steps" in _codes(artifacts)


def test_resumed_run_replaces_the_abandoned_branch():
    # steps 1..4, then a resume from step 2: the later 2, 3 replace the earlier 3, 4.
    rows = [("loss", s, 0, 10.0 - s) for s in (1, 2, 3, 4)] + [
        ("loss", 2, 0, 7.5),
        ("loss", 3, 0, 6.5),
    ]
    artifacts = validate_run(_run(rows))
    loss = artifacts.get("train_loss")
    assert loss.steps.tolist() == [1, 2, 3]
    assert loss.values.tolist() == [9.0, 7.5, 6.5]
    issue = next(i for i in artifacts.report.issues if i.code == "steps_backwards")
    assert issue.level == "repaired" and issue.n_affected == 3 and issue.lines == (6,)


def test_nan_and_inf_are_kept_as_evidence():
    run = _run([("loss", 1, 0, 1.0), ("loss", 2, 0, "nan"), ("loss", 3, 0, float("inf"))])
    values = validate_run(run).get("train_loss").values
    assert values[0] == 1.0 and np.isnan(values[1]) and np.isinf(values[2])


def test_junk_strings_are_dropped_with_their_lines_and_tensors_salvaged():
    rows = [("loss", 1, 0, "1.5"), ("loss", 2, 0, "oops"), ("loss", 3, 0, "tensor(0.75)")]
    artifacts = validate_run(_run(rows))
    assert artifacts.get("train_loss").values.tolist() == [1.5, 0.75]
    junk = next(i for i in artifacts.report.issues if i.code == "non_numeric_values")
    assert junk.lines == (3,) and junk.metric == "loss" and junk.level == "warning"
    assert "wrapped_numbers" in _codes(artifacts)


def test_validation_logged_per_epoch_is_mapped_to_the_end_of_its_epoch():
    rows = [("loss", s, s // 10, 1.0 / s) for s in range(1, 30)]
    rows += [("val_loss", np.nan, 0, 0.9), ("val_loss", np.nan, 1, 0.8)]
    artifacts = validate_run(_run(rows))
    assert artifacts.get("val_loss").steps.tolist() == [9, 19]
    assert "epoch_mapped_to_step" in _codes(artifacts)


def test_epoch_only_log_uses_epochs_as_steps():
    rows = [("loss", np.nan, e, 1.0 / (e + 1)) for e in range(5)]
    artifacts = validate_run(_run(rows, step_unit="epoch"))
    assert artifacts.step_unit == "epoch"
    assert artifacts.get("train_loss").steps.tolist() == [0, 1, 2, 3, 4]


def test_hidden_nonfinite_loss_is_reported():
    rows = [("loss", s, 0, 1.0) for s in range(1, 6)]
    rows += [("grad_norm", s, 0, "nan" if s == 3 else 1.0) for s in range(1, 6)]
    artifacts = validate_run(_run(rows))
    issue = next(i for i in artifacts.report.issues if i.code == "hidden_nonfinite_loss")
    assert "first: 3" in issue.message


def test_role_override_and_loader_hint_take_precedence_over_the_name():
    rows = [("norm", s, 0, 1.0) for s in range(1, 4)] + [
        ("objective", s, 0, 2.0) for s in range(1, 4)
    ]
    run = _run(rows, role_hints={"norm": "grad_norm"})
    artifacts = validate_run(run, ValidationConfig(roles={"objective": "train_loss"}))
    assert artifacts.primary["grad_norm"] == "norm"
    assert artifacts.primary["train_loss"] == "objective"
    assert artifacts.get("train_loss").direction == "min"


def test_primary_prefers_overall_loss_then_density():
    rows = [("train/box_loss", s, 0, 1.0) for s in range(10)]
    rows += [
        ("train_loss_epoch", 9, 0, 1.0),
        ("train_loss_step", 1, 0, 1.0),
        ("train_loss_step", 2, 0, 1.0),
    ]
    artifacts = validate_run(_run(rows))
    assert artifacts.primary["train_loss"] == "train_loss_step"


def test_missing_train_loss_is_a_warning_not_an_error():
    artifacts = validate_run(_run([("val_acc", s, 0, 0.5) for s in range(3)]))
    assert "no_train_loss" in _codes(artifacts)
    assert artifacts.get("train_loss") is None


def test_nothing_numeric_raises_with_the_report():
    with pytest.raises(InvalidRunError, match="no numeric metric") as info:
        validate_run(_run([("loss", 1, 0, "abc"), ("lr", 1, 0, "x")]))
    assert info.value.report.is_fatal


def test_config_rejects_unknown_roles_and_bad_primary():
    with pytest.raises(ConfigError, match="must be one of"):
        ValidationConfig(roles={"x": "train_los"})
    with pytest.raises(ConfigError, match="does not log"):
        validate_run(_run([("loss", 1, 0, 1.0)]), ValidationConfig(primary={"train_loss": "nope"}))


def test_input_is_not_modified():
    records = _records([("loss", 2, 0, "1.0"), ("loss", 1, 0, "2.0")])
    before = records.copy()
    validate_run(RunLog(source="mem", format="test", records=records))
    pd.testing.assert_frame_equal(records, before)


def test_result_arrays_are_read_only():
    artifacts = validate_run(_run([("loss", 1, 0, 1.0), ("loss", 2, 0, 0.5)]))
    with pytest.raises(ValueError):
        artifacts.get("train_loss").values[0] = 3.0


def test_long_table_round_trip():
    frame = pd.DataFrame(
        {"step": [1, 2, 3], "loss": [1.0, 0.8, 0.7], "val_loss": [np.nan, 0.9, np.nan]}
    )
    table = validate_run(load_run(frame)).to_frame()
    assert set(table["metric"]) == {"loss", "val_loss"}
    assert len(table) == 4
