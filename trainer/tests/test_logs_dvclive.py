"""DVCLive output as runs: one .tsv per metric, nested names joined with "/", timestamps, params."""

from __future__ import annotations

import math
import time
from pathlib import Path

from lossradar.logs import import_logs

from .test_logs_import import only_run, stored_meta, stored_rows


def write_live(folder: Path, steps: int = 4) -> Path:
    from dvclive.live import Live

    with Live(str(folder), save_dvc_exp=False) as live:
        live.log_params({"lr": 0.1, "model": {"layers": 2}})
        for step in range(steps):
            live.log_metric("train/loss", 2.0 / (step + 1))
            live.log_metric("eval/nested/acc", math.nan if step == 2 else 0.5 + step / 10, timestamp=True)
            live.next_step()
    return folder


def test_each_metric_file_is_a_metric_named_by_its_path_and_params_are_the_config(tmp_path: Path) -> None:
    before = time.time()
    live = write_live(tmp_path / "project" / "dvclive")
    after = time.time()
    assert (live / "plots" / "metrics" / "eval" / "nested" / "acc.tsv").is_file()  # the real layout

    run_dir = only_run(import_logs(tmp_path / "project", tmp_path / "runs"))

    rows = stored_rows(run_dir)
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert [r["train/loss"] for r in rows] == [2.0, 1.0, 2.0 / 3, 0.5]
    assert [r["eval/nested/acc"] for r in rows if r["step"] != 2] == [0.5, 0.6, 0.8]
    assert math.isnan(rows[2]["eval/nested/acc"])
    # The timestamps (milliseconds) of the metric logged with timestamp=True are the rows' times.
    assert all(before - 0.001 <= r["time"] <= after + 0.001 for r in rows)
    meta = stored_meta(run_dir)
    assert meta["name"] == "project"
    assert before - 0.001 <= meta["createdAt"] <= after + 0.001
    assert meta["config"] == {
        "lr": 0.1,
        "model": {"layers": 2},
        "imported_from": {"format": "dvclive", "path": str(live.resolve())},
    }


def test_a_bad_line_of_a_metric_file_is_skipped_with_its_line(tmp_path: Path) -> None:
    live = write_live(tmp_path / "dvclive")
    tsv = live / "plots" / "metrics" / "train" / "loss.tsv"
    lines = tsv.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("1.0", "n/a")  # line 3: step 1
    tsv.write_text("".join(lines))

    result = import_logs(live, tmp_path / "runs")

    rows = stored_rows(only_run(result))
    assert [("train/loss" in r) for r in rows] == [True, False, True, True]
    assert result.warnings == [f"{tsv}:3: loss: 'n/a' is not a number; row skipped"]


def test_one_metric_file_imports_on_its_own_under_its_nested_name(tmp_path: Path) -> None:
    live = write_live(tmp_path / "dvclive")
    result = import_logs(live / "plots" / "metrics" / "eval" / "nested" / "acc.tsv", tmp_path / "runs")
    rows = stored_rows(only_run(result))
    assert {k for r in rows for k in r} == {"step", "time", "seq", "eval/nested/acc"}
