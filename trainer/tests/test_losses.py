"""Each loss on a hand-computed case; Σₖ L(f(x), k) constant for the symmetric ones."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from lossradar_trainer import losses

# z = [0, ln 2, ln 3] → p = [1/6, 2/6, 3/6]; label 2 has p_y = 1/2
Z = torch.tensor([[0.0, math.log(2), math.log(3)]])
Y = torch.tensor([2])
A = math.log(1e-4)


def value(fn: Callable[..., Tensor], **kw: float) -> float:
    return fn(Z, Y, reduction="none", **kw).item()


def test_hand_computed_values() -> None:
    assert value(losses.cross_entropy) == pytest.approx(math.log(2), rel=1e-6)
    assert value(losses.mae) == pytest.approx(0.5, rel=1e-6)
    assert value(losses.gce, q=0.7) == pytest.approx((1 - 0.5**0.7) / 0.7, rel=1e-6)
    assert value(losses.rce) == pytest.approx(-A * 0.5, rel=1e-6)
    assert value(losses.rce) == pytest.approx(4.605170, rel=1e-6)
    assert value(losses.sce, alpha=0.1, beta=1.0) == pytest.approx(0.1 * math.log(2) - A * 0.5, rel=1e-6)
    nce = math.log(2) / (math.log(6) + math.log(3) + math.log(2))  # ln 2 / ln 36
    assert value(losses.nce) == pytest.approx(nce, rel=1e-6)
    assert value(losses.nce_rce, alpha=1.0, beta=1.0) == pytest.approx(nce - A * 0.5, rel=1e-6)
    assert value(losses.focal, gamma=2.0) == pytest.approx(0.25 * math.log(2), rel=1e-6)
    assert value(losses.focal, gamma=0.0) == pytest.approx(math.log(2), rel=1e-6)
    norm = math.hypot(math.log(2), math.log(3))
    assert value(losses.unhinged) == pytest.approx((-math.log(3) + (math.log(2) + math.log(3)) / 3) / norm, rel=1e-6)
    assert losses.unhinged(Z, Y, reduction="none", normalize=False).item() == pytest.approx(
        -math.log(3) + math.log(6) / 3, rel=1e-6
    )
    q = 0.7
    sgce = ((1 / 6) ** q + (2 / 6) ** q + (3 / 6) ** q) / 3 - 0.5**q
    assert value(losses.sgce, q=q) == pytest.approx(sgce / q, rel=1e-6)
    p_y = math.sqrt(3) / (1 + math.sqrt(2) + math.sqrt(3))  # softmax(z/2)
    assert value(losses.alpha_mae, alpha=2.0) == pytest.approx(2 * (1 - p_y), rel=1e-6)
    assert value(losses.alpha_mae, alpha=1.0) == pytest.approx(value(losses.mae), rel=1e-6)


def test_limits_named_in_the_docstrings() -> None:
    g = torch.Generator().manual_seed(0)
    z, y = torch.randn(32, 5, generator=g), torch.randint(5, (32,), generator=g)
    # GCE → CE as q → 0; GCE = MAE at q = 1
    assert torch.allclose(losses.gce(z, y, q=1e-3, reduction="none"), losses.cross_entropy(z, y, "none"), rtol=1e-2)
    assert torch.allclose(losses.gce(z, y, q=1.0, reduction="none"), losses.mae(z, y, "none"), atol=1e-6)
    # SGCE at q = 1 is MAE − (K − 1)/K
    assert torch.allclose(losses.sgce(z, y, q=1.0, reduction="none"), losses.mae(z, y, "none") - 4 / 5, atol=1e-6)


SYMMETRIC: dict[str, tuple[Callable[..., Tensor], dict[str, float], Callable[[int], float]]] = {
    "mae": (losses.mae, {}, lambda k: k - 1),
    "rce": (losses.rce, {}, lambda k: -A * (k - 1)),
    "nce": (losses.nce, {}, lambda k: 1.0),
    "nce+rce": (losses.nce_rce, {"alpha": 1.0, "beta": 0.5}, lambda k: 1.0 - 0.5 * A * (k - 1)),
    "unhinged": (losses.unhinged, {}, lambda k: 0.0),
    "sgce": (losses.sgce, {"q": 0.7}, lambda k: 0.0),
    "sgce-small-q": (losses.sgce, {"q": 0.05}, lambda k: 0.0),
    "alpha-mae": (losses.alpha_mae, {"alpha": 3.0}, lambda k: 3.0 * (k - 1)),
}


@pytest.mark.parametrize("name", sorted(SYMMETRIC))
@pytest.mark.parametrize("k", [2, 3, 10])
def test_symmetric_losses_sum_to_a_constant(name: str, k: int) -> None:
    fn, kw, constant = SYMMETRIC[name]
    g = torch.Generator().manual_seed(k)
    z = torch.randn(64, k, generator=g) * torch.logspace(-1, 1, 64)[:, None]  # small and large logits
    total = torch.zeros(64)
    for label in range(k):
        total += fn(z, torch.full((64,), label), reduction="none", **kw)
    assert torch.allclose(total, torch.full((64,), float(constant(k))), atol=1e-4, rtol=1e-5), (name, total[:4])


@pytest.mark.parametrize("name", ["ce", "gce", "focal", "sce"])
def test_non_symmetric_losses_are_not(name: str) -> None:
    fn, defaults = losses.LOSSES[name]
    z = torch.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    sums = [sum(fn(z, torch.full((2,), c), reduction="none", **defaults)[i].item() for c in range(3)) for i in range(2)]
    assert abs(sums[0] - sums[1]) > 1e-3


def test_symmetrize_makes_any_loss_symmetric() -> None:
    sym = losses.symmetrize(lambda z, y: losses.cross_entropy(z, y, "none"), 4)
    z = torch.randn(16, 4)
    total = sum(sym(z, torch.full((16,), c)) for c in range(4))
    assert isinstance(total, Tensor)
    assert torch.allclose(total, torch.zeros(16), atol=1e-5)


def test_make_loss_and_gradients() -> None:
    for name, (_, defaults) in losses.LOSSES.items():
        fn = losses.make_loss(name)
        z = torch.randn(8, 5, requires_grad=True)
        out = fn(z, torch.randint(5, (8,)))
        assert out.shape == () and torch.isfinite(out)
        out.backward()
        assert z.grad is not None and torch.isfinite(z.grad).all(), name
        if defaults:
            losses.make_loss(name, **defaults)
    with pytest.raises(ValueError, match="unknown loss"):
        losses.make_loss("hinge")
    with pytest.raises(ValueError, match="takes"):
        losses.make_loss("ce", q=0.5)
    bf16 = losses.make_loss("gce")(torch.randn(4, 3, dtype=torch.bfloat16), torch.tensor([0, 1, 2, 0]))
    assert bf16.dtype == torch.float32
