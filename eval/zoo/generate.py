#!/usr/bin/env python3
"""The zoo (eval/README.md, "The zoo"): healthy runs of kinds that neither the corpus nor the
published logs hold — the schedules, losses and batch sizes people train with that are not the
corpus's six families: per-sample SGD, CyclicLR and OneCycleLR, ReduceLROnPlateau, a VAE with KL
annealing, a diffusion model's denoising loss, InfoNCE, REINFORCE and PPO, distillation, focal
loss, a triplet loss that falls to 0, an auxiliary loss switched on mid-run. Each kind is a plain,
healthy recipe: none is meant to explode, so every alert on a zoo run is a false alarm. The
second round's kinds, on other networks than this MLP, are in ``networks.py``, the third round's,
other training loops, in ``loops.py``; the data they share in ``data.py``, the recording through
the SDK in ``recording.py``.

The kinds are split before any replay: ``dev`` kinds may be looked at and tuned on; ``sealed``
kinds are replayed only with the defaults frozen (docs/early-warning.md, "The zoo").

    python eval/zoo/generate.py [--jobs 2] [--only SUBSTRING] [--out DIR]

Each run is recorded through the SDK (``lossradar.init(mode="local")``, ``run.watch(model,
optimizer=opt)``, ``run.log``) and its ``metrics.jsonl`` gzipped into
``test/fixtures/zoo/<split>/<kind>-s<seed>.jsonl.gz``; runs already there are kept.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal

import torch
from torch import Tensor, nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "zoo")
SEEDS = (0, 1, 2)
S = torch.optim.lr_scheduler
sys.path.insert(0, HERE)

from data import gaussian_classes, mlp, sampler, swiss_roll  # noqa: E402
from fitted import FITTED_KINDS  # noqa: E402
from loops import LOOP_KINDS  # noqa: E402
from networks import NETWORK_KINDS  # noqa: E402
from objectives import OBJECTIVE_KINDS  # noqa: E402
from recording import Kind, Split, recording  # noqa: E402

# ------------------------------------------------------------------------------- classifier schedules


def classifier(
    sched: Callable[[torch.optim.Optimizer], Any] | None,
    *,
    steps: int,
    optimizer: Literal["sgd", "adamw"] = "sgd",
    lr: float = 0.1,
    batch: int = 64,
    accum: int = 1,
    log_every: int = 1,
    noise: float = 0.1,
    loss: Literal["ce", "focal", "smooth", "mixup"] = "ce",
) -> Kind:
    """An MLP classifier on the Gaussian classes: a schedule, an optimizer, a batch size, a loss."""

    def kind(name: str, seed: int, out: str) -> None:
        torch.manual_seed(seed)
        x, y = gaussian_classes(seed, noise=noise)
        model = mlp(20, 10)
        opt: torch.optim.Optimizer = (
            torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            if optimizer == "sgd"
            else torch.optim.AdamW(model.parameters(), lr=lr)
        )
        scheduler = sched(opt) if sched else None
        batches = sampler(seed, x, y, batch=batch)
        seen: list[float] = []
        with recording(name, out, model, opt) as rec:
            for step in range(steps):
                opt.zero_grad(set_to_none=True)
                for _ in range(accum):
                    xb, yb = next(batches)
                    value = class_loss(loss, model, xb, yb) / accum
                    value.backward()
                    seen.append(value.item() * accum)
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf)
                rate = opt.param_groups[0]["lr"]
                opt.step()
                if isinstance(scheduler, S.ReduceLROnPlateau):
                    if step % 50 == 49:
                        scheduler.step(sum(seen[-50 * accum :]) / (50 * accum))
                elif scheduler is not None:
                    scheduler.step()
                if step % log_every == 0:
                    recent = seen[-log_every * accum :]
                    rec.run.log(step, {"loss": sum(recent) / len(recent), "lr": rate, "grad_norm": grad_norm.item()})

    return kind


def class_loss(loss: str, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    if loss == "mixup":  # Zhang et al. 2018, α = 0.4
        lam = float(torch.distributions.Beta(0.4, 0.4).sample())
        perm = torch.randperm(len(x))
        logits = model(lam * x + (1 - lam) * x[perm])
        ce = nn.functional.cross_entropy
        return lam * ce(logits, y) + (1 - lam) * ce(logits, y[perm])
    logits = model(x)
    if loss == "focal":  # Lin et al. 2017, γ = 2
        logp = logits.log_softmax(-1).gather(1, y[:, None]).squeeze(1)
        return (-((1 - logp.exp()) ** 2) * logp).mean()
    if loss == "smooth":
        return nn.functional.cross_entropy(logits, y, label_smoothing=0.1)
    return nn.functional.cross_entropy(logits, y)


# ------------------------------------------------------------------------------------- other models


def vae(*, steps: int = 1200, anneal: int = 400, gaussian_nll: bool = False) -> Kind:
    """A VAE whose KL weight is annealed from 0 to 1 (Bowman et al. 2016): its loss rises while the
    weight does. With a learnt decoder variance its reconstruction term is a Gaussian NLL, which has
    no floor at 0."""

    def kind(name: str, seed: int, out: str) -> None:
        torch.manual_seed(seed)
        x, _ = gaussian_classes(seed)
        enc, dec = mlp(20, 8), mlp(4, 40 if gaussian_nll else 20)
        model = nn.ModuleList([enc, dec])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        batches = sampler(seed, x, batch=64)
        with recording(name, out, model, opt) as rec:
            for step in range(steps):
                (xb,) = next(batches)
                mu, logv = enc(xb).chunk(2, -1)
                z = mu + torch.randn_like(mu) * (0.5 * logv).exp()
                if gaussian_nll:
                    mean, logs = dec(z).chunk(2, -1)
                    rec_loss = (0.5 * ((xb - mean) / logs.exp()) ** 2 + logs).sum(-1).mean()
                else:
                    rec_loss = ((dec(z) - xb) ** 2).sum(-1).mean()
                kl = (-0.5 * (1 + logv - mu**2 - logv.exp()).sum(-1)).mean()
                beta = min(1.0, step / anneal)
                rec.step(step, rec_loss + beta * kl, kl=kl.item(), beta=beta)

    return kind


def diffusion(name: str, seed: int, out: str, steps: int = 1500) -> None:
    """A denoising diffusion model on a 2-D swiss roll: the noise-prediction MSE at a random time
    per sample, flat and noisy by nature."""
    torch.manual_seed(seed)
    pts = swiss_roll(seed)
    net = mlp(3, 2, 128)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    batches = sampler(seed, pts, batch=128)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            (x0,) = next(batches)
            t = torch.rand(len(x0), 1)
            a = torch.cos(t * math.pi / 2)
            eps = torch.randn_like(x0)
            xt = a * x0 + (1 - a**2).sqrt() * eps
            rec.step(step, ((net(torch.cat([xt, t], 1)) - eps) ** 2).mean(), clip=1.0)


def infonce(name: str, seed: int, out: str, steps: int = 1000, temp: float = 0.1) -> None:
    """Contrastive learning (InfoNCE over two noisy views, temperature 0.1)."""
    torch.manual_seed(seed)
    x, _ = gaussian_classes(seed)
    net = mlp(20, 16)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batches = sampler(seed, x, batch=128)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            (xb,) = next(batches)
            a = nn.functional.normalize(net(xb + 0.3 * torch.randn_like(xb)), dim=-1)
            b = nn.functional.normalize(net(xb * (torch.rand_like(xb) > 0.2)), dim=-1)
            rec.step(step, nn.functional.cross_entropy(a @ b.T / temp, torch.arange(len(xb))))


def triplet(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """Metric learning with a triplet margin loss: it falls to nearly 0 once most triplets are
    satisfied, and the hard ones left make it jump by large ratios."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed, noise=0.0)
    net = mlp(20, 8)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batches = sampler(seed, x, y, batch=128)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            emb = net(xb)
            same = yb[:, None] == yb[None, :]
            d = torch.cdist(emb, emb)
            pos = d.masked_fill(~same, -1).amax(1)
            neg = d.masked_fill(same, math.inf).amin(1)
            rec.step(step, nn.functional.relu(pos - neg + 1.0).mean())


