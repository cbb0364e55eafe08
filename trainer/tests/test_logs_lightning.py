"""Lightning CSVLogger output as runs: sparse rows merged by step, hparams.yaml as the config, bad
rows skipped with their line."""

from __future__ import annotations

import math
from pathlib import Path

from lossradar.logs import import_logs

from .test_logs_import import only_run, stored_meta, stored_rows, write_csv_logger

# As a LightningModule logs them: train values on every step's row, validation on rows of their own.
LOGGED: list[tuple[int, dict[str, float]]] = [
    (0, {"train_loss": 2.0, "epoch": 0}),
    (1, {"train_loss": 1.5, "epoch": 0}),
    (1, {"val/loss": 1.8, "val/acc": 0.4, "epoch": 0}),
    (2, {"train_loss": 1.2, "epoch": 1}),
    (3, {"train_loss": 1.1, "epoch": 1}),
    (3, {"val/loss": math.nan, "val/acc": 0.5, "epoch": 1}),
]


def test_train_and_validation_rows_of_a_step_become_one_row_with_the_hparams_as_config(tmp_path: Path) -> None:
    version = write_csv_logger(tmp_path / "logs", LOGGED, {"lr": 0.01, "layers": 2, "optimizer": {"name": "adam"}})
    header = (version / "metrics.csv").read_text().splitlines()[0]
    assert header.split(",") == ["epoch", "step", "train_loss", "val/acc", "val/loss"]  # the real file's shape

    run_dir = only_run(import_logs(version, tmp_path / "runs"))

    rows = stored_rows(run_dir)
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert rows[1] == {"step": 1, "seq": 1, "epoch": 0.0, "train_loss": 1.5, "val/loss": 1.8, "val/acc": 0.4}
    assert math.isnan(rows[3]["val/loss"]) and rows[3]["val/acc"] == 0.5
    assert "val/loss" not in rows[2]
    meta = stored_meta(run_dir)
    assert meta["name"] == "version_0"
    assert meta["config"] == {
        "lr": 0.01,
        "layers": 2,
        "optimizer": {"name": "adam"},
        "imported_from": {"format": "lightning", "path": str(version.resolve())},
    }


def test_a_lightning_logs_tree_imports_each_version(tmp_path: Path) -> None:
    for _ in range(3):
        write_csv_logger(tmp_path / "logs", LOGGED[:2], {})
    result = import_logs(tmp_path / "logs" / "lightning_logs", tmp_path / "runs")
    assert sorted(r.name for r in result.runs) == [f"lightning_logs/version_{i}" for i in range(3)]


def test_a_bad_row_is_skipped_with_a_warning_naming_its_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    version = write_csv_logger(tmp_path / "logs", LOGGED, {})
    csv = version / "metrics.csv"
    lines = csv.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("1.5", "oops")  # line 3: the train row of step 1
    lines[4] = "1,2,3,4,5,6,7\n"  # line 5: a row with more fields than the header
    lines[5] = "1,two,1.2,,\n"  # line 6: a step that is not one
    lines[-1] = lines[-1][:5]  # the last line, torn by a crash mid-write
    csv.write_text("".join(lines))

    result = import_logs(version, tmp_path / "runs")

    rows = stored_rows(only_run(result))
    assert [(r["step"], sorted(k for k in r if k not in ("step", "seq"))) for r in rows] == [
        (0, ["epoch", "train_loss"]),
        (1, ["epoch", "val/acc", "val/loss"]),  # the line after a bad one
    ]
    assert result.warnings == [
        f"{csv}:7: torn last line (the writer stopped mid-line); skipped",
        f"{csv}:5: 7 field(s) where the header has 5; row skipped",
        f"{csv}:3: train_loss: 'oops' is not a number; row skipped",
        f"{csv}:6: step 'two' is not an integer ≥ 0; row skipped",
    ]


def test_a_csv_without_a_step_column_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    csv = tmp_path / "logs" / "metrics.csv"
    csv.write_text("epoch,loss\n0,1.0\n")
    result = import_logs(tmp_path / "logs", tmp_path / "runs")
    assert result.runs == []
    assert result.errors == [f"{csv}:1: no step column (the header of a Lightning CSVLogger metrics.csv has one)"]


def test_an_hparams_file_that_is_not_yaml_costs_the_config_only(tmp_path: Path) -> None:
    version = write_csv_logger(tmp_path / "logs", LOGGED[:1], {})
    (version / "hparams.yaml").write_text("lr: [0.1\nlayers: 2\n")
    result = import_logs(version, tmp_path / "runs")
    meta = stored_meta(only_run(result))
    assert set(meta["config"]) == {"imported_from"}
    [warning] = result.warnings
    assert warning.startswith(f"{version / 'hparams.yaml'}:") and "config not read" in warning
