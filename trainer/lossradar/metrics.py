"""Metrics computed in the trainer, on the training device, in float32 whatever the training dtype
(design.md §4). Every function returns tensors and never synchronises with the host: the caller
stacks what it wants to log and moves it to the host once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

Norm = Literal["l1", "l2", "max"]

#: Edges of the spectral-alignment histogram: a = ⟨x, v₁⟩/‖x‖ lies in [−1, 1].
SA_HIST_BINS = 20


@dataclass(frozen=True)
class CalibrationBins:
    """Per-bin statistics exactly as torchmetrics computes them: ``n_bins + 1`` slots, the last one
    holding only confidences equal to 1.0 (``bucketize(right=True) − 1`` puts them there)."""

    edges: Tensor  # (n_bins + 1,) linspace(0, 1)
    accuracy: Tensor  # (n_bins + 1,) mean accuracy per slot, 0 when empty
    confidence: Tensor  # (n_bins + 1,) mean confidence per slot, 0 when empty
    counts: Tensor  # (n_bins + 1,) samples per slot
    proportion: Tensor  # (n_bins + 1,) counts / N


def _as_float32(x: Tensor) -> Tensor:
    return x.detach().to(torch.float32)


def top_label(probs: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Confidence of the top label and whether it is right (float32), for (N, C) probabilities."""
    probs = _as_float32(probs)
    confidences, predictions = probs.max(dim=1)
    return confidences, predictions.eq(labels.to(predictions.device)).to(torch.float32)


def calibration_bins(
    confidences: Tensor, accuracies: Tensor, n_bins: int = 15, weights: Tensor | None = None
) -> CalibrationBins:
    """Binning of torchmetrics' ``_binning_bucketize``: bins from ``linspace(0, 1, n_bins + 1)``,
    ``bucketize(right=True) − 1`` (bins are [lo, hi)), empty bins report 0. ``weights`` (0 or 1 per
    sample) leave samples out without a host sync (an ``ignore_index``)."""
    if n_bins < 1:
        raise ValueError("n_bins must be ≥ 1")
    confidences = _as_float32(confidences).reshape(-1)
    accuracies = _as_float32(accuracies).reshape(-1)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float32, device=confidences.device)
    indices = torch.bucketize(confidences, edges, right=True) - 1
    # A confidence below 0 (impossible for probabilities) would index −1: keep it in bin 0.
    indices = indices.clamp_(0, n_bins)
    counts = torch.zeros(n_bins + 1, dtype=torch.float32, device=confidences.device)
    conf_sum = torch.zeros_like(counts)
    acc_sum = torch.zeros_like(counts)
    if weights is None:
        counts.scatter_add_(0, indices, torch.ones_like(confidences))
        conf_sum.scatter_add_(0, indices, confidences)
        acc_sum.scatter_add_(0, indices, accuracies)
    else:
        w = _as_float32(weights).reshape(-1)
        counts.scatter_add_(0, indices, w)
        conf_sum.scatter_add_(0, indices, confidences * w)
        acc_sum.scatter_add_(0, indices, accuracies * w)
    confidence = torch.nan_to_num(conf_sum / counts)
    accuracy = torch.nan_to_num(acc_sum / counts)
    proportion = counts / (counts.sum() if weights is None else counts.sum().clamp_min(1.0))
    return CalibrationBins(edges, accuracy, confidence, counts, proportion)


def calibration_error_from_bins(bins: CalibrationBins, norm: Norm = "l1") -> Tensor:
    """torchmetrics' ``_ce_compute`` (without debiasing): l1 = ECE, max = MCE, l2 = RMS."""
    gap = (bins.accuracy - bins.confidence).abs()
    if norm == "l1":
        return (gap * bins.proportion).sum()
    if norm == "max":
        return gap.max()
    if norm == "l2":
        return ((gap**2) * bins.proportion).sum().sqrt()
    raise ValueError(f"norm must be 'l1', 'l2' or 'max', got {norm!r}")


def expected_calibration_error(probs: Tensor, labels: Tensor, n_bins: int = 15, norm: Norm = "l1") -> Tensor:
    """Top-label calibration error of (N, C) probabilities against (N,) integer labels, exactly as
    ``torchmetrics.functional.classification.multiclass_calibration_error`` computes it
    (``norm="l1"``: ECE, ``"max"``: MCE, ``"l2"``: RMS calibration error). A 0-d float32 tensor."""
    confidences, accuracies = top_label(probs, labels)
    return calibration_error_from_bins(calibration_bins(confidences, accuracies, n_bins), norm)


def reliability(probs: Tensor, labels: Tensor, n_bins: int = 15) -> CalibrationBins:
    """The bins behind :func:`expected_calibration_error`, for a reliability diagram."""
    confidences, accuracies = top_label(probs, labels)
    return calibration_bins(confidences, accuracies, n_bins)


