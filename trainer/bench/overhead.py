"""Monitoring overhead: step time with ``run.watch`` + ``run.log_predictions`` against without, same
model, same process, as a ratio.

    python bench/overhead.py --model small --device cpu
    python bench/overhead.py --model gpt2-small --device cuda --dtype bfloat16

Both arms train the same model and log ``loss``, ``lr`` and ``grad_norm`` every step (what any
monitored script does); the monitored arm adds the spectral-alignment hooks on every ``nn.Linear``
(sampled every ``--sa-every`` steps) and ``log_predictions`` every ``--pred-every`` steps. The arms
alternate in blocks of ``--block`` steps (ABAB…, after a warm-up), so drifts of the machine hit
both; the figure is the ratio of the median per-step times. Rows go to the hub when
``LOSSRADAR_URL``/``LOSSRADAR_TOKEN`` are set, else to a local run folder in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lossradar
from lossradar_trainer.models import CharTransformer

MODELS: dict[str, dict[str, Any]] = {
    # the reference trainer's lm experiments
    "small": {"vocab_size": 128, "block_size": 64, "d_model": 128, "n_layer": 4, "n_head": 4, "batch": 16},
    # GPT-2 small: 12 layers, 768 wide, 12 heads, 50 257 tokens, context 1024 (124 M parameters)
    "gpt2-small": {
        "vocab_size": 50257,
        "block_size": 1024,
        "d_model": 768,
        "n_layer": 12,
        "n_head": 12,
        "batch": 8,
        "tie_weights": True,
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32", help="autocast dtype")
    parser.add_argument("--batch", type=int, help="override the model's batch size")
    parser.add_argument("--block-size", type=int, help="override the context length")
    parser.add_argument("--sa-every", type=int, default=10)
    parser.add_argument("--pred-every", type=int, default=10)
    parser.add_argument("--block", type=int, default=20, help="steps per measured block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per arm")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument(
        "--aa", action="store_true", help="A/A check of the method: both arms unmonitored (expect a ratio near 1)"
    )
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    spec = dict(MODELS[args.model])
    batch = args.batch or spec.pop("batch")
    spec.pop("batch", None)
    if args.block_size:
        spec["block_size"] = args.block_size
    torch.manual_seed(0)
    model = CharTransformer(**spec).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    vocab, block = spec["vocab_size"], spec["block_size"]

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    g = torch.Generator(device="cpu").manual_seed(0)
    data = torch.randint(vocab, (64, batch, block + 1), generator=g).to(device)

    tmp = tempfile.TemporaryDirectory()
    mode: lossradar.Mode = "auto" if "LOSSRADAR_URL" in __import__("os").environ else "local"
    run = lossradar.init(name=f"overhead-{args.model}", config=vars(args), mode=mode, dir=tmp.name, device=str(device))
    watcher = run.watch(model, every=args.sa_every)
    assert watcher is not None
    step = 0
    sdk_time = {True: 0.0, False: 0.0}
    sdk_steps = {True: 0, False: 0}

    def train_step(monitored: bool) -> None:
        nonlocal step
        batch_xy = data[step % data.shape[0]]
        x, y = batch_xy[:, :-1], batch_xy[:, 1:]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.dtype == "bfloat16"):
            logits = model(x)
            loss = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t0 = time.perf_counter()
        if monitored and step % args.pred_every == 0:
            run.log_predictions(step, logits.detach(), y, loss=loss.detach(), lr=1e-4, grad_norm=grad_norm)
        else:
            run.log(step, loss=loss.detach(), lr=1e-4, grad_norm=grad_norm)
        sdk_time[monitored] += time.perf_counter() - t0
        sdk_steps[monitored] += 1
        step += 1

    def measure(monitored: bool, n: int) -> float:
        if args.aa:
            watcher.remove()
            monitored = False
        elif monitored:
            watcher.attach()
        else:
            watcher.remove()
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            train_step(monitored)
        sync()
        return (time.perf_counter() - t0) / n

    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"model {args.model}: {n_params / 1e6:.1f} M parameters, batch {batch}×{block}, device {device}, "
        f"{args.dtype}, {len(watcher.layers)} linear layers watched every {args.sa_every} steps, "
        f"log_predictions every {args.pred_every} steps, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        flush=True,
    )
    measure(True, args.warmup)
    measure(False, args.warmup)
    for k in sdk_time:
        sdk_time[k], sdk_steps[k] = 0.0, 0
    base: list[float] = []
    mon: list[float] = []
    for r in range(args.rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for monitored in order:
            (mon if monitored else base).append(measure(monitored, args.block))
        print(
            f"round {r + 1}/{args.rounds}: without {base[-1] * 1e3:.2f} ms/step, with {mon[-1] * 1e3:.2f} ms/step",
            flush=True,
        )
    run.finish()
    tmp.cleanup()
    b, m = statistics.median(base), statistics.median(mon)
    ratio = m / b
    ratio_min = min(mon) / min(base)
    paired = statistics.median(m_ / b_ for m_, b_ in zip(mon, base, strict=True))
    # time inside run.log / run.log_predictions (collect + metrics + the one transfer + enqueue);
    # the hooks' own cost in the forward pass is not in it
    sdk_with = sdk_time[True] / max(1, sdk_steps[True])
    sdk_without = sdk_time[False] / max(1, sdk_steps[False])
    result = {
        "model": args.model,
        "device": str(device),
        "dtype": args.dtype,
        "steps_per_s_without": 1 / b,
        "steps_per_s_with": 1 / m,
        "ms_per_step_without": b * 1e3,
        "ms_per_step_with": m * 1e3,
        "ratio": ratio,
        "overhead_percent": (ratio - 1) * 100,
        "ratio_of_fastest_blocks": ratio_min,
        "median_paired_ratio": paired,
        "aa": args.aa,
        "sdk_ms_per_step_with": sdk_with * 1e3,
        "sdk_ms_per_step_without": sdk_without * 1e3,
        "threads": torch.get_num_threads(),
        "sa_every": args.sa_every,
        "pred_every": args.pred_every,
        "block": args.block,
        "rounds": args.rounds,
    }
    print(f"without monitoring: {1 / b:.2f} steps/s ({b * 1e3:.2f} ms/step, median of {len(base)} blocks)")
    print(f"with watch + log_predictions: {1 / m:.2f} steps/s ({m * 1e3:.2f} ms/step)")
    print(
        f"ratio {ratio:.4f} → monitoring overhead {(ratio - 1) * 100:+.2f} % (medians); "
        f"fastest blocks: ratio {ratio_min:.4f} ({(ratio_min - 1) * 100:+.2f} %); "
        f"median of per-round ratios {paired:.4f} ({(paired - 1) * 100:+.2f} %)"
    )
    print(
        f"time inside run.log/log_predictions: {sdk_without * 1e3:.3f} ms/step without, {sdk_with * 1e3:.3f} ms/step "
        f"with → {(sdk_with - sdk_without) / b * 100:+.2f} % of a step"
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
