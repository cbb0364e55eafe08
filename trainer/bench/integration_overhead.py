"""What an integration costs per training step: the same small model trained by each framework
with and without Loss Radar, in one process, as a ratio of the step times.

    python bench/integration_overhead.py [--framework transformers lightning accelerate]
                                         [--size tiny|small] [--log-every 1] [--steps 200] [--rounds 3]

* transformers: ``Trainer`` on a GPT-2 built from a local config, with and without
  ``LossRadarCallback()`` (spectral alignment of its ``nn.Linear`` layers at every logged step);
* lightning: ``Trainer`` on an MLP, a logger that drops what it is given (Lightning's own logging
  work is in both arms) against ``LossRadarLogger()`` + ``LossRadarCallback()``;
* accelerate: a loop on the MLP calling ``accelerator.log`` every ``--log-every`` steps, without
  trackers against ``log_with=[LossRadarTracker()]`` + ``tracker.watch(model)``.

A step's time is the mean interval between step-end events (a callback in both arms, or the loop's
own clock) after ``--warmup`` steps; each round trains both arms (alternating which goes first, so
that drifts of the machine hit both) and the figure is the median over rounds of the per-round
ratio, with the extra time per step in microseconds beside it (medians over rounds).
``--log-every 1`` (the default) logs every step, the worst case. Rows go to the hub of
``LOSSRADAR_URL``/``LOSSRADAR_TOKEN`` when set, else to a hub this script starts (``node
../dist/cli.js serve``, needs ``npm run build``), else (``--local``) to a local run folder in a
temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[2]

SIZES: dict[str, dict[str, int]] = {
    # the Python tier's test models
    "tiny": {"gpt2_embd": 16, "gpt2_layers": 1, "gpt2_heads": 2, "block": 16, "batch": 4, "mlp_in": 4, "mlp_hidden": 8},
    "small": {
        "gpt2_embd": 128,
        "gpt2_layers": 2,
        "gpt2_heads": 4,
        "block": 64,
        "batch": 8,
        "mlp_in": 256,
        "mlp_hidden": 512,
    },
}
VOCAB = 256

Arm = Callable[[bool], list[float]]


def start_hub(runs: str) -> subprocess.Popen[str] | None:
    node = shutil.which("node")
    cli = REPO / "dist" / "cli.js"
    if node is None or not cli.exists():
        return None
    proc = subprocess.Popen(
        [node, str(cli), "serve", f"--runs={runs}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    os.environ["LOSSRADAR_URL"], os.environ["LOSSRADAR_TOKEN"] = info["url"], info["token"]
    return proc


def transformers_arm(size: dict[str, int], steps: int, log_every: int, out: str, watch: bool) -> Arm:
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    from lossradar.integrations.transformers import LossRadarCallback

    class Tokens(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __init__(self) -> None:
            self.ids = torch.randint(VOCAB, (256, size["block"]), generator=torch.Generator().manual_seed(0))

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"input_ids": self.ids[i], "labels": self.ids[i]}

    class Clock(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            self.times.append(time.perf_counter())

    data = Tokens()

    def arm(monitored: bool) -> list[float]:
        torch.manual_seed(0)
        config = GPT2Config(
            vocab_size=VOCAB,
            n_positions=size["block"],
            n_embd=size["gpt2_embd"],
            n_layer=size["gpt2_layers"],
            n_head=size["gpt2_heads"],
        )
        clock = Clock()
        ours = [LossRadarCallback(name="bench-transformers", watch=watch)] if monitored else []
        callbacks: list[Any] = [clock, *ours]
        args = TrainingArguments(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=size["batch"],
            logging_steps=log_every,
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        trainer = Trainer(model=GPT2LMHeadModel(config), args=args, train_dataset=data, callbacks=callbacks)
        trainer.remove_callback(PrinterCallback)  # its print() of every log would be in both arms
        trainer.train()
        return clock.times

    return arm


def lightning_arm(size: dict[str, int], steps: int, log_every: int, out: str, watch: bool) -> Arm:
    import lightning.pytorch as L
    from lightning.pytorch.loggers.logger import Logger
    from torch.utils.data import DataLoader, TensorDataset

    from lossradar.integrations.lightning import LossRadarCallback, LossRadarLogger

    class MLP(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            h = size["mlp_hidden"]
            self.net = torch.nn.Sequential(
                torch.nn.Linear(size["mlp_in"], h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU()
            )
            self.head = torch.nn.Linear(h, 10)

        def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
            loss = F.cross_entropy(self.head(self.net(batch[0])), batch[1])
            self.log("loss", loss)
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.AdamW(self.parameters(), lr=1e-3)

    class Clock(L.Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_batch_end(self, *args: Any, **kwargs: Any) -> None:
            self.times.append(time.perf_counter())

    class NullLogger(Logger):
        """The baseline: Lightning does its logging work (metrics to floats, one host sync) for any
        logger; this one then drops the metrics, so that the difference is Loss Radar's alone."""

        name = "null"
        version = "0"

        def log_metrics(self, metrics: Any, step: Any = None) -> None:
            pass

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass

    g = torch.Generator().manual_seed(0)
    n = size["batch"] * 8 * 8
    data = TensorDataset(torch.randn(n, size["mlp_in"], generator=g), torch.randint(10, (n,), generator=g))

    def arm(monitored: bool) -> list[float]:
        torch.manual_seed(0)
        clock = Clock()
        logger: Any = LossRadarLogger(name="bench-lightning") if monitored else NullLogger()
        callbacks: list[Any] = [clock] + ([LossRadarCallback(watch=watch)] if monitored else [])
        L.Trainer(
            logger=logger,
            callbacks=callbacks,
            max_steps=steps,
            log_every_n_steps=log_every,
            accelerator="cpu",
            devices=1,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=out,
        ).fit(MLP(), DataLoader(data, batch_size=size["batch"] * 8, shuffle=True))
        return clock.times

    return arm


