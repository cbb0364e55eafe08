"""`python -m lossradar.logs import`: finding runs in a folder, naming them, writing them to the store,
and the command line. The formats' own tests are test_logs_<format>.py."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lossradar.encoding import decode_number
from lossradar.logs import ImportResult, import_logs

TRAINER = Path(__file__).resolve().parents[1]


def stored_rows(run_dir: Path) -> list[dict[str, Any]]:
    """metrics.jsonl of a run folder, values decoded as the hub decodes them ("NaN" → nan)."""
    rows = []
    for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for key, value in row.items():
            if key not in ("step", "time", "seq", "source", "rank"):
                row[key] = decode_number(value)
        rows.append(row)
    return rows


def stored_meta(run_dir: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    return meta


def only_run(result: ImportResult) -> Path:
    assert result.errors == [], result.errors
    assert len(result.runs) == 1, [r.name for r in result.runs]
    return result.runs[0].dir


def write_summaries(folder: Path, steps: dict[int, dict[str, float]]) -> None:
    """Event files written by the writer most PyTorch code uses."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for step, values in steps.items():
        for tag, value in values.items():
            writer.add_scalar(tag, value, step)
    writer.close()


def write_csv_logger(save_dir: Path, rows: list[tuple[int, dict[str, Any]]], hparams: dict[str, Any]) -> Path:
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(str(save_dir), name="lightning_logs")
    logger.log_hyperparams(hparams)
    for step, values in rows:
        logger.log_metrics(values, step=step)
    logger.save()
    return Path(logger.log_dir)


def test_a_folder_of_many_runs_imports_as_many_runs_named_after_their_folders(tmp_path: Path) -> None:
    logs = tmp_path / "experiments"
    write_summaries(logs / "tb" / "lr-0.1", {0: {"loss": 2.0}, 1: {"loss": 1.5}})
    write_summaries(logs / "tb" / "lr-0.01", {0: {"loss": 2.0}, 1: {"loss": 1.9}, 2: {"loss": 1.8}})
    write_csv_logger(logs / "pl", [(0, {"train_loss": 1.0})], {"lr": 0.1})
    write_csv_logger(logs / "pl", [(0, {"train_loss": 2.0}), (1, {"train_loss": 1.0})], {"lr": 0.2})

    result = import_logs(logs, tmp_path / "runs")

    assert result.errors == []
    by_name = {r.name: r for r in result.runs}
    assert set(by_name) == {
        "experiments/tb/lr-0.1",
        "experiments/tb/lr-0.01",
        "experiments/pl/lightning_logs/version_0",
        "experiments/pl/lightning_logs/version_1",
    }
    assert by_name["experiments/tb/lr-0.01"].rows == 3
    assert by_name["experiments/pl/lightning_logs/version_1"].rows == 2
    assert [stored_meta(r.dir)["config"]["lr"] for r in sorted(result.runs, key=lambda r: r.name)[:2]] == [0.1, 0.2]
    assert len({r.id for r in result.runs}) == 4
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(r.id for r in result.runs)


def test_name_names_a_single_run_and_prefixes_several(tmp_path: Path) -> None:
    write_summaries(tmp_path / "logs" / "a", {0: {"loss": 1.0}})
    single = import_logs(tmp_path / "logs" / "a", tmp_path / "runs", name="baseline")
    assert [r.name for r in single.runs] == ["baseline"]
    assert stored_meta(single.runs[0].dir)["name"] == "baseline"
    write_summaries(tmp_path / "logs" / "b", {0: {"loss": 1.0}})
    several = import_logs(tmp_path / "logs", tmp_path / "runs", name="sweep")
    assert sorted(r.name for r in several.runs) == ["sweep/a", "sweep/b"]


