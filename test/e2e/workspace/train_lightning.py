"""A Lightning script as its users write it, naming its metrics the Lightning way (train_loss, and
LearningRateMonitor's lr-SGD): an MLP whose learning rate ramps past the edge of stability, so the
loss falls, then blows up. Loss Radar is one logger and one callback."""

import math

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import LearningRateMonitor

from lossradar.integrations.lightning import LossRadarCallback, LossRadarLogger

STEPS = 300


class Classifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.save_hyperparameters({"steps": STEPS})
        self.net = torch.nn.Sequential(torch.nn.Linear(32, 128), torch.nn.ReLU(), torch.nn.Linear(128, 8))

    def training_step(self, batch, _index):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=1e-3, momentum=0.9)
        ramp = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: math.exp(step * math.log(3e4) / STEPS))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": ramp, "interval": "step"}}


torch.manual_seed(0)
x = torch.randn(4096, 32)
y = (x @ torch.randn(32, 8)).argmax(dim=1)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128, shuffle=True)
trainer = L.Trainer(
    max_steps=STEPS,
    logger=LossRadarLogger(name="e2e-lightning"),
    callbacks=[LossRadarCallback(), LearningRateMonitor(logging_interval="step")],
    log_every_n_steps=1,
    enable_progress_bar=False,
    enable_checkpointing=False,
    accelerator="cpu",
)
trainer.fit(Classifier(), loader)
