"""``LossRadarCallback`` in a real ``transformers.Trainer`` on the CPU: a one-layer GPT-2 built from a
local config (nothing downloaded), trained a few steps on random tokens, streaming to the real hub."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

import lossradar
from lossradar.integrations.transformers import LossRadarCallback, metric_name

from .conftest import REPO, Hub, use_hub

VOCAB, BLOCK = 64, 16


class Tokens(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, n: int, seed: int = 0) -> None:
        self.ids = torch.randint(VOCAB, (n, BLOCK), generator=torch.Generator().manual_seed(seed))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def tiny_gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_positions=BLOCK, n_embd=16, n_layer=1, n_head=2))


def training_args(tmp_path: Path, **overrides: Any) -> TrainingArguments:
    options: dict[str, Any] = {
        "output_dir": str(tmp_path / "hf-out"),
        "max_steps": 6,
        "per_device_train_batch_size": 4,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "eval_strategy": "steps",
        "eval_steps": 3,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": True,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        **overrides,
    }
    return TrainingArguments(**options)


def test_a_training_job_is_one_run_with_loss_lr_grad_norm_and_validation(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub(monkeypatch, hub)
    callback = LossRadarCallback(config={"dataset": "random tokens", "wandb_api_key": "do-not-send"})
    trainer = Trainer(
        model=tiny_gpt2(),
        args=training_args(tmp_path, run_name="hf-tiny"),
        train_dataset=Tokens(32),
        eval_dataset=Tokens(8, seed=1),
        callbacks=[callback],
    )
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    trainer.train()
    trainer.evaluate()  # after train(): the same run, resumed for one row and ended as it was

    run = callback.run
    assert run is not None and run.run_id is not None and run.finished and len(hub.run_dirs()) == 1
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["name"] == "hf-tiny"
    config = meta["config"]
    assert config["learning_rate"] == 1e-3 and config["max_steps"] == 6 and config["dataset"] == "random tokens"
    assert config["model"]["n_layer"] == 1 and config["model"]["n_embd"] == 16
    assert config["wandb_api_key"] == "<redacted>" and "do-not-send" not in json.dumps(meta)

    rows = hub.rows(run.run_id)
    train = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5, 6]
    assert all({"lr", "grad_norm", "epoch"} <= set(r) for r in train)
    # the norm the optimizer applied, measured inside accelerate's optimizer wrapper: HF's grad_norm
    # is the norm before its clip to max_grad_norm
    for r in train:
        clip = trainer.args.max_grad_norm
        assert r["grad_norm/applied"] == pytest.approx(min(r["grad_norm"], clip), rel=1e-3), r
    assert train[0]["lr"] == pytest.approx(1e-3, rel=0.2)  # linear decay from 1e-3
    validation = [r for r in rows if "loss/val" in r]
    assert [r["step"] for r in validation] == [3, 6, 6]  # eval_steps=3, and the evaluate() after train()
    assert {"eval/runtime", "eval/samples_per_second", "eval/steps_per_second"} <= set(validation[0])
    names = set().union(*rows)
    assert not {n for n in names if n.startswith("eval_") or n in ("learning_rate", "train_runtime", "train_loss")}
    # GPT-2's projections are Conv1D; its lm_head is the nn.Linear that spectral alignment watches
    assert {"sa/lm_head/sign_diversity", "sa/min_sign_diversity"} <= names
    # alerts belong on the user's line that started training, not inside transformers
    assert {(r["source"]["file"], r["source"]["line"]) for r in train} == {(os.path.abspath(__file__), line)}
    events = (hub.runs / run.run_id / "events.jsonl").read_text()
    assert "training summary: train_runtime=" in events and "train_loss=" in events


def test_stop_run_in_the_editor_stops_training_and_ends_the_run_stopped(stopping_hub: Any, tmp_path: Path) -> None:
    hub = stopping_hub(stop_at=3)
    callback = LossRadarCallback()
    trainer = Trainer(
        model=tiny_gpt2(),
        args=training_args(tmp_path, max_steps=5000, eval_strategy="no"),
        train_dataset=Tokens(64),
        callbacks=[callback],
    )
    trainer.train()
    assert 3 <= trainer.state.global_step < 5000
    assert callback.run is not None and callback.run.run_id is not None
    meta = hub.wait_status(callback.run.run_id, "stopped")
    assert meta["name"] == "hf-out"  # no run_name: the output folder's name


def test_an_existing_run_is_logged_to_and_left_for_its_owner_to_finish(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="mine", config={"owner": "me"})
    trainer = Trainer(
        model=tiny_gpt2(),
        args=training_args(tmp_path, max_steps=2, eval_strategy="no"),
        train_dataset=Tokens(8),
        callbacks=[LossRadarCallback(run=run, watch=False)],
    )
    trainer.train()
    assert not run.finished
    run.log(3, {"loss/test": 1.5})
    run.finish()
    assert run.run_id is not None
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["config"] == {"owner": "me"}
    rows = hub.rows(run.run_id)
    assert [r["step"] for r in rows if "loss" in r] == [1, 2] and rows[-1]["loss/test"] == 1.5
    assert not any(k.startswith("sa/") for r in rows for k in r)


def test_a_crash_in_training_ends_the_run_failed_through_the_excepthook(hub: Hub, tmp_path: Path) -> None:
    # transformers has no callback event for an exception: the script dies, the SDK's excepthook
    # records why and its at-exit finish ends the run failed.
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(REPO / "trainer")!r})
            from tests.test_integration_transformers import Tokens, tiny_gpt2, training_args
            from pathlib import Path
            from transformers import Trainer
            from lossradar.integrations.transformers import LossRadarCallback

            class Exploding(Tokens):
                fetched = 0

                def __getitem__(self, i):
                    Exploding.fetched += 1
                    if Exploding.fetched > 8:  # the first item of the third batch of 4
                        raise RuntimeError("batch 3 is corrupt")
                    return super().__getitem__(i)

            args = training_args(Path({str(tmp_path)!r}), eval_strategy="no")
            callbacks = [LossRadarCallback()]
            trainer = Trainer(model=tiny_gpt2(), args=args, train_dataset=Exploding(32), callbacks=callbacks)
            trainer.train()
            """
        )
    )
    assert hub.token is not None
    env = {**os.environ, "LOSSRADAR_URL": hub.url, "LOSSRADAR_TOKEN": hub.token}
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 1 and "batch 3 is corrupt" in proc.stderr
    (run_dir,) = hub.run_dirs()
    meta = hub.wait_status(run_dir.name, "failed")
    assert meta["error"] == "RuntimeError: batch 3 is corrupt"
    # the rows before the crash are kept (accelerate's loader reads a batch ahead: step 2 may not run)
    assert [r["step"] for r in hub.rows(run_dir.name) if "loss" in r][:1] == [1]


def test_metric_names_follow_the_loss_radar_convention() -> None:
    assert [metric_name(k) for k in ("loss", "learning_rate", "grad_norm", "eval_loss")] == [
        "loss",
        "lr",
        "grad_norm",
        "loss/val",
    ]
    assert metric_name("eval_accuracy") == "accuracy/val" and metric_name("eval_runtime") == "eval/runtime"
    assert metric_name("eval_samples_per_second") == "eval/samples_per_second"
    assert metric_name("epoch") == "epoch" and metric_name("num_input_tokens_seen") == "num_input_tokens_seen"