def accelerate_arm(size: dict[str, int], steps: int, log_every: int, out: str, watch: bool) -> Arm:
    from accelerate import Accelerator

    from lossradar.integrations.accelerate import LossRadarTracker

    g = torch.Generator().manual_seed(0)
    b = size["batch"] * 8
    xs = torch.randn(16, b, size["mlp_in"], generator=g)
    ys = torch.randint(10, (16, b), generator=g)

    def arm(monitored: bool) -> list[float]:
        torch.manual_seed(0)
        h = size["mlp_hidden"]
        model = torch.nn.Sequential(
            torch.nn.Linear(size["mlp_in"], h),
            torch.nn.ReLU(),
            torch.nn.Linear(h, h),
            torch.nn.ReLU(),
            torch.nn.Linear(h, 10),
        )
        tracker = LossRadarTracker(run_name="bench-accelerate") if monitored else None
        accelerator = Accelerator(cpu=True, log_with=[tracker] if tracker is not None else None)
        model, opt = accelerator.prepare(model, torch.optim.AdamW(model.parameters(), lr=1e-3))
        accelerator.init_trackers("bench", config={"steps": steps})
        if tracker is not None and watch:
            tracker.watch(model, every=1)  # at every row, as the other two integrations do
        times: list[float] = []
        for step in range(steps):
            loss = F.cross_entropy(model(xs[step % 16]), ys[step % 16])
            accelerator.backward(loss)
            opt.step()
            opt.zero_grad()
            if step % log_every == 0:
                accelerator.log({"loss": loss.detach(), "lr": 1e-3}, step=step)
            times.append(time.perf_counter())
        accelerator.end_training()
        return times

    return arm


ARMS: dict[str, Callable[[dict[str, int], int, int, str, bool], Arm]] = {
    "transformers": transformers_arm,
    "lightning": lightning_arm,
    "accelerate": accelerate_arm,
}


def mean_step(times: list[float], warmup: int) -> float:
    """Seconds per step after ``warmup`` steps: the mean, not the median, so that the cost of the
    logged steps counts when only one step in ``--log-every`` logs."""
    return (times[-1] - times[warmup]) / (len(times) - 1 - warmup)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", nargs="+", choices=sorted(ARMS), default=sorted(ARMS))
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--steps", type=int, default=200, help="training steps per arm and round")
    parser.add_argument("--warmup", type=int, default=20, help="first step intervals left out")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log-every", type=int, default=1, help="steps between logged rows (1: every step)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: torch's default)")
    parser.add_argument("--local", action="store_true", help="write local run folders instead of using a hub")
    parser.add_argument("--no-watch", action="store_true", help="without spectral alignment (run.watch)")
    parser.add_argument("--json", action="store_true", help="one JSON object per framework")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    tmp = tempfile.mkdtemp(prefix="lossradar-bench-")
    os.chdir(tmp)  # local run folders and the frameworks' output land here
    hub = None
    if args.local:
        os.environ.pop("LOSSRADAR_URL", None)
        os.environ["LOSSRADAR_DISCOVERY_DIR"] = os.path.join(tmp, "no-hubs")
    elif "LOSSRADAR_URL" not in os.environ:
        hub = start_hub(os.path.join(tmp, "runs"))
    where = "local run folders" if args.local else os.environ.get("LOSSRADAR_URL", "local run folders (no hub)")
    print(
        f"size {args.size}, {args.steps} steps × {args.rounds} rounds per arm, a row every {args.log_every} "
        f"step(s), spectral alignment {'off' if args.no_watch else 'at every row'}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), rows to {where}",
        flush=True,
    )
    try:
        for name in args.framework:
            arm = ARMS[name](SIZES[args.size], args.steps, args.log_every, os.path.join(tmp, name), not args.no_watch)
            arm(False)  # imports, first-call costs
            base: list[float] = []
            mon: list[float] = []
            for r in range(args.rounds):
                for monitored in (False, True) if r % 2 == 0 else (True, False):
                    (mon if monitored else base).append(mean_step(arm(monitored), args.warmup))
            ratio = statistics.median(m / b for m, b in zip(mon, base, strict=True))
            extra_us = (statistics.median(mon) - statistics.median(base)) * 1e6
            result = {
                "framework": name,
                "size": args.size,
                "log_every": args.log_every,
                "watch": not args.no_watch,
                "ms_per_step_without": statistics.median(base) * 1e3,
                "ms_per_step_with": statistics.median(mon) * 1e3,
                "ratio": ratio,
                "extra_us_per_step": extra_us,
                "rounds_without_ms": [round(b * 1e3, 3) for b in base],
                "rounds_with_ms": [round(m * 1e3, 3) for m in mon],
            }
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(
                    f"{name:12} without {result['ms_per_step_without']:7.2f} ms/step, with "
                    f"{result['ms_per_step_with']:7.2f} ms/step: ratio {ratio:.3f} ({(ratio - 1) * 100:+.1f} %), "
                    f"{extra_us:+.0f} µs per step",
                    flush=True,
                )
    finally:
        if hub is not None:
            hub.terminate()
            hub.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
