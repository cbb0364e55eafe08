"""``LossRadarLogger`` and ``LossRadarCallback`` in a real ``lightning.pytorch.Trainer`` on the CPU: a
two-layer regression model on 64 random points, streaming to the real hub."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lossradar.integrations.lightning import LossRadarCallback, LossRadarLogger

from .conftest import Hub, use_hub


class Regression(L.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 8, explode_at: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        if self.global_step == self.hparams["explode_at"]:
            raise FloatingPointError("the loss became NaN")
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("loss/val", F.mse_loss(self.net(x), y))

    def test_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("loss/test", F.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams["lr"])


def points(n: int = 64) -> DataLoader[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)


def trainer(tmp_path: Path, logger: Any, **options: Any) -> L.Trainer:
    defaults: dict[str, Any] = {
        "max_epochs": 2,
        "log_every_n_steps": 1,
        "accelerator": "cpu",
        "devices": 1,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(tmp_path),
    }
    return L.Trainer(logger=logger, callbacks=[LossRadarCallback()], **{**defaults, **options})


def test_fit_then_test_is_one_run_with_the_hyperparameters_as_its_config(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub(monkeypatch, hub)
    logger = LossRadarLogger(name="pl-tiny", config={"data": "random points"})
    t = trainer(tmp_path, logger)
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    t.fit(Regression(), points(), points(16))
    t.test(Regression(), points(16))  # after fit: the same run, resumed

    run_id = logger.version
    assert run_id is not None and len(hub.run_dirs()) == 1 and logger.experiment.run_id == run_id
    meta = hub.wait_status(run_id, "completed")
    assert meta["name"] == "pl-tiny"
    # save_hyperparameters() reaches meta.json although Lightning logs it after creating the run
    assert meta["config"] == {"data": "random points", "lr": 0.05, "hidden": 8, "explode_at": -1}
    rows = hub.rows(run_id)
    train = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train] == list(range(16)) and all("epoch" in r for r in train)
    # grad_norm/applied on every training row: the step hook measures after the closure in which
    # Lightning runs the forward and backward (a pre-hook would see the batch before's gradients)
    assert all(r["grad_norm/applied"] > 0 for r in train)
    assert [r["step"] for r in rows if "loss/val" in r] == [7, 15]
    assert [r["step"] for r in rows if "loss/test" in r] == [16]
    assert {"sa/net.0/sign_diversity", "sa/net.2/sign_diversity", "sa/min_sign_diversity"} <= set().union(*rows)
    assert {(r["source"]["file"], r["source"]["line"]) for r in train} == {(os.path.abspath(__file__), line)}


def test_a_prefix_joins_with_the_slash(hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_hub(monkeypatch, hub)
    logger = LossRadarLogger(prefix="fold0")
    trainer(tmp_path, logger, max_epochs=1).fit(Regression(), points())
    assert logger.version is not None
    names = set().union(*hub.rows(logger.version)) - {"step", "time", "seq", "source"}
    # the SDK's own metrics (spectral alignment, the applied gradient norm) keep their names
    assert {"fold0/loss", "fold0/epoch"} <= names
    assert all(n.startswith(("fold0/", "sa/")) or n == "grad_norm/applied" for n in names)


def test_stop_run_in_the_editor_stops_the_fit_and_ends_the_run_stopped(stopping_hub: Any, tmp_path: Path) -> None:
    hub = stopping_hub(stop_at=3)
    logger = LossRadarLogger(name="pl-stop")
    t = trainer(tmp_path, logger, max_epochs=1000)
    t.fit(Regression(), points())
    assert 3 <= t.global_step < 8000
    assert logger.version is not None
    hub.wait_status(logger.version, "stopped")


def test_a_failed_fit_ends_the_run_failed_with_its_error(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub(monkeypatch, hub)
    logger = LossRadarLogger(name="pl-crash")
    with pytest.raises(FloatingPointError):
        trainer(tmp_path, logger).fit(Regression(explode_at=5), points())
    assert logger.version is not None
    meta = hub.wait_status(logger.version, "failed")
    assert meta["error"] == "FloatingPointError: the loss became NaN"
    assert [r["step"] for r in hub.rows(logger.version) if "loss" in r] == [0, 1, 2, 3, 4]


def test_a_pytorch_lightning_trainer_takes_the_same_logger_and_callback(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pytorch_lightning as PL

    class Model(PL.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
            loss = F.mse_loss(self.net(batch[0]), batch[1])
            self.log("loss", loss)
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.05)

    use_hub(monkeypatch, hub)
    logger = LossRadarLogger(name="ptl")
    PL.Trainer(
        logger=logger,  # type: ignore[arg-type]
        callbacks=[LossRadarCallback()],  # type: ignore[list-item]
        max_epochs=1,
        log_every_n_steps=1,
        accelerator="cpu",
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    ).fit(Model(), points())
    assert logger.version is not None
    hub.wait_status(logger.version, "completed")
    rows = hub.rows(logger.version)
    assert [r["step"] for r in rows if "loss" in r] == list(range(8))
    assert any("sa/net/sign_diversity" in r for r in rows)
