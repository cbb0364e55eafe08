"""Local data for the reference trainer; nothing is downloaded.

* Text: the Python standard library's own sources, read from disk (``sysconfig``'s ``stdlib``
  path), as bytes folded to 7-bit ASCII (vocabulary 128).
* Classification: a synthetic task (Gaussian inputs labelled by a random teacher network), with
  symmetric or asymmetric label noise.
"""

from __future__ import annotations

import glob
import os
import sysconfig
from dataclasses import dataclass

import torch
from torch import Tensor

VOCAB = 128


def stdlib_text(max_chars: int) -> bytes:
    """Up to ``max_chars`` bytes of the standard library's ``*.py`` files, in a fixed order."""
    roots = [sysconfig.get_paths()["stdlib"], os.path.dirname(os.__file__)]
    files: list[str] = []
    for root in roots:
        files = sorted(glob.glob(os.path.join(root, "*.py")))
        if files:
            break
    if not files:
        raise RuntimeError(f"no Python sources found under {roots}")
    buf = bytearray()
    for path in files:
        try:
            with open(path, "rb") as f:
                buf += f.read()
        except OSError:
            continue
        if len(buf) >= max_chars:
            break
    return bytes(buf[:max_chars])


@dataclass
class TextData:
    train: Tensor
    val: Tensor

    @classmethod
    def load(cls, max_chars: int, val_fraction: float = 0.1) -> TextData:
        raw = torch.tensor(list(stdlib_text(max_chars)), dtype=torch.uint8)
        ids = raw.clamp(max=VOCAB - 1).to(torch.long)
        split = int(len(ids) * (1 - val_fraction))
        return cls(ids[:split], ids[split:])

    @staticmethod
    def batch(data: Tensor, batch_size: int, block_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        starts = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator)
        offsets = torch.arange(block_size + 1)
        window = data[starts[:, None] + offsets[None, :]]
        return window[:, :-1], window[:, 1:]


@dataclass
class NoisyLabelData:
    x_train: Tensor
    y_train: Tensor  # noisy labels
    y_train_clean: Tensor
    x_val: Tensor
    y_val: Tensor  # clean labels
    noise_fraction: float

    @classmethod
    def make(
        cls,
        *,
        n_train: int,
        n_val: int,
        n_features: int,
        n_classes: int,
        noise: str,
        noise_rate: float,
        teacher_hidden: int,
        seed: int,
    ) -> NoisyLabelData:
        g = torch.Generator().manual_seed(seed)
        w1 = torch.randn(n_features, teacher_hidden, generator=g) / n_features**0.5
        w2 = torch.randn(teacher_hidden, n_classes, generator=g) / teacher_hidden**0.5
        x = torch.randn(n_train + n_val, n_features, generator=g)
        y = (torch.tanh(x @ w1) @ w2).argmax(dim=1)
        y_train = y[:n_train].clone()
        if noise != "none" and noise_rate > 0:
            flip = torch.rand(n_train, generator=g) < noise_rate
            if noise == "symmetric":
                # a uniformly random *other* class
                shift = torch.randint(1, n_classes, (n_train,), generator=g)
                noisy = (y_train + shift) % n_classes
            elif noise == "asymmetric":
                # class k is mistaken for class k + 1 (a fixed confusion, as for similar classes)
                noisy = (y_train + 1) % n_classes
            else:
                raise ValueError(f"noise must be none, symmetric or asymmetric, got {noise!r}")
            y_train = torch.where(flip, noisy, y_train)
        frac = float((y_train != y[:n_train]).float().mean())
        return cls(x[:n_train], y_train, y[:n_train], x[n_train:], y[n_train:], frac)