def bandit_policy(*, ppo: bool, steps: int = 1500) -> Kind:
    """A policy over a 10-armed bandit by REINFORCE with a baseline, or PPO's clipped surrogate: the
    loss a policy-gradient script logs, signed and centred near 0."""

    def kind(name: str, seed: int, out: str) -> None:
        torch.manual_seed(seed)
        arms = torch.randn(10, generator=torch.Generator().manual_seed(seed))
        policy = nn.Linear(1, 10)
        opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
        baseline = 0.0
        ones = torch.ones(1, 1)
        with recording(name, out, policy, opt) as rec:
            for step in range(steps):
                dist = torch.distributions.Categorical(logits=policy(ones)[0])
                a = dist.sample((32,))
                r = arms[a] + torch.randn(32)
                adv = r - baseline
                baseline = 0.9 * baseline + 0.1 * r.mean().item()
                logp = dist.log_prob(a)
                if ppo:  # one epoch on fresh samples: the ratio is 1 at the first step, clipped at 0.2
                    ratio = (logp - logp.detach()).exp()
                    surr = torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv)
                    loss = -surr.mean() - 0.01 * dist.entropy()
                else:
                    loss = -(logp * adv).mean() - 0.01 * dist.entropy()
                rec.step(step, loss, reward=r.mean().item())

    return kind


