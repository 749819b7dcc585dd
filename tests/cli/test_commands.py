import json

import pytest

from dynamics_stats.cli import main


@pytest.fixture
def csv_run(tmp_path):
    path = tmp_path / "history.csv"
    rows = ["step,loss,val_loss,lr"] + [
        f"{s},{1.0 / s:.4f},{1.1 / s:.4f},0.001" for s in range(1, 21)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_inspect_prints_roles(csv_run, capsys):
    assert main(["inspect", str(csv_run)]) == 0
    out = capsys.readouterr().out
    assert "train_loss" in out and "val_loss" in out and "learning_rate" in out


def test_inspect_json_is_valid_json(csv_run, capsys):
    assert main(["inspect", str(csv_run), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["primary"]["train_loss"] == "loss"


def test_role_override_from_the_command_line(csv_run, capsys):
    assert main(["inspect", str(csv_run), "--json", "--role", "lr=other"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert "learning_rate" not in described["primary"]


def test_missing_file_exits_2_without_traceback(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_bad_role_syntax_exits_2(csv_run, capsys):
    assert main(["inspect", str(csv_run), "--role", "lr"]) == 2
    assert "NAME=ROLE" in capsys.readouterr().err


def test_unknown_format_suggests_close_names(csv_run, capsys):
    assert main(["inspect", str(csv_run), "--format", "tensorbord"]) == 2
    assert "tensorboard" in capsys.readouterr().err


def test_empty_file_exits_2_naming_the_file(tmp_path, capsys):
    empty = tmp_path / "metrics.csv"
    empty.write_text("")
    assert main(["inspect", str(empty)]) == 2
    assert "metrics.csv" in capsys.readouterr().err


def test_cli_never_writes_into_the_run_folder(csv_run, capsys):
    before = sorted(p.name for p in csv_run.parent.iterdir())
    main(["inspect", str(csv_run)])
    assert sorted(p.name for p in csv_run.parent.iterdir()) == before


def test_formats_lists_every_loader(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name in ("lightning_csv", "tensorboard", "hf_trainer_state", "mlflow", "wandb"):
        assert name in out


def test_analyze_text_report_on_the_bundled_example(capsys):
    from dynamics_stats.examples import example_path

    assert main(["analyze", str(example_path())]) == 0
    out = capsys.readouterr().out
    assert "overfitting" in out and "Recommendations:" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_analyze_json_and_out_file(csv_run, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["analyze", str(csv_run), "--format", "json", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["schema_version"] == "1.1" and set(data["issues"]) >= {"divergence", "stalled"}


def test_fail_on_sets_exit_code_3(tmp_path, capsys):
    path = tmp_path / "diverged.csv"
    rows = ["step,loss"] + [f"{s},{1.0 / s if s < 60 else 'nan'}" for s in range(1, 100)]
    path.write_text("\n".join(rows) + "\n")
    assert main(["analyze", str(path), "--fail-on", "divergence:0.8"]) == 3
    assert "divergence" in capsys.readouterr().err
    assert main(["analyze", str(path), "--fail-on", "divergence:x"]) == 2


def test_analyze_with_a_config_file(csv_run, tmp_path, capsys):
    config = tmp_path / "cfg.toml"
    config.write_text("min_probability = 0.99\n")
    assert main(["analyze", str(csv_run), "--config", str(config), "--format", "json"]) == 0
    config.write_text("min_prob = 0.99\n")
    assert main(["analyze", str(csv_run), "--config", str(config)]) == 2
    assert "Valid keys" in capsys.readouterr().err
