"""Run by test_sharded.py under `torchrun --standalone --nproc_per_node 2`: FSDP2 (`fully_shard`) on
CPU with gloo, `run.watch(model, optimizer=opt)` as the integrations call it, on rank 0's run only.
Every hook of the SDK runs on rank 0 alone, so none may enter a collective (lossradar/sharding.py)."""

from __future__ import annotations

import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard

import lossradar


def main() -> None:
    dist.init_process_group("gloo")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
    for layer in model:
        if isinstance(layer, nn.Linear):
            fully_shard(layer)
    fully_shard(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(dist.get_rank())
    commands: list[str] = []
    with lossradar.init(name="fsdp", rescue="auto") as run:
        run.watch(model, every=2, optimizer=opt)  # snapshots "auto", as by default
        run.on_command(commands.append)  # rank 1's run is disabled: nothing arrives there
        step = 0
        # Until the hub's rescue has reached rank 0 (at least 12 steps, at most 2 000): every rank
        # steps alike (FSDP's collectives), so rank 0 says when it has one.
        while step < 2000:
            x, y = torch.randn(16, 8, generator=g), torch.randint(4, (16,), generator=g)
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            run.log(step, {"loss": loss.item()})
            step += 1
            done = torch.tensor([float("rescue" in commands)])
            dist.broadcast(done, 0)
            if done.item() and step >= 12:
                break
            time.sleep(0.02)
    print(f"rank {dist.get_rank()}: {step} steps", file=sys.stderr)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