def distill(name: str, seed: int, out: str, steps: int = 1000, temp: float = 4.0) -> None:
    """Knowledge distillation (Hinton et al. 2015): a small student on a trained teacher's soft
    targets at temperature 4, half and half with the labels."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed)
    teacher = mlp(20, 10, 128)
    topt = torch.optim.Adam(teacher.parameters(), 1e-3)
    batches = sampler(seed, x, y, batch=64)
    for _ in range(300):
        xb, yb = next(batches)
        topt.zero_grad()
        nn.functional.cross_entropy(teacher(xb), yb).backward()
        topt.step()
    student = mlp(20, 10, 16)
    opt = torch.optim.Adam(student.parameters(), 1e-3)
    with recording(name, out, student, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            with torch.no_grad():
                soft = (teacher(xb) / temp).softmax(-1)
            logits = student(xb)
            kd = nn.functional.kl_div((logits / temp).log_softmax(-1), soft, reduction="batchmean") * temp**2
            rec.step(step, 0.5 * kd + 0.5 * nn.functional.cross_entropy(logits, yb))


def task_switch(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """Continual learning: the classes are permuted at half time; the loss jumps and is learnt again."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed)
    model = mlp(20, 10)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(seed))
    batches = sampler(seed, x, y, batch=64)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            if step >= steps // 2:
                yb = perm[yb]
            rec.step(step, nn.functional.cross_entropy(model(xb), yb))


def aux_loss(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """Multi-task: a second head's loss is weighted in from step 300 over 200 steps, so the total
    logged loss rises while its weight does."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed)
    y2 = (x[:, 0] > 0).long()
    trunk = mlp(20, 32)
    heads = nn.ModuleList([nn.Linear(32, 10), nn.Linear(32, 2)])
    model = nn.ModuleList([trunk, heads])
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    batches = sampler(seed, x, y, y2, batch=64)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb, y2b = next(batches)
            h = torch.relu(trunk(xb))
            w = min(1.0, max(0.0, (step - 300) / 200))
            ce = nn.functional.cross_entropy
            rec.step(step, ce(heads[0](h), yb) + w * 2.0 * ce(heads[1](h), y2b), aux_weight=w)


def regression(name: str, seed: int, out: str, steps: int = 2000) -> None:
    """Regression at batch 2 with heavy-tailed (Student-t, 2 d.o.f.) noise and a Huber loss."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4000, 8, generator=g)
    w = torch.randn(8, 1, generator=g)
    noise = torch.distributions.StudentT(2.0).sample((4000, 1))
    yv = torch.sin(x @ w) * 3 + 0.5 * noise
    net = mlp(8, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    batches = sampler(seed, x, yv, batch=2)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            rec.step(step, nn.functional.huber_loss(net(xb), yb))


def autoencoder(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """A denoising autoencoder with dropout, MSE, AdamW with linear warm-up then linear decay."""
    torch.manual_seed(seed)
    x, _ = gaussian_classes(seed)
    net = nn.Sequential(mlp(20, 4, 64, dropout=0.2), mlp(4, 20, 64))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=0.01)
    sched = S.SequentialLR(
        opt, [S.LinearLR(opt, 0.01, 1.0, 100), S.LinearLR(opt, 1.0, 0.01, steps - 100)], milestones=[100]
    )
    batches = sampler(seed, x, batch=64)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            (xb,) = next(batches)
            rec.step(step, ((net(xb + 0.3 * torch.randn_like(xb)) - xb) ** 2).mean())
            sched.step()


# --------------------------------------------------------------------------------------------- kinds

#: kind -> (split, how it trains). The split was fixed before any zoo run was replayed: the dev
#: kinds were made and looked at first; the sealed kinds were written after, and are replayed only
#: with the defaults frozen.
KINDS: dict[str, tuple[Split, Kind]] = {
    "onecycle-sgd": ("dev", classifier(lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=1000), steps=1000, lr=0.3)),
    "onecycle-adamw": (
        "dev",
        classifier(lambda o: S.OneCycleLR(o, max_lr=1e-2, total_steps=1000), steps=1000, optimizer="adamw", lr=1e-2),
    ),
    "cyclic": (
        "dev",
        classifier(
            lambda o: S.CyclicLR(o, base_lr=1e-3, max_lr=0.2, step_size_up=150, mode="triangular2"), steps=1200, lr=0.2
        ),
    ),
    "plateau": ("dev", classifier(lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.3), steps=1000)),
    "steplr": ("dev", classifier(lambda o: S.StepLR(o, 300, 0.1), steps=900)),
    "exp-decay": ("dev", classifier(lambda o: S.ExponentialLR(o, 0.997), steps=900, lr=0.2)),
    # per-sample SGD (at lr 0.01 this recipe fell back to chance after step 700: not healthy, so 0.002)
    "batch1": ("dev", classifier(None, steps=2000, lr=0.002, batch=1)),
    "accum-sparse": ("dev", classifier(None, steps=600, lr=0.05, accum=4, log_every=10)),
    "poly-warmup": (
        "dev",
        classifier(
            lambda o: S.LambdaLR(o, lambda t: min(1, (t + 1) / 100) * (1 - t / 1000) ** 2),
            steps=1000,
            optimizer="adamw",
            lr=3e-3,
        ),
    ),
    "vae-anneal": ("dev", vae()),
    "diffusion": ("dev", diffusion),
    "infonce": ("dev", infonce),
    "reinforce": ("dev", bandit_policy(ppo=False)),
    "distill": ("dev", distill),
    "task-switch": ("dev", task_switch),
    "cyclic-triangular": (
        "sealed",
        classifier(lambda o: S.CyclicLR(o, base_lr=1e-3, max_lr=0.1, step_size_up=100), steps=1200, lr=0.1),
    ),
    "sgdr-tmult": (
        "sealed",
        classifier(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=100, T_mult=2), steps=1500, lr=0.1),
    ),
    "batch4-noisy": ("sealed", classifier(None, steps=1500, lr=0.02, batch=4, noise=0.3)),
    "focal": (
        "sealed",
        classifier(lambda o: S.CosineAnnealingLR(o, 1000), steps=1000, optimizer="adamw", lr=3e-3, loss="focal"),
    ),
    "label-smoothing": (
        "sealed",
        classifier(
            lambda o: S.OneCycleLR(o, max_lr=3e-3, total_steps=1000),
            steps=1000,
            optimizer="adamw",
            lr=3e-3,
            loss="smooth",
        ),
    ),
    "mixup": ("sealed", classifier(lambda o: S.StepLR(o, 400, 0.3), steps=1200, loss="mixup")),
    "vae-gaussian": ("sealed", vae(steps=1500, anneal=600, gaussian_nll=True)),
    "triplet": ("sealed", triplet),
    "ppo": ("sealed", bandit_policy(ppo=True)),
    "aux-loss": ("sealed", aux_loss),
    "regression-batch2": ("sealed", regression),
    "autoencoder": ("sealed", autoencoder),
    **NETWORK_KINDS,
    **LOOP_KINDS,
    **OBJECTIVE_KINDS,
    **FITTED_KINDS,
}


