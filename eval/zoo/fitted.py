"""The zoo's fifth round (docs/early-warning.md, "The zoo"): healthy runs whose loss is fitted
under its floor (a tenth of its first rows' size, src/detect/lossScale.ts) and then lifted, by the
way the script draws its batches or refreshes its targets, for a row or a few at a time. The
question item 24 answered on development data (is a fitted loss's one-row spike a warning?) is
judged here on kinds written, and every run made, after item 24 was frozen: all four are sealed,
replayed once. Multi-task training that samples its task per batch, batches grouped by length
(difficulty), metric learning whose hard negatives are mined again every 100 steps, and
self-distillation whose teacher is replaced by the student every 250 steps."""

from __future__ import annotations

import copy

import torch
from data import gaussian_classes, mlp, sampler
from recording import Kind, Split, recording
from torch import nn


def multitask_sampled(name: str, seed: int, out: str, steps: int = 1500, rare: float = 0.05) -> None:
    """Multi-task learning with the task drawn per batch in proportion to its data (as MT-DNN and
    T5's mixtures do): a shared body, a head per task; 95 % of the batches are of a task fitted near
    0, 5 % of a noisier one whose loss stays near 1. The logged loss is the batch's task's, so it
    jumps for the rows that draw the rare task, now and then two in a row."""
    torch.manual_seed(seed)
    xa, ya = gaussian_classes(seed, noise=0.0)
    xb, yb = gaussian_classes(seed + 100, noise=0.3, classes=4)
    body = mlp(20, 64, 64)
    heads = nn.ModuleList([nn.Linear(64, 10), nn.Linear(64, 4)])
    model = nn.ModuleList([body, heads])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    batches = [sampler(seed, xa, ya, batch=64), sampler(seed + 1, xb, yb, batch=64)]
    g = torch.Generator().manual_seed(seed + 53)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            task = int(torch.rand((), generator=g) < rare)
            x, y = next(batches[task])
            rec.step(step, nn.functional.cross_entropy(heads[task](torch.relu(body(x))), y), clip=1.0, task=task)


def length_grouped(name: str, seed: int, out: str, steps: int = 1500) -> None:
    """Batches grouped by length (Hugging Face's `group_by_length`), here by difficulty: regression
    targets under four noise levels, each batch drawn from one level at random, so the per-batch
    MSE is fitted to each level's own noise and moves between them row to row."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 59)
    w = torch.randn(16, 1, generator=g)
    groups = []
    for k, sigma in enumerate((0.01, 0.03, 0.1, 0.3)):
        x = torch.randn(2000, 16, generator=g)
        groups.append(sampler(seed + k, x, torch.tanh(x @ w) + sigma * torch.randn(2000, 1, generator=g), batch=32))
    net = mlp(16, 1, 64)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    share = torch.tensor([0.4, 0.3, 0.2, 0.1])
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            k = int(torch.multinomial(share, 1, generator=g))
            x, y = next(groups[k])
            rec.step(step, nn.functional.mse_loss(net(x), y), group=k)


def hard_negative_refresh(name: str, seed: int, out: str, steps: int = 1500, every: int = 100) -> None:
    """Metric learning with a triplet margin loss whose negatives are mined offline: every 100 steps
    each anchor's hardest negative among 256 candidates is found with the current embedding, and
    the triplets of the next 100 steps use it, so the loss falls between refreshes and steps up at
    each."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed, noise=0.0, classes=8)
    net = mlp(20, 16, 64)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed + 61)
    by_class = [torch.nonzero(y == c)[:, 0] for c in range(8)]
    hardest = torch.randint(0, len(x), (len(x),), generator=g)
    with recording(name, out, net, opt) as rec:
        for step in range(steps):
            if step % every == 0:
                with torch.no_grad():
                    emb = nn.functional.normalize(net(x), dim=-1)
                    cand = torch.randint(0, len(x), (len(x), 256), generator=g)
                    dist = ((emb[:, None, :] - emb[cand]) ** 2).sum(-1)
                    dist[y[cand] == y[:, None]] = float("inf")
                    hardest = cand.gather(1, dist.argmin(1, keepdim=True))[:, 0]
            a = torch.randint(0, len(x), (64,), generator=g)
            pos = torch.stack([c[torch.randint(0, len(c), (), generator=g)] for c in (by_class[int(i)] for i in y[a])])
            ea, ep, en = (nn.functional.normalize(net(x[i]), dim=-1) for i in (a, pos, hardest[a]))
            rec.step(step, nn.functional.triplet_margin_loss(ea, ep, en, margin=0.5))


def born_again(name: str, seed: int, out: str, steps: int = 1500, every: int = 250) -> None:
    """Self-distillation in generations (born-again networks, Furlanello et al. 2018): the student
    fits the labels and its teacher's softened predictions (T = 2); every 250 steps the teacher is
    replaced by the student, so the distillation target moves and the loss steps up at each."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed, noise=0.05)
    student = mlp(20, 10)
    teacher = copy.deepcopy(student).requires_grad_(False)
    opt = torch.optim.Adam(student.parameters(), lr=1e-3)
    batches = sampler(seed, x, y, batch=64)
    with recording(name, out, student, opt) as rec:
        for step in range(steps):
            if step > 0 and step % every == 0:
                teacher.load_state_dict(student.state_dict())
            xb, yb = next(batches)
            logits = student(xb)
            with torch.no_grad():
                soft = (teacher(xb) / 2).softmax(-1)
            kl = nn.functional.kl_div((logits / 2).log_softmax(-1), soft, reduction="batchmean") * 4
            rec.step(step, nn.functional.cross_entropy(logits, yb) + (kl if step >= every else 0 * kl))


#: kind -> (split, how it trains), the fifth round: all sealed, written and made after item 24 was
#: frozen, replayed once.
FITTED_KINDS: dict[str, tuple[Split, Kind]] = {
    "multitask-sampled": ("sealed", multitask_sampled),
    "length-grouped": ("sealed", length_grouped),
    "hard-negative-refresh": ("sealed", hard_negative_refresh),
    "born-again": ("sealed", born_again),
}
