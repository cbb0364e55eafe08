"""Classification losses robust to noisy labels (design.md §4).

Notation: z the logits (N, K), p = softmax(z), y the label, K classes. Every function returns the
per-sample loss (N,) in float32 unless ``reduction="mean"``/``"sum"``.

A loss is *symmetric* when Σₖ L(z, k) is the same constant for every z; symmetric losses are
provably robust to symmetric label noise (Ghosh et al., 2017). Symmetric here: MAE, RCE, NCE,
NCE+RCE, the multi-class unhinged loss, SGCE and α-MAE.

Sources: MAE (Ghosh et al. 2017), GCE (Zhang & Sabuncu 2018), SCE/RCE (Wang et al. 2019), NCE and
the active–passive NCE+RCE (Ma et al. 2020), focal (Lin et al. 2017). The symmetrization paper
("Symmetrization of Loss Functions for Robust Training of Neural Networks in the Presence of Noisy
Labels", arXiv 2605.20347) is available as a PDF only, without code: the multi-class unhinged loss,
SGCE and α-MAE below are *our reconstruction* from design.md §4, not the authors' code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Reduction = Literal["none", "mean", "sum"]
LossFn = Callable[[Tensor, Tensor], Tensor]

#: log of the clipped zero in RCE's one-hot "prediction" (log 0 := A). The public SCE/APL
#: implementations clamp the one-hot label to 1e-4, so A = log 1e-4 ≈ −9.21; the SCE paper's text
#: uses A = −4. We use A = log 1e-4.
RCE_A = math.log(1e-4)


def _reduce(loss: Tensor, reduction: Reduction) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _prep(logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    z = logits.to(torch.float32)
    return z, labels.to(device=z.device, dtype=torch.long)


def _p_y(z: Tensor, y: Tensor) -> Tensor:
    return torch.softmax(z, dim=1).gather(1, y[:, None]).squeeze(1)


def cross_entropy(logits: Tensor, labels: Tensor, reduction: Reduction = "mean") -> Tensor:
    """CE = −log p_y."""
    z, y = _prep(logits, labels)
    return _reduce(F.cross_entropy(z, y, reduction="none"), reduction)


def mae(logits: Tensor, labels: Tensor, reduction: Reduction = "mean") -> Tensor:
    """MAE in its reduced form 1 − p_y (the L1 distance ‖e_y − p‖₁ is 2(1 − p_y)). Symmetric:
    Σₖ = K − 1."""
    z, y = _prep(logits, labels)
    return _reduce(1.0 - _p_y(z, y), reduction)


def gce(logits: Tensor, labels: Tensor, q: float = 0.7, reduction: Reduction = "mean") -> Tensor:
    """Generalized cross entropy (1 − p_y^q)/q: CE as q → 0, MAE at q = 1."""
    if not 0 < q <= 1:
        raise ValueError("GCE needs 0 < q ≤ 1")
    z, y = _prep(logits, labels)
    return _reduce((1.0 - _p_y(z, y).pow(q)) / q, reduction)


def rce(logits: Tensor, labels: Tensor, reduction: Reduction = "mean", a: float = RCE_A) -> Tensor:
    """Reverse cross entropy −Σₖ pₖ log qₖ with q the one-hot label whose log 0 is clipped to A:
    RCE = −A(1 − p_y), A = log 1e-4 (public implementations; the paper's text uses A = −4).
    Symmetric: Σₖ = −A(K − 1)."""
    z, y = _prep(logits, labels)
    return _reduce(-a * (1.0 - _p_y(z, y)), reduction)


def sce(logits: Tensor, labels: Tensor, alpha: float = 0.1, beta: float = 1.0, reduction: Reduction = "mean") -> Tensor:
    """Symmetric cross entropy α·CE + β·RCE (A = log 1e-4)."""
    return _reduce(alpha * cross_entropy(logits, labels, "none") + beta * rce(logits, labels, "none"), reduction)


def nce(logits: Tensor, labels: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Normalized cross entropy (−log p_y)/(−Σₖ log pₖ). Symmetric: Σₖ = 1."""
    z, y = _prep(logits, labels)
    logp = torch.log_softmax(z, dim=1)
    return _reduce(logp.gather(1, y[:, None]).squeeze(1) / logp.sum(dim=1), reduction)


def nce_rce(
    logits: Tensor, labels: Tensor, alpha: float = 1.0, beta: float = 1.0, reduction: Reduction = "mean"
) -> Tensor:
    """The active–passive loss α·NCE + β·RCE. Symmetric: Σₖ = α − β·A(K − 1)."""
    return _reduce(alpha * nce(logits, labels, "none") + beta * rce(logits, labels, "none"), reduction)


def focal(logits: Tensor, labels: Tensor, gamma: float = 2.0, reduction: Reduction = "mean") -> Tensor:
    """Focal loss −(1 − p_y)^γ log p_y (CE at γ = 0)."""
    z, y = _prep(logits, labels)
    logp_y = torch.log_softmax(z, dim=1).gather(1, y[:, None]).squeeze(1)
    return _reduce(-((1.0 - logp_y.exp()).pow(gamma)) * logp_y, reduction)


def unhinged(logits: Tensor, labels: Tensor, reduction: Reduction = "mean", normalize: bool = True) -> Tensor:
    """Multi-class unhinged loss L = −z_y + (1/K)Σₖ zₖ (reconstruction; see the module docstring).
    Linear in z and so unbounded below: the logits are L2-normalised per sample first
    (``normalize=True``), which bounds L to [−1, 1]. Symmetric: Σₖ = 0."""
    z, y = _prep(logits, labels)
    if normalize:
        z = z / z.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return _reduce(-z.gather(1, y[:, None]).squeeze(1) + z.mean(dim=1), reduction)


def sgce(logits: Tensor, labels: Tensor, q: float = 0.7, reduction: Reduction = "mean") -> Tensor:
    """Symmetrized GCE (reconstruction): SGCE_q = (1/q)·[(1/K)Σₖ pₖ^q − p_y^q], i.e. GCE_q minus its
    mean over the K labels. → unhinged on log-probabilities as q → 0; MAE − (K−1)/K at q = 1.
    Symmetric: Σₖ = 0."""
    if q <= 0:
        raise ValueError("SGCE needs q > 0")
    z, y = _prep(logits, labels)
    pq = torch.softmax(z, dim=1).pow(q)
    return _reduce((pq.mean(dim=1) - pq.gather(1, y[:, None]).squeeze(1)) / q, reduction)


def alpha_mae(logits: Tensor, labels: Tensor, alpha: float = 1.0, reduction: Reduction = "mean") -> Tensor:
    """α-MAE (reconstruction): α·(1 − softmax(z/α)_y). MAE at α = 1; as α → ∞ it tends to
    unhinged/K + const (β-smoothness ∝ 1/α). Symmetric: Σₖ = α(K − 1)."""
    if alpha <= 0:
        raise ValueError("α-MAE needs α > 0")
    z, y = _prep(logits, labels)
    return _reduce(alpha * (1.0 - _p_y(z / alpha, y)), reduction)


def symmetrize(loss: LossFn, num_classes: int) -> LossFn:
    """L − (1/K)Σₖ L(z, k): a symmetric loss from any per-sample loss ``loss(logits, labels)``
    returning (N,). Costs K evaluations."""

    def symmetric(logits: Tensor, labels: Tensor) -> Tensor:
        n = logits.shape[0]
        total = torch.zeros(n, dtype=torch.float32, device=logits.device)
        for k in range(num_classes):
            total = total + loss(logits, torch.full((n,), k, dtype=torch.long, device=logits.device))
        return loss(logits, labels) - total / num_classes

    return symmetric


#: Name → (function, its keyword parameters and defaults). Names as the trainer's ``loss`` option.
LOSSES: dict[str, tuple[Callable[..., Tensor], dict[str, float]]] = {
    "ce": (cross_entropy, {}),
    "mae": (mae, {}),
    "gce": (gce, {"q": 0.7}),
    "sce": (sce, {"alpha": 0.1, "beta": 1.0}),
    "rce": (rce, {}),
    "nce": (nce, {}),
    "nce+rce": (nce_rce, {"alpha": 1.0, "beta": 1.0}),
    "focal": (focal, {"gamma": 2.0}),
    "unhinged": (unhinged, {}),
    "sgce": (sgce, {"q": 0.7}),
    "alpha-mae": (alpha_mae, {"alpha": 1.0}),
}

SYMMETRIC = frozenset({"mae", "rce", "nce", "nce+rce", "unhinged", "sgce", "alpha-mae"})


def make_loss(name: str, **params: Any) -> Callable[[Tensor, Tensor], Tensor]:
    """The mean-reduced loss ``name`` with ``params`` overriding its defaults (unknown ones are an
    error)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; one of {', '.join(sorted(LOSSES))}")
    fn, defaults = LOSSES[name]
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"loss {name!r} takes {sorted(defaults) or 'no parameters'}, not {sorted(unknown)}")
    kwargs = {**defaults, **params}

    def loss(logits: Tensor, labels: Tensor) -> Tensor:
        return fn(logits, labels, reduction="mean", **kwargs)

    return loss