def path_of(out: str, kind: str, seed: int) -> str:
    return os.path.join(out, KINDS[kind][0], f"{kind}-s{seed}.jsonl.gz")


def _make(args: tuple[str, int, str]) -> str:
    kind, seed, out = args
    torch.set_num_threads(1)
    file = path_of(out, kind, seed)
    os.makedirs(os.path.dirname(file), exist_ok=True)
    try:
        KINDS[kind][1](f"{kind}-s{seed}", seed, file)
    except Exception as exc:  # one kind's failure must not stop the others
        return f"{kind}-s{seed}: {type(exc).__name__}: {exc}"
    return f"{kind}-s{seed}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", action="append", help="kinds whose name contains this")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    kinds = [k for k in KINDS if not args.only or any(o in k for o in args.only)]
    todo = [(k, s, args.out) for k in kinds for s in SEEDS if not os.path.exists(path_of(args.out, k, s))]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(_make, todo):
            print(res, flush=True)
    runs: dict[str, Any] = {}
    for k in KINDS:
        for s in SEEDS:
            file = path_of(args.out, k, s)
            if not os.path.exists(file):
                continue
            with gzip.open(file, "rt", encoding="utf-8") as f:
                steps = [json.loads(line)["step"] for line in f if line.strip()]
            # The fields of the corpus's manifest (eval/corpus/score.ts reads both): every run healthy.
            runs[f"{k}-s{s}"] = {
                "file": os.path.relpath(file, args.out),
                "split": KINDS[k][0],
                "family": k,
                "mechanism": "healthy",
                "seed": s,
                "label": "healthy",
                "onset": None,
                "healthy_phase": True,
                "rows": len(steps),
                "last_step": steps[-1] if steps else None,
            }
    manifest = {
        "generator": "eval/zoo/generate.py",
        "split": {"rule": "by kind, fixed before any replay (eval/zoo/generate.py, KINDS)"},
        "label": "healthy by construction: every alert is a false alarm",
        "runs": runs,
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
