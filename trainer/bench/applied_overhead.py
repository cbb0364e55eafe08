"""Cost of ``grad_norm/applied`` (lossradar/applied.py): the optimizer step post-hook that measures the
norm of the gradients ``opt.step()`` has used, against the same training step without it, as a ratio.

    python bench/applied_overhead.py --model small --device cpu
    python bench/applied_overhead.py --model gpt2-small --device cuda --dtype bfloat16

The arms alternate in blocks of ``--block`` steps (ABAB…, after a warm-up); the figure is the ratio of
the median per-step times, with an A/A pass of the same blocks (both arms without the hook) printed
beside it as this machine's noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import MODELS

from lossradar.applied import AppliedGradNorm
from lossradar_trainer.models import CharTransformer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32", help="autocast dtype")
    parser.add_argument("--block", type=int, default=20, help="steps per measured block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per arm")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    spec = dict(MODELS[args.model])
    batch = spec.pop("batch")
    torch.manual_seed(0)
    model = CharTransformer(**spec).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    vocab, block = spec["vocab_size"], spec["block_size"]
    data = torch.randint(vocab, (8, batch, block + 1), generator=torch.Generator().manual_seed(0)).to(device)
    hook: AppliedGradNorm | None = None
    step = 0

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def measure(hooked: bool) -> float:
        nonlocal hook, step
        if hooked and hook is None:
            hook = AppliedGradNorm(opt, lambda key, message: warnings.warn(message, stacklevel=2))
        elif not hooked and hook is not None:
            hook.remove()
            hook = None
        sync()
        t0 = time.perf_counter()
        for _ in range(args.block):
            xy = data[step % data.shape[0]]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.dtype == "bfloat16"):
                logits = model(xy[:, :-1])
                loss = F.cross_entropy(logits.float().reshape(-1, vocab), xy[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if hook is not None:
                hook.take()  # what run.log() does: the norm joins that call's one transfer
            step += 1
        sync()
        return float((time.perf_counter() - t0) / args.block)

    measure(False)
    measure(True)  # warm-up of both arms
    times: dict[str, list[float]] = {"off": [], "on": [], "off2": []}
    for _ in range(args.rounds):
        times["off"].append(measure(False))
        times["on"].append(measure(True))
        times["off2"].append(measure(False))
    off, on, off2 = (statistics.median(times[k]) for k in ("off", "on", "off2"))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model {args.model}: {n_params / 1e6:.1f} M parameters, batch {batch}×{block}, {device}, {args.dtype}")
    print(f"median step {off * 1e3:.2f} ms without the hook, {on * 1e3:.2f} ms with it")
    print(f"with ÷ without: {on / off:.4f} (A/A, without ÷ without: {off2 / off:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
