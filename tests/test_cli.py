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
