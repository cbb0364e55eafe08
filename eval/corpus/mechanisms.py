"""Losses, optimizers, learning-rate schedules and the explosion mechanisms of the corpus
(eval/README.md, "Corpus"). A mechanism is only a recipe: whether a run exploded is decided from
its loss afterwards (eval/label.py), never from the recipe."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn

# ------------------------------------------------------------------------------------------- losses
# The classification losses of robust-to-label-noise training, on softmax probabilities p.


def classification_loss(name: str, logits: Tensor, y: Tensor) -> Tensor:
    logits = logits.reshape(-1, logits.shape[-1])
    y = y.reshape(-1)
    if name == "ce":
        return nn.functional.cross_entropy(logits, y)
    p = logits.softmax(-1)
    py = p.gather(1, y[:, None]).squeeze(1).clamp_min(1e-7)
    # reverse cross-entropy with log 0 clamped to log 1e-4 (Wang et al. 2019): A·(1 − p_y)
    rce = -math.log(1e-4) * (1 - py)
    if name == "gce":  # generalised CE, q = 0.7 (Zhang & Sabuncu 2018)
        return ((1 - py**0.7) / 0.7).mean()
    if name == "sce":  # symmetric CE, α = 0.1, β = 1
        return (0.1 * nn.functional.cross_entropy(logits, y, reduction="none") + rce).mean()
    if name == "mae":
        return (2 * (1 - py)).mean()
    if name == "sgce":  # symmetric GCE: GCE plus reverse CE
        return ((1 - py**0.7) / 0.7 + 0.1 * rce).mean()
    if name == "amae":  # α-MAE, α = 5: MAE scaled to a CE-like gradient size
        return (5 * 2 * (1 - py)).mean()
    if name == "unhinged":  # unhinged margin loss, squashed so that it stays positive: 1 − tanh(margin)
        z = logits
        zy = z.gather(1, y[:, None]).squeeze(1)
        other = z.masked_fill(nn.functional.one_hot(y, z.shape[1]).bool(), float("-inf")).amax(1)
        return (1 - torch.tanh(zy - other)).mean()
    raise ValueError(f"unknown loss {name!r}")


LOSSES = ("ce", "gce", "sce", "mae", "sgce", "amae", "unhinged")


# ------------------------------------------------------------------------------------------ recipes


@dataclass(frozen=True)
class Recipe:
    """How one run trains. ``lr`` is the base rate; the schedule multiplies it."""

    optimizer: str = "adamw"  # sgd (momentum 0.9) | adam | adamw
    lr: float = 3e-3
    weight_decay: float = 0.0
    clip: float | None = None
    warmup: int = 0
    cosine: bool = False
    steps: int = 300
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    # mechanisms
    ramp_to: float | None = None  # exponential LR ramp from 1× to this multiple over the run
    jump_at: float | None = None  # fraction of the run where the LR is multiplied by jump
    jump: float = 1.0
    jump_for: int | None = None  # rows the jump lasts (None: to the end)
    restart_every: int | None = None  # SGDR: cosine to 1 % of the rate, restarting every this many steps
    fp16: bool = False  # logits and gradients rounded through float16, no loss scaling
    corrupt_at: float | None = None  # fraction of the run where one batch's loss is scaled
    corrupt_scale: float = 1.0
    loss: str = "ce"
    extra: dict[str, Any] = field(default_factory=dict)

    def lr_at(self, step: int) -> float:
        f = 1.0
        if self.warmup and step < self.warmup:
            f *= (step + 1) / self.warmup
        elif self.cosine:
            t = (step - self.warmup) / max(1, self.steps - self.warmup)
            f *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))
        if self.restart_every:
            t = (step % self.restart_every) / self.restart_every
            f *= 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))
        if self.ramp_to is not None:
            f *= self.ramp_to ** (step / self.steps)
        if self.jump_at is not None:
            at = int(self.jump_at * self.steps)
            if step >= at and (self.jump_for is None or step < at + self.jump_for):
                f *= self.jump
        return self.lr * f

    def with_(self, **kw: Any) -> Recipe:
        return replace(self, **kw)

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["betas"] = list(self.betas)
        return d


def make_optimizer(r: Recipe, params: Any) -> torch.optim.Optimizer:
    if r.optimizer == "sgd":
        return torch.optim.SGD(params, lr=r.lr, momentum=0.9, weight_decay=r.weight_decay)
    if r.optimizer == "adam":
        return torch.optim.Adam(params, lr=r.lr, betas=r.betas, eps=r.eps, weight_decay=r.weight_decay)
    if r.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=r.lr, betas=r.betas, eps=r.eps, weight_decay=r.weight_decay)
    raise ValueError(f"unknown optimizer {r.optimizer!r}")


def fp16_round(t: Tensor) -> Tensor:
    """What float16 without loss scaling does to a value: overflow to ±inf past 65504, underflow to 0."""
    return t.to(torch.float16).to(t.dtype)


def training_step(
    r: Recipe, model: nn.Module, opt: torch.optim.Optimizer, x: Tensor, y: Tensor, scale: float
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of a corpus run as the recipe makes it: the loss (its logits rounded as fp16 would),
    scaled by `scale` for a corrupted batch, fp16's gradients, clipping, the optimizer's step.
    Returns the loss, the logits and the gradient norm before clipping. The generator and the
    rescue evaluation (eval/rescue/) train through this one function, so their runs are the same."""
    logits = model(x)
    if r.fp16:
        logits = fp16_round(logits)
    loss = classification_loss(r.loss, logits, y)
    opt.zero_grad(set_to_none=True)
    (loss * scale).backward()
    if r.fp16:
        for p in model.parameters():
            if p.grad is not None:
                p.grad = fp16_round(p.grad)
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), r.clip if r.clip else math.inf)
    opt.step()
    return loss, logits, grad_norm
