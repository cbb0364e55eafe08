"""The script of the end-to-end step "Lower Learning Rate from a notification" (docs/rescue.md): an
MLP whose scheduled learning rate ramps until the loss rises, with the optimizer and scheduler given
to ``run.watch`` so that the editor may lower the rate. It trains on for 60 steps once the rate was
lowered, then finishes."""

import math
import time

import torch
import torch.nn.functional as F

import lossradar

torch.manual_seed(0)
x = torch.randn(2048, 32)
y = (x @ torch.randn(32, 8)).argmax(dim=1)
model = torch.nn.Sequential(torch.nn.Linear(32, 128), torch.nn.ReLU(), torch.nn.Linear(128, 8))
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
steps = 3000
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: math.exp(s * math.log(3e4) / 400))

run = lossradar.init(name="e2e-rescue", config={"steps": steps})
run.watch(model, every=5, optimizer=opt, scheduler=sched, snapshot_every=20)
lowered_at = None
for step in range(steps):
    idx = torch.randint(0, x.shape[0], (128,))
    loss = F.cross_entropy(model(x[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    run.log(step, loss=loss, lr=opt.param_groups[0]["lr"])
    if lowered_at is None and sched.base_lrs[0] < 1e-3 * 0.75:  # the editor lowered it
        lowered_at = step
    if run.should_stop or (lowered_at is not None and step >= lowered_at + 60):
        break
    time.sleep(0.02)
run.finish()
