"""A small training script as a user would write it: an MLP on synthetic data whose learning rate
ramps past the edge of stability, so the loss falls, then blows up. Loss Radar needs three lines."""

import math
import time

import torch
import torch.nn.functional as F

import lossradar

torch.manual_seed(0)
x = torch.randn(2048, 32)
w_true = torch.randn(32, 8)
y = (x @ w_true).argmax(dim=1)
model = torch.nn.Sequential(torch.nn.Linear(32, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 8))
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
steps = 400

run = lossradar.init(name="e2e-train", config={"steps": steps})
run.watch(model, every=5)
for step in range(steps):
    lr = 1e-3 * math.exp(step * math.log(3e4) / steps)  # 1e-3 → 30: the loss falls, then explodes
    for group in opt.param_groups:
        group["lr"] = lr
    idx = torch.randint(0, x.shape[0], (128,))
    logits = model(x[idx])
    loss = F.cross_entropy(logits, y[idx])
    opt.zero_grad()
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
    opt.step()
    run.log(step, loss=loss, lr=lr, grad_norm=grad_norm)
    if step % 5 == 0:
        run.log_predictions(step, logits, y[idx])
    if run.should_stop:
        break
    time.sleep(0.02)
run.finish()  # as most scripts do: Loss Radar knows when the run was stopped from the editor