def diagram_bins(bins: CalibrationBins) -> tuple[Tensor, Tensor, Tensor]:
    """``n_bins`` bins for display: the extra slot of confidences equal to 1.0 folded into the last
    bin [1 − 1/n, 1]. Returns (confidence, accuracy, counts)."""
    counts = bins.counts[:-1].clone()
    conf_sum = (bins.confidence * bins.counts)[:-1].clone()
    acc_sum = (bins.accuracy * bins.counts)[:-1].clone()
    counts[-1] += bins.counts[-1]
    conf_sum[-1] += bins.confidence[-1] * bins.counts[-1]
    acc_sum[-1] += bins.accuracy[-1] * bins.counts[-1]
    return torch.nan_to_num(conf_sum / counts), torch.nan_to_num(acc_sum / counts), counts


def entropy(logits: Tensor) -> Tensor:
    """Shannon entropy of softmax(logits) along the last dimension, in nats, float32, one value per
    row: ``logits`` of shape (..., C) gives (...)."""
    logits = _as_float32(logits)
    logp = torch.log_softmax(logits, dim=-1)
    # p·log p with the 0·log 0 = 0 convention (exp(-inf) * -inf would be nan)
    plogp = torch.where(logp.isneginf(), torch.zeros_like(logp), logp.exp() * logp)
    return -plogp.sum(dim=-1)


def normalized_entropy(logits: Tensor) -> Tensor:
    """Mean entropy divided by log C (1: uniform predictions, 0: one-hot)."""
    c = logits.shape[-1]
    return entropy(logits).mean() / math.log(c) if c > 1 else torch.zeros((), device=logits.device)


def _start_vector(n_in: int, device: torch.device) -> Tensor:
    g = torch.Generator(device="cpu").manual_seed(0x5A17 + n_in)
    v = torch.randn(n_in, generator=g, dtype=torch.float32)
    unit: Tensor = (v / v.norm()).to(device)
    return unit


Matrices = Tensor | Sequence[Tensor]
#: Tests set this to exercise the accelerator path (one ``bmm``) on the CPU.
BMM_ON_CPU = False


def _use_bmm(device: torch.device) -> bool:
    return device.type != "cpu" or BMM_ON_CPU


def _batched_mv(ms: Matrices, v: Tensor, transpose: bool = False) -> Tensor:
    """(G, n) results of G matrix–vector products. One ``bmm`` on an accelerator (few kernels
    whatever G); on the CPU a loop of ``mv``, because CPU ``bmm`` with a vector operand is several
    times slower there than G separate products."""
    if _use_bmm(v.device):
        m = ms if isinstance(ms, Tensor) else torch.stack(list(ms))
        if transpose:
            m = m.transpose(1, 2)
        out: Tensor = torch.bmm(m, v.unsqueeze(-1)).squeeze(-1)
        return out
    return torch.stack([(m.t() if transpose else m) @ v[g] for g, m in enumerate(ms)])


def power_iteration_batched(weights: Matrices, v: Tensor | None = None, iters: int | None = None) -> Tensor:
    """Principal right singular vectors of G matrices of one shape (out, in) — a (G, out, in)
    tensor or a sequence — float32, unit norm, shape (G, in): power iteration u = Wv/‖Wv‖,
    v = Wᵀu/‖Wᵀu‖ warm-started from ``v`` (G, in). Cold (``v`` is None) it starts from a fixed
    pseudo-random vector and runs 30 iterations; warm it runs one (``iters`` overrides). A row
    whose result is not finite keeps its start vector, without a host sync."""
    ws: Matrices = _as_float32(weights) if isinstance(weights, Tensor) else [_as_float32(w) for w in weights]
    g = len(ws)
    n_in = ws[0].shape[-1]
    device = ws[0].device
    if v is None:
        v = _start_vector(n_in, device).expand(g, n_in).clone()
        steps = 30 if iters is None else iters
    else:
        v = v.to(device=device, dtype=torch.float32)
        steps = 1 if iters is None else iters
    if _use_bmm(device) and not isinstance(ws, Tensor):
        ws = torch.stack(list(ws))
    start = v
    for _ in range(steps):
        u = _batched_mv(ws, v)
        u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-30)
        v = _batched_mv(ws, u, transpose=True)
        v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-30)
    ok = torch.isfinite(v).all(dim=1, keepdim=True)
    return torch.where(ok, v, start)


def power_iteration(weight: Tensor, v: Tensor | None = None, iters: int | None = None) -> Tensor:
    """Principal right singular vector of one ``weight`` (out, in); see :func:`power_iteration_batched`."""
    w = _as_float32(weight)
    w = w.reshape(w.shape[0], -1)
    out: Tensor = power_iteration_batched(w[None], None if v is None else v[None], iters)[0]
    return out


def alignment(inputs: Tensor, v: Tensor) -> Tensor:
    """a = ⟨x, v⟩/‖x‖ for each row x of ``inputs`` (..., in), float32, in [−1, 1]."""
    x = _as_float32(inputs)
    x = x.reshape(-1, x.shape[-1])
    norms = x.norm(dim=1).clamp_min(1e-12)
    a: Tensor = ((x @ v.to(x.device, torch.float32)) / norms).clamp(-1.0, 1.0)
    return a


