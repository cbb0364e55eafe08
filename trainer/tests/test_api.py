"""The SDK's API where its peers (wandb, trackio) agree: a dict of slash names beside keywords,
``lossradar.log``/``lossradar.finish`` on the active run, ``update_config`` after ``init``, typed
modes and statuses, and an SDK that imports no framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import lossradar
from lossradar import LossRadarWarning

from .conftest import Hub, use_hub, wait_for


def test_log_takes_a_dict_of_slash_names_keywords_or_both_merged(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="dict")
    assert run.log(0, {"loss/val": 2.0, "accuracy/val": 0.5}) == {"loss/val": 2.0, "accuracy/val": 0.5}
    assert run.log(1, loss=1.0, lr=0.1) == {"loss": 1.0, "lr": 0.1}
    # both: merged, a keyword winning over the same key of the dict
    assert run.log(2, {"loss/val": 1.5, "lr": 9.0}, loss=0.9, lr=0.05) == {"loss/val": 1.5, "lr": 0.05, "loss": 0.9}
    run.finish()
    assert run.run_id is not None
    rows = hub.rows(run.run_id)
    assert [(r["step"], {k: v for k, v in r.items() if k not in ("step", "time", "seq", "source")}) for r in rows] == [
        (0, {"loss/val": 2.0, "accuracy/val": 0.5}),
        (1, {"loss": 1.0, "lr": 0.1}),
        (2, {"loss/val": 1.5, "lr": 0.05, "loss": 0.9}),
    ]


def test_module_level_log_and_finish_act_on_the_active_run(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    first = lossradar.init(name="first")
    second = lossradar.init(name="second")
    assert lossradar.active_run() is second  # the latest init that is not finished
    line = sys._getframe().f_lineno + 1
    lossradar.log(0, {"loss/val": 1.0}, loss=2.0)
    lossradar.finish()
    assert second.finished and second.status == "completed"
    assert lossradar.active_run() is first  # the one before it, still running
    lossradar.log(0, loss=3.0)
    lossradar.finish("stopped")
    assert first.status == "stopped" and lossradar.active_run() is None
    assert first.run_id is not None and second.run_id is not None
    (row,) = hub.rows(second.run_id)
    assert row["loss"] == 2.0 and row["loss/val"] == 1.0
    assert row["source"] == {"file": __file__, "line": line}  # the caller's line, not the SDK's
    assert [r["loss"] for r in hub.rows(first.run_id)] == [3.0]
    assert hub.wait_status(first.run_id, "stopped")["status"] == "stopped"


def test_without_an_active_run_log_and_finish_warn_and_do_nothing() -> None:
    assert lossradar.active_run() is None
    with pytest.warns(LossRadarWarning, match=r"lossradar.log: there is no active run") as caught:
        assert lossradar.log(0, loss=1.0) == {}
    assert caught[0].filename == __file__  # the warning points at the caller
    with pytest.warns(LossRadarWarning, match=r"lossradar.finish: there is no active run"):
        lossradar.finish()


def test_a_disabled_run_is_active_and_takes_rows_silently(recwarn: pytest.WarningsRecorder) -> None:
    run = lossradar.init(mode="disabled")
    assert lossradar.active_run() is run and lossradar.log(0, loss=1.0) == {}
    lossradar.finish()
    assert not [w for w in recwarn if issubclass(w.category, LossRadarWarning)]


def test_modes_statuses_and_levels_are_literal_types() -> None:
    assert get_args(lossradar.Mode) == ("auto", "local", "disabled")
    assert get_args(lossradar.RunMode) == ("hub", "local", "disabled")
    assert get_args(lossradar.EndStatus) == ("completed", "failed", "stopped")
    assert get_args(lossradar.EventLevel) == ("info", "warning", "error")
    with pytest.raises(ValueError, match="mode must be 'auto', 'local' or 'disabled'"):
        lossradar.init(mode="offline")  # type: ignore[arg-type]


def test_update_config_rewrites_a_local_runs_meta(tmp_path: Path) -> None:
    run = lossradar.init(name="local", config={"lr": 0.1}, mode="local", dir=tmp_path)
    run.update_config({"batch": 32}, lr=0.2)
    assert run.config == {"lr": 0.2, "batch": 32}
    assert run.local_dir is not None
    assert json.loads((run.local_dir / "meta.json").read_text())["config"] == {"lr": 0.2, "batch": 32}
    run.finish()
    meta = json.loads((run.local_dir / "meta.json").read_text())
    assert meta["config"] == {"lr": 0.2, "batch": 32} and meta["status"] == "completed"


def test_a_lazy_run_connects_with_its_first_row_and_its_config_travels_in_the_hello(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="lazy", config={"lr": 0.1}, lazy=True)
    run.update_config({"epochs": 3, "nan": float("nan")})
    assert hub.run_dirs() == []  # nothing reached the hub yet
    run.log(0, loss=1.0)
    run.finish()
    assert run.run_id is not None
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["config"] == {"lr": 0.1, "epochs": 3, "nan": "NaN"}
    events = hub.runs / run.run_id / "events.jsonl"
    assert not events.exists() or not events.read_text().strip()  # no "config:" event


def test_a_lazy_run_that_logged_nothing_is_still_recorded_at_finish(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="empty", lazy=True)
    run.finish("failed", "setup crashed")
    assert run.run_id is not None
    meta = hub.wait_status(run.run_id, "failed")
    assert meta["error"] == "setup crashed" and not (hub.runs / run.run_id / "metrics.jsonl").exists()


def test_update_config_after_the_hello_is_an_event(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="late", config={"lr": 0.1})
    run.log(0, loss=1.0)
    assert run.run_id is not None
    metrics = hub.runs / run.run_id / "metrics.jsonl"
    assert wait_for(lambda: metrics.exists() and metrics.read_text().strip())  # the hello has gone
    run.update_config(warmup=100)
    run.finish()
    assert run.config == {"lr": 0.1, "warmup": 100}
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["config"] == {"lr": 0.1}  # the hub keeps the hello's configuration (protocol v1)
    (event,) = [json.loads(x) for x in (hub.runs / run.run_id / "events.jsonl").read_text().splitlines()]
    assert event["level"] == "info" and event["message"] == 'config: {"warmup":100}' and event["step"] == 0


def test_importing_the_sdk_and_its_integrations_package_imports_no_framework() -> None:
    probe = (
        "import sys, lossradar, lossradar.integrations\n"
        "heavy = {'torch', 'transformers', 'lightning', 'pytorch_lightning', 'accelerate', 'lossradar_trainer'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_sdk_warning_points_at_the_users_line_whatever_the_depth(tmp_path: Path) -> None:
    import torch

    run = lossradar.init(mode="local", dir=str(tmp_path))
    with pytest.warns(LossRadarWarning, match="reserved key") as direct:
        run.log(0, {"step": 1.0})
    with pytest.warns(LossRadarWarning, match="not a number") as module_level:
        lossradar.log(1, loss="high")
    first = torch.nn.Linear(4, 4)
    first.weight._fsdp_flattened = True  # type: ignore[attr-defined]  # as FSDP marks what it shards
    model = torch.nn.Sequential(first, torch.nn.Linear(4, 2))
    with pytest.warns(LossRadarWarning, match="sharded layer") as from_watch:
        run.watch(model)
    lossradar.finish()
    for caught in (direct, module_level, from_watch):
        assert {w.filename for w in caught if issubclass(w.category, LossRadarWarning)} == {__file__}
