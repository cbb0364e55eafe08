#!/usr/bin/env python3
"""Labels for the evaluation runs, from the training loss alone (eval/README.md, "Labels").

A run is one of ``explode``, ``spike-recover``, ``stall``, ``healthy``, decided in that order from
its ``loss`` rows (rows without a loss are ignored; index i counts loss rows):

  L_i   the raw loss; a non-finite loss counts as +inf.
  m_i   the trailing median of L over the last W = 11 rows (fewer at the start).
  b_i   the running best: min(m_0 … m_i).
  warm  max(20, 5 % of the rows): no onset and no spike is looked for before it.

"x above r·b" below reads x − b > (r − 1)·max(b, F·|m_W-1|), F = 0.1: a ratio to the best, but
never to less than a tenth of the size of the first window's loss. A loss that fell to nearly
nothing (a fine-tune that fits its data: 0.7 → 0.002) moves by large ratios that are no
explosion, and a negative loss (a VAE's ELBO) has no ratio at all. When the first W losses cross
zero (a policy-gradient surrogate), the floor is at least their spread, 1.4826 × their MAD: such a
loss has a spread but no level. The detectors read the loss with the same floor
(src/detect/lossScale.ts).

* explode: there is an onset o >= warm such that every later loss L_j (j >= o) is non-finite or
  above R·b_o (R = 1.25), the peak after o is large (non-finite, or max m_j above K·b_o, K = 2),
  and the run had a healthy phase before o (b_o <= 0.9·m_W-1, the loss fell at least 10 % from
  its first window). The onset is the smallest such o: the first step after which the loss never
  comes back into its healthy band. A run that turns non-finite always explodes; when its loss was
  still in band just before, the onset is the first non-finite step.
* spike-recover: not explode; some loss after warm is above S·b_(i-1) (S = 1.5): the loss spiked
  (possibly far above K·b) and came back, to its band or at least below K·b; ``reason`` says which.
* stall: neither; the run ends out of band (m_last above R·b_last: it degraded and stayed, but less
  than an explosion), or it stopped improving (the median loss of the last 20 % of the rows is at
  least (1 - 0.03) x the median of the middle 20 %, rows 40-60 %), or it never learned
  (b_last > 0.9·m_W-1).
* healthy: everything else.

The rule is conservative: the onset is when the explosion is evident from the loss (what the
reactive peers see too), and a run is never called exploding unless its loss at least doubles
relative to its best and never returns.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from runio import load_rows, run_name, series

WINDOW = 11
R_BAND = 1.25
K_EXPLODE = 2.0
S_SPIKE = 1.5
H_HEALTHY = 0.9
STALL_PROGRESS = 0.03
WARM_MIN = 20
WARM_FRAC = 0.05
F_RANGE = 0.1


@dataclass
class Label:
    label: str
    onset: int | None
    reason: str
    best: float | None = None
    peak_ratio: float | None = None
    nonfinite_step: int | None = None
    healthy_phase: bool = True
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _inf(x: float) -> float:
    return math.inf if (math.isnan(x) or math.isinf(x)) else x


def label_losses(steps: list[int], losses: list[float]) -> Label:
    n = len(losses)
    if n == 0:
        return Label("stall", None, "no loss rows", rows=0)
    vals = [_inf(x) for x in losses]
    m: list[float] = []
    for i in range(n):
        m.append(float(median(vals[max(0, i - WINDOW + 1) : i + 1])))
    b: list[float] = []
    best = math.inf
    for x in m:
        best = min(best, x)
        b.append(best)
    warm = max(WARM_MIN, int(WARM_FRAC * n))
    first_window = m[min(WINDOW, n) - 1]
    floor = F_RANGE * abs(first_window)
    first_rows = [x for x in vals[: min(WINDOW, n)] if math.isfinite(x)]
    if first_rows and min(first_rows) < 0 < max(first_rows):
        # a loss whose first rows cross zero has its spread for its size (src/detect/lossScale.ts)
        centre = median(first_rows)
        floor = max(floor, 1.4826 * float(median([abs(x - centre) for x in first_rows])))
    nonfinite_idx = next((i for i, x in enumerate(vals) if math.isinf(x)), None)
    nonfinite_step = steps[nonfinite_idx] if nonfinite_idx is not None else None

    # suffix minimum of the raw loss: the onset test "every later loss is out of band" is
    # suffix_min[o] > R * b[o].
    suffix_min = [math.inf] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix_min[i] = min(vals[i], suffix_min[i + 1])
    suffix_max_m = [-math.inf] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix_max_m[i] = max(m[i], suffix_max_m[i + 1])

    def above(x: float, base: float, ratio: float) -> bool:
        """x above `ratio` x base, where the base is never less than F_RANGE of the first window's
        loss: a loss that has fallen to nearly nothing (a fine-tune fitting its data) moves by large
        ratios that are no explosion, and a negative loss has no ratio."""
        return x - base > (ratio - 1) * max(base, floor)

    onset_idx: int | None = None
    for o in range(min(warm, n), n):
        if above(suffix_min[o], b[o], R_BAND):
            onset_idx = o
            break
    if nonfinite_idx is not None and (onset_idx is None or nonfinite_idx < onset_idx):
        onset_idx = nonfinite_idx

    if onset_idx is not None:
        bo = b[onset_idx]
        peak = suffix_max_m[onset_idx]
        ratio = peak / bo if bo > 0 and math.isfinite(peak) else math.inf
        nonfinite_after = nonfinite_idx is not None and nonfinite_idx >= onset_idx
        healthy_phase = bo <= H_HEALTHY * first_window and onset_idx >= warm
        if nonfinite_after or (math.isfinite(peak) and above(peak, bo, K_EXPLODE)) or math.isinf(peak):
            reason = (
                f"loss non-finite from step {nonfinite_step}"
                if nonfinite_after and not math.isfinite(ratio)
                else f"smoothed loss reached {ratio:.3g} x its best {bo:.4g} and never came back"
            )
            if not healthy_phase:
                reason += " (no healthy phase before the onset)"
            return Label(
                "explode",
                steps[onset_idx],
                reason,
                best=bo,
                peak_ratio=None if not math.isfinite(ratio) else ratio,
                nonfinite_step=nonfinite_step,
                healthy_phase=healthy_phase,
                rows=n,
            )

    b_last = b[-1]
    in_band_at_end = not above(m[-1], b_last, R_BAND)
    spike_idx = None
    for i in range(max(warm, 1), n):
        if above(vals[i], b[i - 1], S_SPIKE):
            spike_idx = i
            break
    if spike_idx is not None:
        end = "back in band at the end" if in_band_at_end else f"ends at {m[-1] / b_last:.3g} x its best"
        return Label(
            "spike-recover",
            None,
            f"loss {vals[spike_idx]:.4g} at step {steps[spike_idx]} >= {S_SPIKE} x best {b[spike_idx - 1]:.4g}, {end}",
            best=b_last,
            peak_ratio=max(vals[warm:]) / b_last if b_last > 0 else None,
            nonfinite_step=nonfinite_step,
            rows=n,
        )
    mid_median = float(median(vals[int(0.4 * n) : max(int(0.6 * n), int(0.4 * n) + 1)]))
    last_median = float(median(vals[int(0.8 * n) :]))
    if not in_band_at_end:
        reason = f"ends at {m[-1] / b_last:.3g} x its best {b_last:.4g} (degraded, not exploded)"
        return Label("stall", None, reason, best=b_last, nonfinite_step=nonfinite_step, rows=n)
    if b_last > H_HEALTHY * first_window:
        reason = f"never learned: best {b_last:.4g} vs first window {first_window:.4g}"
        return Label("stall", None, reason, best=b_last, nonfinite_step=nonfinite_step, rows=n)
    if last_median >= (1 - STALL_PROGRESS) * mid_median:
        reason = (
            f"stopped improving: median loss {last_median:.4g} over the last 20 % vs {mid_median:.4g} "
            "over the middle 20 %"
        )
        return Label("stall", None, reason, best=b_last, nonfinite_step=nonfinite_step, rows=n)
    return Label("healthy", None, f"best {b_last:.4g}, in band at the end", best=b_last, rows=n)


def label_rows(rows: list[dict[str, Any]]) -> Label:
    pairs = list(series(rows, "loss"))
    return label_losses([s for s, _ in pairs], [v for _, v in pairs])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="metrics.jsonl or .jsonl.gz files")
    ap.add_argument("--format", choices=["json", "text"], default="text")
    args = ap.parse_args(argv)
    for path in args.runs:
        lab = label_rows(load_rows(path))
        if args.format == "json":
            print(json.dumps({"run": run_name(path), **lab.to_json()}))
        else:
            onset = "-" if lab.onset is None else str(lab.onset)
            print(f"{run_name(path):32s} {lab.label:14s} onset {onset:>6s}  {lab.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
