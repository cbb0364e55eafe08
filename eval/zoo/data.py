"""The zoo's data, made in-process from a seed (nothing is downloaded): Gaussian classes, a swiss
roll, small images of ten classes, and text from a Markov chain; and the batch sampler and MLP the
kinds share."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

import torch
from torch import Tensor, nn


def gaussian_classes(
    seed: int, n: int = 4000, dim: int = 20, classes: int = 10, noise: float = 0.1
) -> tuple[Tensor, Tensor]:
    """Ten Gaussian classes in 20-D; a share `noise` of the labels replaced by a random class."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, dim, generator=g) * 1.5
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + torch.randn(n, dim, generator=g)
    flip = torch.rand(n, generator=g) < noise
    return x, torch.where(flip, torch.randint(0, classes, (n,), generator=g), y)


def swiss_roll(seed: int, n: int = 5000) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * 3 * math.pi + 1
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / 5


def sampler(seed: int, *tensors: Tensor, batch: int) -> Iterator[tuple[Tensor, ...]]:
    g = torch.Generator().manual_seed(seed + 7)
    while True:
        idx = torch.randint(0, len(tensors[0]), (batch,), generator=g)
        yield tuple(t[idx] for t in tensors)


def mlp(i: int, o: int, h: int = 64, dropout: float = 0.0) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Dropout(dropout), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


def images(seed: int, n: int = 3000, classes: int = 10, size: int = 12, noise: float = 0.6) -> tuple[Tensor, Tensor]:
    """Ten classes of 1×size×size images: a smooth random template per class, shifted by up to two
    pixels and under Gaussian noise, so that a CNN has something to learn and never quite finishes."""
    g = torch.Generator().manual_seed(seed + 11)
    coarse = torch.randn(classes, 1, size // 3, size // 3, generator=g)
    templates = nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    y = torch.randint(0, classes, (n,), generator=g)
    shifts = torch.randint(-2, 3, (n, 2), generator=g)
    x = torch.stack(
        [torch.roll(templates[c], (int(a), int(b)), (1, 2)) for c, (a, b) in zip(y.tolist(), shifts, strict=True)]
    )
    return x + noise * torch.randn(x.shape, generator=g), y


def markov_text(seed: int, n: int = 40000, vocab: int = 32, order: Literal[1, 2] = 2) -> Tensor:
    """A token stream from a sparse Markov chain: a language with a learnable entropy well below
    log(vocab), for the character-level LMs. Second order by default; first order for a masked LM,
    which must otherwise find the pairs of neighbours a token depends on before it learns anything."""
    g = torch.Generator().manual_seed(seed + 13)
    probs = torch.distributions.Dirichlet(torch.full((vocab,), 0.1)).sample((vocab, vocab) if order == 2 else (vocab,))
    out = torch.empty(n, dtype=torch.long)
    a, b = 0, 1
    choices = torch.rand(n, generator=g)
    cdf = probs.cumsum(-1)
    for i in range(n):
        c = min(int(torch.searchsorted(cdf[a, b] if order == 2 else cdf[b], choices[i])), vocab - 1)
        out[i], a, b = c, b, c
    return out