def test_an_imported_run_is_a_completed_run_of_the_store_that_says_where_it_came_from(tmp_path: Path) -> None:
    write_csv_logger(tmp_path / "pl", [(0, {"train_loss": 1.0}), (5, {"train_loss": 0.5})], {"lr": 0.1})
    csv = tmp_path / "pl" / "lightning_logs" / "version_0" / "metrics.csv"

    run_dir = only_run(import_logs(tmp_path / "pl", tmp_path / "runs"))

    meta = stored_meta(run_dir)
    assert meta["id"] == run_dir.name
    assert meta["status"] == "completed" and meta["error"] is None
    assert meta["config"]["imported_from"] == {"format": "lightning", "path": str(csv.parent.resolve())}
    # Lightning records no wall time: the run began, as far as anyone can tell, when its log was written.
    assert meta["createdAt"] == pytest.approx(csv.stat().st_mtime)
    assert meta["pid"] is None and meta["host"] is None  # the importer's, not the run's
    assert [json.loads(line)["seq"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [0, 1]
    for empty in ("distributions.jsonl", "events.jsonl", "alerts.jsonl"):
        assert (run_dir / empty).read_text() == ""


def test_a_path_with_no_logs_is_an_error_that_names_it_and_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    result = import_logs(tmp_path / "empty", tmp_path / "runs")
    assert result.runs == []
    looked_for = "events.out.tfevents.*, trainer_state.json, metrics.csv, plots/metrics/*.tsv"
    assert result.errors == [f"{tmp_path / 'empty'}: no logs ({looked_for}) found"]
    missing = import_logs(tmp_path / "nope", tmp_path / "runs")
    assert missing.errors == [f"{tmp_path / 'nope'}: no such file or folder"]
    assert not (tmp_path / "runs").exists()


def test_reserved_and_overlong_names_are_not_metrics_and_are_said_once(tmp_path: Path) -> None:
    write_summaries(tmp_path / "tb", {s: {"loss": 1.0, "time": 5.0, "x" * 513: 1.0} for s in range(3)})
    result = import_logs(tmp_path / "tb", tmp_path / "runs")
    rows = stored_rows(only_run(result))
    assert [set(r) - {"step", "time", "seq"} for r in rows] == [{"loss"}] * 3
    assert all(r["time"] != 5.0 for r in rows)  # the wall time, not the metric called time
    assert sorted(w.split(": ", 1)[1] for w in result.warnings) == [
        "metric 'time' not imported: a reserved key of the store",
        f"metric {'x' * 513!r:.80} not imported: not 1 to 512 characters",
    ]


def run_cli(
    *args: str, python: str = sys.executable, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "lossradar.logs", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_the_command_line_imports_what_it_can_prints_json_and_exits_1_for_a_log_it_cannot_read(tmp_path: Path) -> None:
    write_csv_logger(tmp_path / "logs", [(0, {"train_loss": 1.0})], {})
    bad = tmp_path / "logs" / "broken"
    bad.mkdir()
    (bad / "trainer_state.json").write_text("this is not json\n")

    r = run_cli("import", str(tmp_path / "logs"), "--runs", str(tmp_path / "runs"), "--json")

    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert [run["format"] for run in out["runs"]] == ["lightning"]
    assert out["errors"] == [f"{bad / 'trainer_state.json'}:1:1: Expecting value; no log_history record could be read"]
    assert Path(out["runs"][0]["dir"]).is_dir()
    ok = run_cli("import", str(tmp_path / "logs" / "lightning_logs"), "--runs", str(tmp_path / "runs"))
    assert ok.returncode == 0, ok.stderr
    assert "(lightning, 1 rows, 1 metrics)" in ok.stdout
    assert run_cli("import").returncode == 2


def test_the_sdk_imports_without_tensorboard_and_says_how_to_get_it(tmp_path: Path) -> None:
    """`python -S` has the standard library only: no tensorboard, no PyYAML, no torch."""
    write_summaries(tmp_path / "logs" / "tb", {0: {"loss": 1.0}})
    write_csv_logger(tmp_path / "logs" / "pl", [(0, {"train_loss": 1.0})], {"lr": 0.1})
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import tensorboard"], capture_output=True, env=env, check=False
    )
    assert probe.returncode != 0, "python -S must not see tensorboard for this test to mean anything"

    r = subprocess.run(
        [
            sys.executable,
            "-S",
            "-m",
            "lossradar.logs",
            "import",
            str(tmp_path / "logs"),
            "--runs",
            str(tmp_path / "runs"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert [run["format"] for run in out["runs"]] == ["lightning"]  # the CSV needs nothing else
    [error] = out["errors"]
    needs = "reading TensorBoard event files needs the tensorboard package: pip install tensorboard"
    assert error.startswith(f"{tmp_path / 'logs' / 'tb'}: {needs}")
    no_yaml = "hparams.yaml: config not read: reading YAML needs PyYAML (pip install pyyaml)"
    assert any(no_yaml in w for w in out["warnings"])


def test_non_finite_values_stay_non_finite(tmp_path: Path) -> None:
    write_csv_logger(tmp_path, [(0, {"a": math.nan, "b": math.inf, "c": -math.inf})], {})
    [row] = stored_rows(only_run(import_logs(tmp_path, tmp_path / "runs")))
    assert math.isnan(row["a"]) and row["b"] == math.inf and row["c"] == -math.inf
    raw = (tmp_path / "runs").glob("*/metrics.jsonl").__next__().read_text()
    assert '"a":"NaN","b":"Infinity","c":"-Infinity"' in raw
