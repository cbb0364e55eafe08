"""The reference trainer that the extension launches:

    python -m lossradar_trainer.train --experiment NAME [--steps N] [--device auto|cuda|cpu] [--seed S]
                                      [--set key=value ...] [--name RUN_NAME] [--list] [--print-config]

Experiments are JSON files in ``lossradar_trainer/experiments/`` (``--list``); every option of
``experiment.schema.json`` can be overridden with ``--set`` (``--set layernorm=none --set lr=1e-2``).
The run logs ``loss``, ``lr``, ``grad_norm``, ``time/step_ms`` every ``log_every`` steps,
``log_predictions`` (``calibration/*``, ``entropy/*``, ``accuracy``) every ``pred_every`` steps,
spectral alignment of every linear layer (``sa/*``) every ``sa_every`` steps, ``loss/val`` every
``val_every`` steps and, on CUDA, ``gpu/*``. It stops with status ``stopped`` when the editor asks
(``run.should_stop``), and ends with status ``failed`` (exit code 1) after ``halt_nonfinite``
consecutive non-finite losses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import lossradar
from lossradar import EndStatus

from .data import VOCAB, NoisyLabelData, TextData
from .experiment import Experiment, ExperimentError, available, load
from .losses import make_loss
from .models import CharTransformer, MLPClassifier


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("lossradar_trainer.train: --device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


def lr_at(step: int, cfg: dict[str, Any]) -> float:
    """The learning rate of ``step`` (0-based) under the configured warm-up and schedule."""
    lr = float(cfg["lr"])
    steps: int = cfg["steps"]
    warm: int = cfg["warmup_steps"]
    schedule: str = cfg["schedule"]
    if schedule == "cosine":
        span = max(1, steps - warm)
        t = min(1.0, max(0.0, (step - warm) / span))
        floor = lr * cfg["min_lr_ratio"]
        value = floor + (lr - floor) * 0.5 * (1 + math.cos(math.pi * t))
    elif schedule == "exp-ramp":
        t = step / max(1, steps - 1)
        value = lr * (cfg["lr_end"] / lr) ** t
    elif schedule == "jump":
        value = lr * (cfg["jump_factor"] if step >= cfg["jump_step"] else 1.0)
    else:
        value = lr
    if warm > 0 and step < warm:
        value *= (step + 1) / warm
    return float(value)


def make_optimizer(params: list[nn.Parameter], cfg: dict[str, Any]) -> torch.optim.Optimizer:
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
    betas = (cfg["beta1"], cfg["beta2"])
    if cfg["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=cfg["lr"], betas=betas, eps=cfg["eps"], weight_decay=cfg["weight_decay"])
    return torch.optim.AdamW(params, lr=cfg["lr"], betas=betas, eps=cfg["eps"], weight_decay=cfg["weight_decay"])


def gpu_stats(device: torch.device) -> dict[str, float]:
    """``gpu/mem_used_mb``, ``gpu/mem_total_mb`` and, when NVML is reachable, ``gpu/util``."""
    if device.type != "cuda":
        return {}
    out: dict[str, float] = {}
    try:
        free, total = torch.cuda.mem_get_info(device)
        out["gpu/mem_used_mb"] = (total - free) / 2**20
        out["gpu/mem_total_mb"] = total / 2**20
    except RuntimeError:
        pass
    with contextlib.suppress(Exception):  # needs pynvml / amdsmi
        out["gpu/util"] = float(torch.cuda.utilization(device))
    return out


@dataclass
class Outcome:
    status: EndStatus
    error: str | None
    steps_done: int
    best_loss: float
    last_loss: float


class Loop:
    """What both tasks share: the step loop, the optimizer, logging, halting and progress lines."""

    def __init__(self, exp: Experiment, device: torch.device, run: lossradar.Run, out: Any) -> None:
        self.exp = exp
        self.cfg = exp.config
        self.device = device
        self.run = run
        self.out = out
        steps = self.cfg["steps"]
        self.print_every = self.cfg["print_every"] or max(1, steps // 20)
        self.autocast_dtype = torch.bfloat16 if self.cfg["dtype"] == "bfloat16" else None

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def fit(
        self,
        model: nn.Module,
        micro_step: Callable[[nn.Module, int], tuple[Tensor, Tensor, Tensor]],
        validate: Callable[[nn.Module], dict[str, Tensor]],
    ) -> Outcome:
        """``micro_step(model, micro_batch_size)`` returns (loss, logits, labels) of one micro-batch."""
        cfg = self.cfg
        run = self.run
        params = [p for p in model.parameters() if p.requires_grad]
        opt = make_optimizer(params, cfg)
        # The schedule as a scheduler, given to watch() with the optimizer: the editor's Lower
        # Learning Rate and Roll Back, and a rescue policy, then act on this run (docs/rescue.md).
        base_lr = float(cfg["lr"]) or 1.0
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, cfg) / base_lr)
        run.watch(model, every=cfg["sa_every"], max_rows=cfg["sa_max_rows"], optimizer=opt, scheduler=sched)
        forward_model: nn.Module = model
        if cfg["compile"]:
            compiled = torch.compile(model)
            assert isinstance(compiled, nn.Module)
            forward_model = compiled
        steps: int = cfg["steps"]
        accumulate: int = cfg["accumulate"]
        micro = cfg["batch_size"] // accumulate
        clip = cfg["grad_clip"] if cfg["grad_clip"] > 0 else math.inf
        best = math.inf
        last = math.nan
        nonfinite_run = 0
        first_nonfinite: int | None = None
        prev_iter_ms: float | None = None
        status: EndStatus = "completed"
        error: str | None = None
        step = 0
        model.train()
        for step in range(steps):
            if run.should_stop:
                status, error = "stopped", None
                self.say(f"stop asked for from the editor at step {step}")
                break
            t0 = time.perf_counter()
            lr = float(opt.param_groups[0]["lr"])
            opt.zero_grad(set_to_none=True)
            loss_sum = torch.zeros((), device=self.device)
            logits = labels = None
            for _ in range(accumulate):
                with self.autocast():
                    loss, logits, labels = micro_step(forward_model, micro)
                (loss / accumulate).backward()  # type: ignore[no-untyped-call]
                loss_sum += loss.detach().float() / accumulate
            grad_norm = torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            sched.step()

            scalars: dict[str, Any] = {}
            if step % cfg["log_every"] == 0 or step == steps - 1:
                scalars = {"loss": loss_sum, "lr": lr, "grad_norm": grad_norm}
                if prev_iter_ms is not None:
                    scalars["time/step_ms"] = prev_iter_ms
                if step % (cfg["log_every"] * 10) == 0:
                    scalars.update(gpu_stats(self.device))
            if scalars:
                if step % cfg["pred_every"] == 0 and logits is not None and labels is not None:
                    values = run.log_predictions(step, logits, labels, **scalars)
                else:
                    values = run.log(step, **scalars)
                loss_value = values.get("loss", math.nan) if values else float(loss_sum)
                last = loss_value
                if math.isfinite(loss_value):
                    best = min(best, loss_value)
                    nonfinite_run = 0
                else:
                    nonfinite_run += 1
                    if nonfinite_run == 1:
                        first_nonfinite = step
                if step % self.print_every == 0 or step == steps - 1:
                    gn = values.get("grad_norm", math.nan) if values else float(grad_norm)
                    self.say(
                        f"step {step}/{steps} loss {loss_value:.4f} lr {lr:.3g} grad_norm {gn:.3g}"
                        + (f" {prev_iter_ms:.0f} ms/step" if prev_iter_ms is not None else "")
                    )
            if step % cfg["val_every"] == 0 or step == steps - 1:
                model.eval()
                with torch.no_grad(), self.autocast():
                    val = validate(forward_model)
                model.train()
                run.log(step, **val)
            halt = cfg["halt_nonfinite"]
            if halt and nonfinite_run >= halt:
                status = "failed"
                error = (
                    f"the loss was non-finite for {nonfinite_run} consecutive logged steps "
                    f"(since step {first_nonfinite}): training diverged"
                )
                run.event(error, level="error", step=step)
                self.say(error)
                break
            prev_iter_ms = (time.perf_counter() - t0) * 1000.0
        return Outcome(status, error, step + 1, best, last)


def train_lm(loop: Loop) -> Outcome:
    cfg = loop.cfg
    device = loop.device
    data = TextData.load(cfg["data_chars"])
    torch.manual_seed(cfg["seed"])
    model = CharTransformer(
        vocab_size=VOCAB,
        block_size=cfg["block_size"],
        d_model=cfg["d_model"],
        n_layer=cfg["n_layer"],
        n_head=cfg["n_head"],
        mlp_ratio=cfg["mlp_ratio"],
        layernorm=cfg["layernorm"],
        qk_layernorm=cfg["qk_layernorm"],
        bias=cfg["bias"],
        init_std=cfg["init_std"],
        tie_weights=cfg["tie_weights"],
    ).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    loop.say(
        f"lm: {n_params / 1e6:.2f} M parameters, {len(data.train)} training characters of the standard library, "
        f"device {device}"
    )
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    val_gen = torch.Generator().manual_seed(cfg["seed"] + 2)
    block = cfg["block_size"]
    val_batches = [TextData.batch(data.val, cfg["batch_size"], block, val_gen) for _ in range(cfg["val_batches"])]
    z_loss = cfg["z_loss"]

    def micro_step(model: nn.Module, micro: int) -> tuple[Tensor, Tensor, Tensor]:
        x, y = TextData.batch(data.train, micro, block, gen)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        logits = model(x)
        flat = logits.float().reshape(-1, VOCAB)
        loss = F.cross_entropy(flat, y.reshape(-1))
        if z_loss > 0:
            loss = loss + z_loss * torch.logsumexp(flat, dim=-1).pow(2).mean()
        return loss, logits.detach(), y

    def validate(model: nn.Module) -> dict[str, Tensor]:
        total = torch.zeros((), device=device)
        for x, y in val_batches:
            logits = model(x.to(device))
            total += F.cross_entropy(logits.float().reshape(-1, VOCAB), y.to(device).reshape(-1))
        return {"loss/val": total / len(val_batches)}

    loop.run.event(
        f"lm: {n_params} parameters, layernorm={cfg['layernorm']}, lr={cfg['lr']}, schedule={cfg['schedule']}"
    )
    return loop.fit(model, micro_step, validate)


def train_noisy_labels(loop: Loop) -> Outcome:
    cfg = loop.cfg
    device = loop.device
    data = NoisyLabelData.make(
        n_train=cfg["n_train"],
        n_val=cfg["n_val"],
        n_features=cfg["n_features"],
        n_classes=cfg["n_classes"],
        noise=cfg["noise"],
        noise_rate=cfg["noise_rate"],
        teacher_hidden=cfg["teacher_hidden"],
        seed=cfg["seed"],
    )
    torch.manual_seed(cfg["seed"])
    model = MLPClassifier(cfg["n_features"], cfg["n_classes"], cfg["hidden"], cfg["depth"]).to(device)
    params: dict[str, dict[str, Any]] = {
        "gce": {"q": cfg["gce_q"]},
        "sce": {"alpha": cfg["sce_alpha"], "beta": cfg["sce_beta"]},
        "nce+rce": {"alpha": cfg["nce_alpha"], "beta": cfg["rce_beta"]},
        "focal": {"gamma": cfg["focal_gamma"]},
        "sgce": {"q": cfg["sgce_q"]},
        "alpha-mae": {"alpha": cfg["mae_alpha"]},
    }
    loss_fn = make_loss(cfg["loss"], **params.get(cfg["loss"], {}))
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_val, y_val = data.x_val.to(device), data.y_val.to(device)
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    order = iter(())  # type: Iterator[Tensor]
    loop.say(
        f"noisy-labels: {cfg['noise']} noise, {data.noise_fraction:.1%} of {cfg['n_train']} training labels flipped, "
        f"loss {cfg['loss']}, device {device}"
    )
    loop.run.event(
        f"{data.noise_fraction:.1%} of the training labels are wrong ({cfg['noise']} noise); loss {cfg['loss']}"
    )

    def batches(micro: int) -> Iterator[Tensor]:
        while True:
            perm = torch.randperm(cfg["n_train"], generator=gen)
            for i in range(0, cfg["n_train"] - micro + 1, micro):
                yield perm[i : i + micro]

    def micro_step(model: nn.Module, micro: int) -> tuple[Tensor, Tensor, Tensor]:
        nonlocal order
        idx = next(order, None)
        if idx is None:
            order = batches(micro)
            idx = next(order)
        idx = idx.to(device)
        x, y = x_train[idx], y_train[idx]
        logits = model(x)
        return loss_fn(logits.float(), y), logits.detach(), y

    def validate(model: nn.Module) -> dict[str, Tensor]:
        logits = model(x_val).float()
        return {
            "loss/val": F.cross_entropy(logits, y_val),
            "accuracy/val": (logits.argmax(dim=1) == y_val).float().mean(),
        }

    return loop.fit(model, micro_step, validate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lossradar_trainer.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", "-e", help=f"experiment name ({', '.join(available())}) or a .json path")
    parser.add_argument("--steps", type=int, help="override the experiment's steps")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cuda, cuda:N or cpu")
    parser.add_argument("--seed", type=int, help="override the experiment's seed")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an option of experiment.schema.json (repeatable)",
    )
    parser.add_argument("--name", help="run name (default: the experiment's name)")
    parser.add_argument("--list", action="store_true", help="list the experiments and exit")
    parser.add_argument("--print-config", action="store_true", help="print the resolved configuration and exit")
    args = parser.parse_args(argv)

    if args.list:
        for name in available():
            exp = load(name)
            print(f"{name:14} {exp.task:13} {exp.description}")
        return 0
    if not args.experiment:
        parser.error("--experiment is required (see --list)")
    try:
        exp = load(args.experiment, args.overrides, steps=args.steps, seed=args.seed)
    except ExperimentError as e:
        print(f"lossradar_trainer.train: {e}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps({"name": exp.name, "task": exp.task, "config": exp.task_config}, indent=2))
        return 0

    device = pick_device(args.device)
    if exp.config["threads"]:
        torch.set_num_threads(exp.config["threads"])
    torch.manual_seed(exp.config["seed"])
    config = {"experiment": exp.name, "task": exp.task, "device": str(device), **exp.task_config}
    started = time.perf_counter()
    with lossradar.init(name=args.name or exp.name, config=config, device=str(device)) as run:
        loop = Loop(exp, device, run, sys.stdout)
        outcome = train_lm(loop) if exp.task == "lm" else train_noisy_labels(loop)
        run.finish(outcome.status, outcome.error)
    where = run.run_id if run.mode == "hub" else run.local_dir
    print(
        f"{outcome.status}: {outcome.steps_done} steps in {time.perf_counter() - started:.1f} s, "
        f"best loss {outcome.best_loss:.4f}, last loss {outcome.last_loss:.4f} (run {where})",
        flush=True,
    )
    return 1 if outcome.status == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
