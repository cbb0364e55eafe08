"""Run by test_watch.py under `torchrun --standalone --nproc_per_node 2`: DDP on CPU with gloo,
gradient accumulation with no_sync, run.watch and run.log_predictions on every rank."""

from __future__ import annotations

import contextlib
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import lossradar


def train(per_rank: bool) -> None:
    torch.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    name = "ddp-per-rank" if per_rank else "ddp-shared"
    with lossradar.init(name=name, per_rank=per_rank) as run:
        watcher = run.watch(model, every=2)
        rank = dist.get_rank()
        assert (watcher is None) == (rank != 0 and not per_rank)
        g = torch.Generator().manual_seed(rank)
        for step in range(4):
            for micro in range(2):
                x, y = torch.randn(16, 8, generator=g), torch.randint(4, (16,), generator=g)
                sync = model.no_sync() if micro == 0 else contextlib.nullcontext()
                with sync:
                    logits = model(x)
                    loss = nn.functional.cross_entropy(logits, y)
                    (loss / 2).backward()
            opt.step()
            opt.zero_grad()
            run.log_predictions(step, logits, y, loss=loss.detach())
    dist.barrier()


def main() -> None:
    dist.init_process_group("gloo")
    train(per_rank=False)
    train(per_rank=True)
    dist.destroy_process_group()
    print(f"rank {dist.get_rank() if dist.is_initialized() else '-'} done", file=sys.stderr)


if __name__ == "__main__":
    main()
