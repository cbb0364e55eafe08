"""ECE/MCE against torchmetrics and by hand, entropy against numpy, spectral alignment against a full SVD."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from lossradar import metrics


def test_ece_mce_by_hand() -> None:
    # conf 0.9 ✓, 0.85 ✗ in bin [0.8, 1.0); conf 0.7 ✓, 0.65 ✗ in bin [0.6, 0.8)
    probs = torch.tensor([[0.9, 0.1], [0.15, 0.85], [0.3, 0.7], [0.65, 0.35]])
    labels = torch.tensor([0, 0, 1, 1])
    # bin 4: acc 0.5, conf 0.875, weight 0.5; bin 3: acc 0.5, conf 0.675, weight 0.5
    assert metrics.expected_calibration_error(probs, labels, n_bins=5).item() == pytest.approx(
        0.5 * 0.375 + 0.5 * 0.175, abs=1e-6
    )
    mce = metrics.expected_calibration_error(probs, labels, n_bins=5, norm="max")
    assert mce.item() == pytest.approx(0.375, abs=1e-6)
    assert metrics.expected_calibration_error(probs, labels, n_bins=5, norm="l2").item() == pytest.approx(
        math.sqrt(0.5 * 0.375**2 + 0.5 * 0.175**2), abs=1e-6
    )
    bins = metrics.reliability(probs, labels, n_bins=5)
    assert bins.counts.tolist() == [0, 0, 0, 2, 2, 0]
    assert bins.accuracy.tolist()[3:5] == [0.5, 0.5]
    assert bins.confidence[3:5].tolist() == pytest.approx([0.675, 0.875])
    conf, acc, counts = metrics.diagram_bins(bins)
    assert counts.tolist() == [0, 0, 0, 2, 2] and conf.shape == acc.shape == (5,)


def test_perfectly_confident_samples_use_torchmetrics_extra_bin() -> None:
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 0, 0])  # confidence exactly 1.0 everywhere, one wrong
    bins = metrics.reliability(probs, labels, n_bins=15)
    assert bins.counts[-1].item() == 3  # the (n_bins + 1)-th slot, as bucketize(right=True) - 1 gives
    ece = metrics.expected_calibration_error(probs, labels)
    ref = multiclass_calibration_error(probs, labels, num_classes=2, n_bins=15, norm="l1")
    assert ece.item() == pytest.approx(ref.item(), abs=1e-7) and ece.item() == pytest.approx(1 / 3, abs=1e-6)
    _, _, counts = metrics.diagram_bins(bins)
    assert counts.tolist()[-1] == 3 and counts.sum().item() == 3


@pytest.mark.parametrize("n_bins", [5, 15, 20])
@pytest.mark.parametrize("norm", ["l1", "max", "l2"])
def test_against_torchmetrics(n_bins: int, norm: str) -> None:
    g = torch.Generator().manual_seed(n_bins)
    for trial in range(5):
        n, c = 200 + 37 * trial, 3 + trial
        probs = torch.softmax(torch.randn(n, c, generator=g) * (1 + trial), dim=1)
        labels = torch.randint(c, (n,), generator=g)
        ours = metrics.expected_calibration_error(probs, labels, n_bins=n_bins, norm=norm)  # type: ignore[arg-type]
        ref = multiclass_calibration_error(probs, labels, num_classes=c, n_bins=n_bins, norm=norm)  # type: ignore[arg-type]
        assert ours.dtype == torch.float32
        assert ours.item() == pytest.approx(ref.item(), abs=1e-6)


def test_float32_whatever_the_input_dtype() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(300, 7, generator=g)
    labels = torch.randint(7, (300,), generator=g)
    probs16 = torch.softmax(logits, 1).to(torch.bfloat16)
    ece = metrics.expected_calibration_error(probs16, labels)
    ref = multiclass_calibration_error(probs16.float(), labels, num_classes=7)
    assert ece.dtype == torch.float32 and ece.item() == pytest.approx(ref.item(), abs=1e-6)


def test_ignored_samples_are_left_out() -> None:
    g = torch.Generator().manual_seed(2)
    probs = torch.softmax(torch.randn(100, 4, generator=g), 1)
    labels = torch.randint(4, (100,), generator=g)
    keep = torch.arange(100) % 3 != 0
    conf, pred = probs.max(1)
    bins = metrics.calibration_bins(conf, pred.eq(labels).float(), 15, weights=keep.float())
    ece = metrics.calibration_error_from_bins(bins)
    ref = multiclass_calibration_error(probs[keep], labels[keep], num_classes=4)
    assert ece.item() == pytest.approx(ref.item(), abs=1e-6)


def np_entropy(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    out: np.ndarray = -terms.sum(axis=-1)
    return out


def test_entropy_against_numpy() -> None:
    rng = np.random.default_rng(0)
    for scale in (0.1, 1.0, 10.0, 100.0):
        logits = rng.normal(size=(64, 11)) * scale
        ours = metrics.entropy(torch.tensor(logits, dtype=torch.float32))
        assert ours.dtype == torch.float32 and ours.shape == (64,)
        np.testing.assert_allclose(ours.numpy(), np_entropy(logits), rtol=1e-4, atol=1e-5)
    # (B, T, C) shape and a class with probability exactly 0
    logits3 = rng.normal(size=(2, 5, 6))
    logits3[0, 0, 2] = -np.inf
    ours3 = metrics.entropy(torch.tensor(logits3, dtype=torch.float32))
    assert torch.isfinite(ours3).all()
    np.testing.assert_allclose(ours3.numpy(), np_entropy(logits3), rtol=1e-4, atol=1e-5)
    uniform = metrics.normalized_entropy(torch.zeros(3, 8))
    assert uniform.item() == pytest.approx(1.0, abs=1e-6)
    assert metrics.entropy(torch.tensor([[0.0, 0.0]], dtype=torch.bfloat16)).item() == pytest.approx(math.log(2))


def _matrix_with_spectrum(out: int, n_in: int, spectrum: list[float], seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(out, out, generator=g))
    v, _ = torch.linalg.qr(torch.randn(n_in, n_in, generator=g))
    s = torch.zeros(out, n_in)
    for i, x in enumerate(spectrum):
        s[i, i] = x
    w: torch.Tensor = u @ s @ v.T
    return w


def test_spectral_alignment_against_full_svd() -> None:
    for seed, (out, n_in) in enumerate([(48, 32), (16, 64), (64, 64)]):
        k = min(out, n_in)
        w = _matrix_with_spectrum(out, n_in, [10.0, 6.0] + [1.0 - i / (2 * k) for i in range(k - 2)], seed)
        g = torch.Generator().manual_seed(100 + seed)
        x = torch.randn(4, 50, n_in, generator=g) + 0.3 * torch.randn(n_in, generator=g)  # tokens included
        stats, v = metrics.spectral_alignment(w, x)
        v_svd = torch.linalg.svd(w).Vh[0]
        assert abs(torch.dot(v, v_svd).item()) > 1 - 1e-5
        rows = x.reshape(-1, n_in)
        a = rows @ v_svd / rows.norm(dim=1)
        d_ref = 1 - torch.sign(a).mean().abs()
        assert stats["sign_diversity"].dtype == torch.float32
        assert stats["sign_diversity"].item() == pytest.approx(d_ref.item(), abs=2 / rows.shape[0] + 1e-6)
        assert stats["mean_abs"].item() == pytest.approx(a.abs().mean().item(), abs=1e-4)
        hist_ref = torch.histc(a, bins=20, min=-1, max=1)
        hist = stats["hist"]
        assert hist.sum().item() == rows.shape[0]
        closest = min((hist - hist_ref).abs().sum().item(), (hist - hist_ref.flip(0)).abs().sum().item())
        assert closest <= 2


def test_sign_diversity_by_hand() -> None:
    w = torch.diag(torch.tensor([5.0, 1.0, 1.0]))  # v₁ = ±e₁
    x = torch.tensor([[1.0, 0, 0], [2.0, 1, 0], [0.5, 0, 1], [-1.0, 0, 0]])
    stats, v = metrics.spectral_alignment(w, x)
    assert abs(v[0].item()) == pytest.approx(1.0, abs=1e-6)
    assert stats["sign_diversity"].item() == pytest.approx(0.5)  # 3 on one side, 1 on the other: 2·min(¾, ¼)
    expected = (1 + 2 / math.sqrt(5) + 0.5 / math.sqrt(1.25) + 1) / 4
    assert stats["mean_abs"].item() == pytest.approx(expected, abs=1e-6)
    one_sided = torch.tensor([[1.0, 0, 0], [2.0, 1, 0], [0.5, 0, 1]])
    assert metrics.spectral_alignment(w, one_sided, v)[0]["sign_diversity"].item() == 0.0


def test_warm_start_tracks_the_vector_and_keeps_its_sign() -> None:
    w = _matrix_with_spectrum(32, 24, [8.0, 4.0, *([1.0] * 22)], seed=7)
    x = torch.randn(64, 24)
    _, v = metrics.spectral_alignment(w, x)
    g = torch.Generator().manual_seed(8)
    for _ in range(5):
        w = w + 0.05 * torch.randn(w.shape, generator=g)
        _, v_new = metrics.spectral_alignment(w, x, v)  # one iteration when warm
        v_true = torch.linalg.svd(w).Vh[0]
        assert abs(torch.dot(v_new, v_true).item()) > 0.999
        assert torch.dot(v_new, v).item() > 0.99  # no sign flip between checks
        v = v_new


def test_non_finite_weights_do_not_poison_the_warm_start() -> None:
    w = torch.eye(4)
    v0 = torch.tensor([1.0, 0, 0, 0])
    bad = torch.full((4, 4), math.nan)
    stats, v = metrics.spectral_alignment(bad, torch.randn(8, 4), v0)
    assert torch.equal(v, v0)
    x_nan = torch.full((8, 4), math.nan)
    stats, _ = metrics.spectral_alignment(w, x_nan, v0)
    assert math.isnan(stats["sign_diversity"].item()) and stats["hist"].sum().item() == 0


def test_batched_spectral_alignment_matches_each_layer_and_histc() -> None:
    ws = torch.stack([_matrix_with_spectrum(40, 24, [9.0, 4.0, *([1.0] * 22)], seed=s) for s in range(3)])
    g = torch.Generator().manual_seed(5)
    xs = torch.randn(3, 300, 24, generator=g) + 0.5
    xs[1, 7, 0] = math.inf  # one bad input row in layer 1 only
    stats, v = metrics.spectral_alignment_batched(ws, xs)
    assert stats["hist"].shape == (3, 20) and stats["sign_diversity"].shape == (3,)
    for k in (0, 2):
        v_svd = torch.linalg.svd(ws[k]).Vh[0]
        assert abs(torch.dot(v[k], v_svd).item()) > 1 - 1e-5
        a = xs[k] @ v[k] / xs[k].norm(dim=1)
        assert stats["sign_diversity"][k].item() == pytest.approx((1 - torch.sign(a).mean().abs()).item(), abs=1e-6)
        assert stats["mean_abs"][k].item() == pytest.approx(a.abs().mean().item(), abs=1e-5)
        assert (stats["hist"][k] - torch.histc(a, bins=20, min=-1, max=1)).abs().sum().item() <= 2
    assert math.isnan(stats["sign_diversity"][1].item())  # a non-finite input shows, never reads as balanced
    assert stats["hist"][1].sum().item() == 299


def test_accelerator_path_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = [_matrix_with_spectrum(40, 24, [9.0, 4.0, *([1.0] * 22)], seed=s) for s in range(3)]
    xs = torch.randn(3, 200, 24) + 0.3
    loop_stats, loop_v = metrics.spectral_alignment_batched(ws, xs)
    monkeypatch.setattr(metrics, "BMM_ON_CPU", True)  # one bmm per product, as on CUDA
    bmm_stats, bmm_v = metrics.spectral_alignment_batched(ws, xs)
    bmm_stats2, _ = metrics.spectral_alignment_batched(torch.stack(ws), xs, bmm_v)
    assert torch.allclose(loop_v, bmm_v, atol=1e-5)
    for key in ("sign_diversity", "mean_abs", "hist"):
        assert torch.allclose(loop_stats[key], bmm_stats[key], atol=1e-5), key
        assert torch.allclose(bmm_stats2[key], bmm_stats[key], atol=1e-4), key
