"""What Roll Back's snapshots cost the training loop (docs/rescue.md): the same model trained with
``run.watch(model, optimizer=opt, snapshot_to="off")`` and with snapshots on the CPU every
``--every`` steps, in one process, as a ratio of the step times, plus the cost of one snapshot.

    python bench/rescue_overhead.py [--width 512 2048] [--every 10 100] [--steps 300] [--rounds 3]

An MLP (``--width`` wide, 3 layers) with AdamW on the CPU, one thread, logging the loss every step
to a local run (no hub: the snapshot is the SDK's own work). Each round trains both arms,
alternating which goes first; the figure is the median over rounds of the per-round ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lossradar
from lossradar.snapshots import Snapshots, SnapshotTo, state_bytes


def arm(width: int, steps: int, every: int | None, root: str) -> float:
    """Seconds per step of one training, snapshots every ``every`` steps (None: off)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, width), torch.randint(10, (64,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = lossradar.init(name="bench-rescue", mode="local", dir=root)
    to: SnapshotTo = "off" if every is None else "cpu"
    run.watch(model, every=10**9, optimizer=opt, snapshot_every=every or 1, snapshot_to=to)
    t0 = 0.0
    for step in range(steps):
        if step == 10:
            t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        run.log(step, loss=loss)
    per_step = (time.perf_counter() - t0) / (steps - 10)
    run.finish()
    return per_step


def snapshot_ms(width: int) -> tuple[float, int]:
    model = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, width)).sum().backward()
    opt.step()
    snaps = Snapshots(model, opt, every=1, to="cpu", keep=3, folder=None)
    times = []
    for s in range(20):
        t = time.perf_counter()
        snaps.take(s)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, state_bytes(model, opt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--every", type=int, nargs="+", default=[10, 100])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        for width in args.width:
            ms, size = snapshot_ms(width)
            for every in args.every:
                ratios, extra = [], []
                for r in range(args.rounds):
                    order = [None, every] if r % 2 == 0 else [every, None]
                    t = {e: arm(width, args.steps, e, root) for e in order}
                    ratios.append(t[every] / t[None])
                    extra.append((t[every] - t[None]) * 1e6)
                print(
                    json.dumps(
                        {
                            "width": width,
                            "state_mb": round(size / 2**20, 1),
                            "snapshot_every": every,
                            "snapshot_ms": round(ms, 2),
                            "step_time_ratio": round(statistics.median(ratios), 3),
                            "extra_us_per_step": round(statistics.median(extra), 1),
                        }
                    ),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
