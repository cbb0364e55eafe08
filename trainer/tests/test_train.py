"""The reference trainer (``lossradar_trainer``, beside the SDK): experiment files and their schema,
schedules, and short real runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from lossradar import LossRadarWarning
from lossradar_trainer import experiment, train
from lossradar_trainer.experiment import ExperimentError

from .conftest import Hub
from .test_client import FakeHub, fake_hub_factory  # noqa: F401 - the fixture is used below

TINY_LM = [
    "d_model=32",
    "n_layer=1",
    "n_head=2",
    "block_size=16",
    "batch_size=4",
    "data_chars=20000",
    "val_batches=1",
    "val_every=2",
    "pred_every=2",
    "sa_every=2",
]


def test_every_shipped_experiment_fits_the_schema() -> None:
    names = experiment.available()
    assert {"noisy-labels", "lm-healthy", "lm-diverge", "lm-ramp"} <= set(names)
    schema = experiment.load_schema()
    for name in names:
        doc = json.loads((experiment.EXPERIMENTS_DIR / f"{name}.json").read_text())
        assert experiment.validate(doc, schema) == [], name
        exp = experiment.load(name)
        assert exp.name == name and exp.task in ("lm", "noisy-labels")
    assert experiment.load("lm-diverge").expect == "diverge"
    assert experiment.load("lm-diverge").config["layernorm"] == "none"


def test_the_demo_experiment_is_the_ramp_the_detectors_are_pinned_on() -> None:
    # scripts/demo.sh runs lm-ramp; test/integration/detectFixtures.test.ts pins the early warning on
    # the lm-ramp-preln fixtures, made as lm-healthy with these overrides (test/fixtures/runs/labels.json).
    ramp, healthy = experiment.load("lm-ramp").config, experiment.load("lm-healthy").config
    overrides = {"steps": 260, "schedule": "exp-ramp", "lr": 1e-3, "lr_end": 1.0, "warmup_steps": 0, "grad_clip": 0.0}
    assert {k: v for k, v in ramp.items() if k != "min_lr_ratio"} == {
        k: v for k, v in {**healthy, **overrides}.items() if k != "min_lr_ratio"
    }


def test_clear_errors() -> None:
    with pytest.raises(ExperimentError, match=r"no experiment 'nope'; available: .*lm-diverge"):
        experiment.load("nope")
    with pytest.raises(ExperimentError, match=r"--set layrnorm: unknown option \(did you mean 'layernorm'\?\)"):
        experiment.load("lm-healthy", ["layrnorm=none"])
    with pytest.raises(ExperimentError, match=r'config.layernorm: "sandwich" is not one of "pre", "post", "none"'):
        experiment.load("lm-healthy", ["layernorm=sandwich"])
    with pytest.raises(ExperimentError, match=r"config.lr: expected number, got string"):
        experiment.load("lm-healthy", ["lr=fast"])
    with pytest.raises(ExperimentError, match=r"config.steps: 0 is below the minimum 1"):
        experiment.load("lm-healthy", ["steps=0"])
    with pytest.raises(ExperimentError, match=r"config.lr: 0 must be greater than 0"):
        experiment.load("lm-healthy", ["lr=0"])
    with pytest.raises(ExperimentError, match="does not divide d_model"):
        experiment.load("lm-healthy", ["n_head=3"])
    with pytest.raises(ExperimentError, match="expected key=value"):
        experiment.load("lm-healthy", ["lr"])


def test_broken_experiment_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "Bad Name", "task": "vision", "config": {"lrr": 1}}))
    with pytest.raises(ExperimentError) as info:
        experiment.load(str(bad))
    text = str(info.value)
    assert 'name: "Bad Name" does not match' in text
    assert 'task: "vision" is not one of "lm", "noisy-labels"' in text
    assert 'config.lrr: unknown key (did you mean "lr"?)' in text
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ExperimentError, match="not valid JSON"):
        experiment.load(str(tmp_path / "broken.json"))


def test_overrides_are_typed() -> None:
    exp = experiment.load(
        "lm-healthy", ["lr=1e-2", "qk_layernorm=true", "layernorm=none", "steps=12.0"], seed=7, steps=None
    )
    assert exp.config["lr"] == 0.01 and exp.config["qk_layernorm"] is True and exp.config["layernorm"] == "none"
    assert exp.config["steps"] == 12 and isinstance(exp.config["steps"], int) and exp.config["seed"] == 7
    assert "loss" not in exp.task_config and "layernorm" in exp.task_config
    assert experiment.parse_override("schedule=exp-ramp") == ("schedule", "exp-ramp")


def test_lr_schedules() -> None:
    base = experiment.load("lm-healthy").config
    cfg = {**base, "steps": 101, "lr": 1e-4, "warmup_steps": 0, "schedule": "exp-ramp", "lr_end": 1.0}
    assert train.lr_at(0, cfg) == pytest.approx(1e-4) and train.lr_at(100, cfg) == pytest.approx(1.0)
    assert train.lr_at(50, cfg) == pytest.approx(1e-2)
    cfg = {**base, "steps": 100, "lr": 1.0, "warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1}
    assert train.lr_at(0, cfg) == pytest.approx(0.1) and train.lr_at(9, cfg) == pytest.approx(1.0)
    assert train.lr_at(99, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 89 / 90)))
    cfg = {**base, "lr": 1e-3, "warmup_steps": 0, "schedule": "jump", "jump_step": 5, "jump_factor": 10.0}
    assert [train.lr_at(s, cfg) for s in (4, 5)] == pytest.approx([1e-3, 1e-2])
    cfg = {**base, "lr": 1e-2, "warmup_steps": 150, "schedule": "constant"}
    assert train.lr_at(74, cfg) == pytest.approx(5e-3) and train.lr_at(200, cfg) == pytest.approx(1e-2)


def test_lm_run_against_the_hub(hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert hub.token is not None
    monkeypatch.setenv("LOSSRADAR_URL", hub.url)
    monkeypatch.setenv("LOSSRADAR_TOKEN", hub.token)
    args = ["--experiment", "lm-healthy", "--steps", "6", "--device", "cpu", "--name", "smoke"]
    for item in [*TINY_LM, "dtype=bfloat16", "accumulate=2", "layernorm=none", "qk_layernorm=true", "z_loss=1e-4"]:
        args += ["--set", item]
    assert train.main(args) == 0
    (run_dir,) = hub.run_dirs()
    meta = hub.wait_status(run_dir.name, "completed")
    assert meta["name"] == "smoke" and meta["config"]["dtype"] == "bfloat16" and "noise" not in meta["config"]
    rows = hub.rows(run_dir.name)
    keys = set().union(*rows)
    for key in (
        "loss",
        "lr",
        "grad_norm",
        "time/step_ms",
        "loss/val",
        "calibration/ece",
        "calibration/mce",
        "entropy/mean",
        "entropy/normalized",
        "accuracy",
        "sa/min_sign_diversity",
        "sa/collapsed_fraction",
        "sa/blocks.0.attn.q/sign_diversity",
        "sa/blocks.0.mlp.fc2/mean_abs",
        "sa/head/sign_diversity",
    ):
        assert key in keys, key
    assert rows[0]["source"]["file"].endswith("lossradar_trainer/train.py")
    out = capsys.readouterr().out
    assert "completed: 6 steps" in out


@pytest.mark.parametrize(
    "loss", ["ce", "mae", "gce", "sce", "rce", "nce", "nce+rce", "focal", "unhinged", "sgce", "alpha-mae"]
)
def test_noisy_labels_with_every_loss(loss: str, tmp_path: Path) -> None:
    args = [
        "-e",
        "noisy-labels",
        "--steps",
        "4",
        "--device",
        "cpu",
        "--set",
        f"loss={loss}",
        "--set",
        "n_train=256",
        "--set",
        "n_val=64",
        "--set",
        "hidden=16",
        "--set",
        "batch_size=32",
        "--set",
        "noise=asymmetric",
        "--set",
        "val_every=2",
    ]
    with pytest.warns(LossRadarWarning, match="no Loss Radar hub found"):  # the local store and its warning
        assert train.main(args) == 0
    (run_dir,) = (Path.cwd() / ".lossradar" / "runs").iterdir()
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(math.isfinite(r["loss"]) for r in rows if "loss" in r)
    assert any("accuracy/val" in r for r in rows) and any("calibration/ece" in r for r in rows)
    assert json.loads((run_dir / "meta.json").read_text())["status"] == "completed"


def test_stop_from_the_editor_ends_the_run_stopped(fake_hub_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import time

    def script(fake: FakeHub, ws: Any, hello: dict[str, Any]) -> None:
        while not any(r["step"] >= 2 for r in fake.rows()):
            time.sleep(0.01)
        ws.send(json.dumps({"type": "command", "command": "stop"}))

    fake = fake_hub_factory(script)
    monkeypatch.setenv("LOSSRADAR_URL", fake.url)
    monkeypatch.setenv("LOSSRADAR_TOKEN", "t")
    args = ["-e", "lm-healthy", "--steps", "2000", "--device", "cpu"]
    for item in TINY_LM:
        args += ["--set", item]
    assert train.main(args) == 0
    assert fake.end() == {"type": "end", "status": "stopped", "error": None}
    assert max(r["step"] for r in fake.rows()) < 1000


def test_non_finite_loss_halts_with_status_failed(tmp_path: Path) -> None:
    args = [
        "-e",
        "lm-diverge",
        "--steps",
        "40",
        "--device",
        "cpu",
        "--set",
        "optimizer=sgd",
        "--set",
        "lr=1e6",
        "--set",
        "warmup_steps=0",
        "--set",
        "halt_nonfinite=3",
    ]
    for item in TINY_LM:
        args += ["--set", item]
    with pytest.warns(LossRadarWarning, match="no Loss Radar hub found"):
        assert train.main(args) == 1
    (run_dir,) = (Path.cwd() / ".lossradar" / "runs").iterdir()
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "failed" and "non-finite" in meta["error"]
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows if "loss" in r][-3:] == ["NaN"] * 3 or all(
        r["loss"] in ("NaN", "Infinity") for r in rows[-3:] if "loss" in r
    )
    events = (run_dir / "events.jsonl").read_text()
    assert "training diverged" in events


def test_list_and_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--list"]) == 0
    assert "lm-diverge" in capsys.readouterr().out
    assert train.main(["-e", "noisy-labels", "--print-config", "--set", "loss=sce"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["config"]["loss"] == "sce" and "layernorm" not in printed["config"]
    assert train.main(["-e", "noisy-labels", "--set", "loss=hinge"]) == 2