def spectral_alignment_batched(
    weights: Matrices,
    inputs: Tensor,
    v: Tensor | None = None,
    *,
    iters: int | None = None,
    bins: int = SA_HIST_BINS,
) -> tuple[dict[str, Tensor], Tensor]:
    """:func:`spectral_alignment` for G layers of the same shape at once, in a fixed number of
    kernels whatever G on an accelerator: ``weights`` (G, out, in) or a sequence of G (out, in),
    ``inputs`` (G, N, in), ``v`` (G, in). Stats have a leading G dimension (``hist`` is (G, bins));
    returns ``(stats, v₁)``."""
    v1 = power_iteration_batched(weights, v, iters)
    x = _as_float32(inputs)
    norms = x.norm(dim=2).clamp_min(1e-12)
    a = (_batched_mv(x, v1) / norms).clamp(-1.0, 1.0)  # (G, N)
    finite = torch.isfinite(a)
    # torch.sign(nan) is 0, which would read as "balanced": non-finite inputs give a NaN diversity.
    diversity = 1.0 - torch.sign(a).mean(dim=1).abs()
    sign_diversity = torch.where(finite.all(dim=1), diversity, torch.full_like(diversity, math.nan))
    mean_abs = a.abs().mean(dim=1)
    # histogram over equal bins of [−1, 1] (torch.histc's binning: a = 1 goes to the last bin),
    # all layers in one scatter; non-finite values are not counted
    g = a.shape[0]
    index = ((torch.nan_to_num(a, nan=0.0) + 1.0) * (bins / 2)).floor().clamp(0, bins - 1).to(torch.long)
    index = index + torch.arange(g, device=a.device)[:, None] * bins
    hist = torch.zeros(g * bins, dtype=torch.float32, device=a.device)
    hist.scatter_add_(0, index.reshape(-1), finite.to(torch.float32).reshape(-1))
    edges = torch.linspace(-1.0, 1.0, bins + 1, device=a.device)
    stats = {"sign_diversity": sign_diversity, "mean_abs": mean_abs, "hist": hist.reshape(g, bins), "edges": edges}
    return stats, v1


def top_singular_values_batched(weights: Matrices, v1: Tensor) -> Tensor:
    """σ₁ ≈ ‖W v₁‖ of G matrices of one shape, given their principal right singular vectors
    (G, in): the power iteration's own by-product, one matrix–vector product per layer. Its growth
    is the "spectral norm grows before the loss blows up" signal of docs/early-warning.md."""
    ws: Matrices = _as_float32(weights) if isinstance(weights, Tensor) else [_as_float32(w) for w in weights]
    out: Tensor = _batched_mv(ws, v1.to(torch.float32)).norm(dim=1)
    return out


def probe_vector(n_in: int, device: torch.device) -> Tensor:
    """The fixed unit vector r of :func:`weight_probe_batched` (a seed apart from v₁'s start)."""
    g = torch.Generator(device="cpu").manual_seed(0x0BE5 + n_in)
    v = torch.randn(n_in, generator=g, dtype=torch.float32)
    unit: Tensor = (v / v.norm()).to(device)
    return unit


def weight_probe_batched(weights: Matrices) -> Tensor:
    """W r for a fixed random unit r, (G, out): a sketch of each weight, so that
    ‖W_t r − W_s r‖ / ‖W_t r‖ estimates the update-to-weight ratio ‖W_t − W_s‖/‖W_t‖ between two
    measurements without keeping a copy of the weights (E‖A r‖² = ‖A‖²_F / in for a random unit r,
    the same factor for both norms)."""
    ws: Matrices = _as_float32(weights) if isinstance(weights, Tensor) else [_as_float32(w) for w in weights]
    g = len(ws)
    n_in = ws[0].shape[-1]
    r = probe_vector(n_in, ws[0].device).expand(g, n_in).contiguous()
    out: Tensor = _batched_mv(ws, r)
    return out


def spectral_alignment(
    weight: Tensor,
    inputs: Tensor,
    v: Tensor | None = None,
    *,
    iters: int | None = None,
    bins: int = SA_HIST_BINS,
) -> tuple[dict[str, Tensor], Tensor]:
    """Spectral alignment of a linear layer's inputs (arXiv 2510.04202 as reconstructed in
    design.md §4). ``weight`` is (out, in), ``inputs`` (..., in). Keeps v₁, the principal right
    singular vector, by power iteration warm-started from ``v``; for each input row
    a = ⟨x, v₁⟩/‖x‖. Returns ``(stats, v₁)`` where stats are float32 tensors on the device:

    * ``sign_diversity``: 1 − |mean(sign a)| (1: balanced, 0: all inputs on one side; it does not
      depend on v₁'s sign; NaN when an input is not finite),
    * ``mean_abs``: mean |a|,
    * ``hist``: counts of a over ``bins`` equal bins of [−1, 1] (``edges``: their bin edges).
    """
    w = _as_float32(weight)
    w = w.reshape(w.shape[0], -1)
    x = _as_float32(inputs).reshape(1, -1, w.shape[1])
    stats, v1 = spectral_alignment_batched(w[None], x, None if v is None else v[None], iters=iters, bins=bins)
    single = {k: (t if k == "edges" else t[0]) for k, t in stats.items()}
    return single, v1[0]
