#!/usr/bin/env python3
"""The study of the signals (docs/early-warning.md): for each candidate early-warning signal, how
well its value on the rows shortly before an explosion's onset separates from its value on healthy
runs (AUC, per family), and how early it crosses a threshold that no healthy run of the family
reaches (lead). Reads the corpus and its manifest; by default only the development split.

    python eval/corpus/study.py [--split dev|sealed|all] [--horizon 100] [--format text|json|markdown]

Every signal is causal (row t sees rows ≤ t only), computed on the loss rows; the slower metrics
(SA, logits, entropy: every 5 steps) are carried forward to the loss rows in between. "Noise" is
always the robust σ (1.4826·MAD) of the same series over a lagged reference window, so that a
score reads "this many of its own noise units" whatever the run's scale.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import warnings
from statistics import median

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from runio import load_rows  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(ROOT, "test", "fixtures", "corpus")
WARM = 50  # rows ignored at the start: the first steps' transients
REF_LAG = 20  # the reference window ends this many rows back, so a rise is not its own reference
REF_LEN = 100
LAYER = re.compile(r"^sa/(.+)/(sign_diversity|sigma|update_ratio)$")


def _ffill(steps: list[int], pairs: dict[int, float]) -> np.ndarray:
    out = np.full(len(steps), np.nan)
    last = np.nan
    for i, s in enumerate(steps):
        if s in pairs:
            last = pairs[s]
        out[i] = last
    return out


def _robust(ref: np.ndarray) -> tuple[float, float]:
    ref = ref[np.isfinite(ref)]
    if ref.size < 10:
        return math.nan, math.nan
    m = float(np.median(ref))
    return m, max(1.4826 * float(np.median(np.abs(ref - m))), 1e-6)


def lagged_z(x: np.ndarray, smooth: float | None = None, sign: float = 1.0) -> np.ndarray:
    """(x_t − median(ref)) / σ(ref), ref = x over [t − REF_LAG − REF_LEN, t − REF_LAG); with
    ``smooth`` the numerator uses an EMA of x (and σ is scaled to the EMA's own noise)."""
    n = x.size
    out = np.full(n, np.nan)
    ema = math.nan
    a = smooth or 1.0
    scale = math.sqrt(a / (2 - a)) if smooth else 1.0
    for t in range(n):
        v = x[t]
        if math.isfinite(v):
            ema = v if not math.isfinite(ema) else (1 - a) * ema + a * v
        lo = t - REF_LAG - REF_LEN
        if t < WARM or lo < 0:
            continue
        m, s = _robust(x[max(0, lo) : t - REF_LAG])
        if math.isfinite(m):
            cur = ema if smooth else v
            out[t] = sign * (cur - m) / (s * scale) if math.isfinite(cur) else (math.inf if sign > 0 else -math.inf)
    return out


def cusum(x: np.ndarray, k: float = 0.5) -> np.ndarray:
    """One-sided CUSUM of the lagged z-scores of x (robust σ of the reference window): S = max(0,
    S + z − k); a sustained rise of a few σ accumulates, one noisy row does not."""
    z = lagged_z(x)
    out = np.full(x.size, np.nan)
    acc = 0.0
    for t, v in enumerate(z):
        if math.isnan(v):
            continue
        acc = max(0.0, acc + min(v, 50.0) - k)
        out[t] = acc
    return out


def signals(rows: list[dict]) -> tuple[list[int], dict[str, np.ndarray]]:
    loss_rows = [r for r in rows if isinstance(r.get("loss"), float)]
    steps = [int(r["step"]) for r in loss_rows]
    by_step = {int(r["step"]): r for r in rows}
    loss = np.array([r["loss"] for r in loss_rows])
    logl = np.where(np.isfinite(loss) & (loss > 0), np.log(np.maximum(loss, 1e-12)), np.inf)
    g = np.array([r.get("grad_norm", math.nan) for r in loss_rows], dtype=float)
    logg = np.where(np.isfinite(g) & (g > 0), np.log(np.maximum(g, 1e-30)), np.inf)
    lr = np.array([r.get("lr", math.nan) for r in loss_rows], dtype=float)
    out: dict[str, np.ndarray] = {}
    out["loss rise (EMA, z)"] = lagged_z(logl, smooth=0.1)
    out["loss spike (raw, z)"] = lagged_z(logl)
    out["loss CUSUM (k = 0.5)"] = cusum(logl)
    out["grad-norm CUSUM (k = 0.5)"] = cusum(logg)
    out["grad-norm growth (EMA, z)"] = lagged_z(logg, smooth=0.1)
    out["grad-norm spike (raw, z)"] = lagged_z(logg)
    # the norm the optimizer applied, after clipping (the SDK's grad_norm/applied)
    ga = np.array([r.get("grad_norm/applied", math.nan) for r in loss_rows], dtype=float)
    logga = np.where(np.isfinite(ga) & (ga > 0), np.log(np.maximum(ga, 1e-30)), np.inf)
    out["applied grad-norm spike (raw, z)"] = lagged_z(logga)
    lr_rise = np.full(len(steps), np.nan)
    for t in range(WARM, len(steps)):
        if t >= 50 and lr[t - 50] > 0:
            lr_rise[t] = math.log(max(lr[t], 1e-30) / lr[t - 50])
    out["LR rise over 50 rows (log)"] = lr_rise
    # the combination the edge-of-stability rule uses: the LR rising while the loss makes no progress
    ema = np.full(len(steps), np.nan)
    e = math.nan
    for t, v in enumerate(logl):
        if math.isfinite(v):
            e = v if not math.isfinite(e) else 0.9 * e + 0.1 * v
        ema[t] = e
    edge = np.full(len(steps), np.nan)
    for t in range(max(WARM, 40), len(steps)):
        if lr[t - 40] > 0 and math.isfinite(ema[t]) and math.isfinite(ema[t - 40]):
            stalled = 1 - math.exp(ema[t] - ema[t - 40]) < 0.05
            edge[t] = math.log(max(lr[t], 1e-30) / lr[t - 40]) if stalled else 0.0
    out["LR rise while the loss stalls (edge)"] = edge

    per_layer: dict[str, dict[str, dict[int, float]]] = {}
    other: dict[str, dict[int, float]] = {"logits/logsumexp": {}, "entropy/normalized": {}}
    for s, r in by_step.items():
        for k, v in r.items():
            m = LAYER.match(k)
            if m and isinstance(v, float):
                per_layer.setdefault(m.group(2), {}).setdefault(m.group(1), {})[s] = v
            elif k in other and isinstance(v, float):
                other[k][s] = v
    # SA: sign diversity against the layer's own frozen early baseline (the seed's rule), per layer
    div = per_layer.get("sign_diversity", {})
    ratios, shares = [], []
    for series in div.values():
        x = _ffill(steps, series)
        base = x[WARM : WARM + 100]
        base = base[np.isfinite(base)]
        b = float(np.median(base)) if base.size else math.nan
        if not (b >= 0.2):
            continue
        ema = np.full_like(x, np.nan)
        e = math.nan
        for t, v in enumerate(x):
            if math.isfinite(v):
                e = v if not math.isfinite(e) else 0.7 * e + 0.3 * v
            ema[t] = e
        ratios.append(1 - ema / b)
        shares.append((ema <= 0.3 * b).astype(float))
    nan = np.full(len(steps), np.nan)
    mask = np.arange(len(steps)) >= WARM + 100
    out["SA: deepest layer drop vs baseline"] = (
        np.where(mask, np.nanmax(np.vstack(ratios), axis=0), np.nan) if ratios else nan
    )
    out["SA: share of collapsed layers"] = np.where(mask, np.mean(np.vstack(shares), axis=0), np.nan) if shares else nan
    # σ₁ growth: the largest per-layer log growth over the last 50 rows
    sig = per_layer.get("sigma", {})
    if sig:
        grow = []
        for series in sig.values():
            x = np.log(np.maximum(_ffill(steps, series), 1e-30))
            gr = np.full_like(x, np.nan)
            gr[50:] = x[50:] - x[:-50]
            grow.append(gr)
        out["σ₁ growth over 50 rows (max layer, log)"] = np.where(
            np.arange(len(steps)) >= WARM, np.nanmax(np.vstack(grow), axis=0), np.nan
        )
        gz = [lagged_z(gr) for gr in grow]
        out["σ₁ growth (max layer, z vs own history)"] = np.nanmax(np.vstack(gz), axis=0)
        out["σ₁ growth: share of layers with z > 3"] = np.mean(np.vstack(gz) > 3, axis=0)
        zs = [lagged_z(np.log(np.maximum(_ffill(steps, s_), 1e-30))) for s_ in sig.values()]
        out["σ₁ level (max layer, z)"] = np.nanmax(np.vstack(zs), axis=0)
    else:
        out["σ₁ growth over 50 rows (max layer, log)"] = nan
        out["σ₁ growth (max layer, z vs own history)"] = nan
        out["σ₁ growth: share of layers with z > 3"] = nan
        out["σ₁ level (max layer, z)"] = nan
    ur = per_layer.get("update_ratio", {})
    if ur:
        zs = [lagged_z(np.log(np.maximum(_ffill(steps, s_), 1e-30))) for s_ in ur.values()]
        out["update/weight ratio (max layer, z)"] = np.nanmax(np.vstack(zs), axis=0)
    else:
        out["update/weight ratio (max layer, z)"] = nan
    lse = _ffill(steps, other["logits/logsumexp"])
    out["logit scale: log-partition (z)"] = lagged_z(lse)
    ent = np.log(np.maximum(_ffill(steps, other["entropy/normalized"]), 1e-12))
    out["prediction-entropy drop (z)"] = lagged_z(ent, sign=-1.0)
    return steps, out


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a pre-onset row > score of a healthy row), ties ½; NaN scores count as lowest."""
    if pos.size == 0 or neg.size == 0:
        return math.nan
    p = np.nan_to_num(pos, nan=-np.inf, posinf=1e300, neginf=-1e300)
    q = np.nan_to_num(neg, nan=-np.inf, posinf=1e300, neginf=-1e300)
    both = np.concatenate([p, q])
    order = both.argsort(kind="mergesort")
    ranks = np.empty_like(order, dtype=float)
    sorted_vals = both[order]
    i = 0
    while i < both.size:
        j = i
        while j + 1 < both.size and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r = ranks[: p.size].sum()
    return float((r - p.size * (p.size + 1) / 2) / (p.size * q.size))


def study(split: str, horizon: int, only: str | None = None) -> dict:
    with open(os.path.join(CORPUS, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    runs = {k: v for k, v in manifest["runs"].items() if split == "all" or v["split"] == split}
    data: dict[str, list[tuple[dict, list[int], dict[str, np.ndarray]]]] = {}
    for name, meta in sorted(runs.items()):
        if meta["label"] not in ("healthy", "explode"):
            continue
        if meta["label"] == "explode" and (not meta["healthy_phase"] or (only and not re.search(only, name))):
            continue
        steps, sig = signals(load_rows(os.path.join(CORPUS, meta["file"])))
        data.setdefault(meta["family"], []).append(({"name": name, **meta}, steps, sig))
    names = list(next(iter(data.values()))[0][2].keys())
    table: dict[str, dict[str, dict[str, float]]] = {}
    for family in [*sorted(data), "all"]:
        group = [x for fam, xs in data.items() for x in xs if family in ("all", fam)]
        for sname in names:
            pos, neg, healthy_max = [], [], -math.inf
            for meta, steps, sig in group:
                x = sig[sname]
                st = np.array(steps)
                if meta["label"] == "healthy":
                    neg.append(x)
                    fin = x[np.isfinite(x)]
                    if fin.size:
                        healthy_max = max(healthy_max, float(fin.max()))
                else:
                    o = meta["onset"]
                    pos.append(x[(st >= o - horizon) & (st < o)])
            leads = []
            hits = 0
            for meta, steps, sig in group:
                if meta["label"] != "explode":
                    continue
                x = sig[sname]
                o = meta["onset"]
                cross = [s for s, v in zip(steps, x, strict=True) if s < o and v > healthy_max]
                if cross:
                    hits += 1
                    leads.append(o - cross[0])
            n_exp = sum(1 for m, _, _ in group if m["label"] == "explode")
            table.setdefault(family, {})[sname] = {
                "auc": auc(np.concatenate(pos) if pos else np.array([]), np.concatenate(neg) if neg else np.array([])),
                "recall_at_zero_fa": hits / n_exp if n_exp else math.nan,
                "median_lead": float(median(leads)) if leads else math.nan,
                "threshold": healthy_max,
                "exploding": n_exp,
                "healthy": sum(1 for m, _, _ in group if m["label"] == "healthy"),
            }
    return {"split": split, "horizon": horizon, "table": table}


def render(res: dict, markdown: bool) -> str:
    table = res["table"]
    fams = list(table)
    sigs = list(next(iter(table.values())))
    lines = []
    head = ["signal", *[f"{f} AUC / recall / lead" for f in fams]]
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
    else:
        lines.append("  ".join(head))
    for s in sigs:
        cells = [s]
        for f in fams:
            c = table[f][s]
            lead = "–" if math.isnan(c["median_lead"]) else f"{c['median_lead']:.0f}"
            cells.append(f"{c['auc']:.2f} / {c['recall_at_zero_fa'] * 100:.0f}% / {lead}")
        lines.append(("| " + " | ".join(cells) + " |") if markdown else "  ".join(cells))
    counts = ", ".join(
        f"{f}: {table[f][sigs[0]]['healthy']} healthy, {table[f][sigs[0]]['exploding']} exploding" for f in fams
    )
    lines.append(f"\n({res['split']} split; horizon {res['horizon']} rows; {counts})")
    lines.append("cells: AUC of the rows before the onset vs healthy rows / share of exploding runs crossing, before")
    lines.append("the onset, a threshold no healthy run of the group reaches / their median lead in steps")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows before a series starts
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=["dev", "sealed", "all"], default="dev")
    ap.add_argument("--horizon", type=int, default=100)
    ap.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    ap.add_argument("--exploding", help="only the exploding runs whose name matches this regex (e.g. ramp)")
    args = ap.parse_args(argv)
    res = study(args.split, args.horizon, args.exploding)
    if args.format == "json":
        print(json.dumps(res, indent=1))
    else:
        print(render(res, args.format == "markdown"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
