#!/usr/bin/env python3
"""The table of docs/rescue.md from the results of eval/rescue/run.py (one or more files, merged;
a later file's result for a run replaces an earlier one's). Each exploding run's twin is chosen as
run.py chooses it now (``twin_of``), its final loss taken from whichever file trained it.

    python eval/rescue/table.py eval/rescue/results.json [eval/rescue/results-rest.json …]
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "test", "fixtures", "corpus")
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from run import MANIFEST, twin_of  # noqa: E402
from runio import load_rows  # noqa: E402


def fmt(x: float | None) -> str:
    return "—" if x is None else "∞ (non-finite)" if not math.isfinite(x) else f"{x:.3f}"


def corpus_final(entry: dict[str, Any] | None) -> float | None:
    """A run's final loss as the corpus recorded it: the same recipe with the policy off."""
    if entry is None:
        return None
    losses = [r["loss"] for r in load_rows(os.path.join(CORPUS, entry["file"])) if "loss" in r]
    tail = [float(v) for v in losses[-20:]]
    return sum(tail) / len(tail) if tail and all(math.isfinite(v) for v in tail) else math.inf


def main(paths: list[str]) -> int:
    with open(MANIFEST, encoding="utf-8") as f:
        manifest: dict[str, Any] = json.load(f)["runs"]
    by_run: dict[str, dict[str, Any]] = {}
    runs: dict[str, Any] = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        for t in d["exploding"]:
            name = t["run"].removesuffix("--on")
            by_run[name] = {**t, "run": name}
        runs |= d["runs"]
    print(
        "| exploding run | twin | final loss: policy off (corpus) | on | twin | within 10 % | rescues | rolled back |"
    )
    print("|---|---|---:|---:|---:|:---:|---:|---:|")
    scored = rescued = 0
    unscored: list[str] = []
    for name in sorted(by_run):
        t = by_run[name]
        twin = twin_of(name, manifest)
        ref = runs.get(f"{twin}--on", {}).get("final_loss") if twin else None
        fin = t["final"]
        within = None if ref is None else bool(fin is not None and math.isfinite(fin) and fin <= 1.1 * ref)
        if within is None:
            unscored.append(name)
        else:
            scored += 1
            rescued += within
        verdict = "—" if within is None else "yes" if within else "no"
        print(
            f"| {name} | {twin or 'none on its loss'} | {fmt(corpus_final(manifest.get(name)))} | {fmt(fin)} | "
            f"{fmt(ref)} | {verdict} | {t.get('rescues', '—')} | {t.get('rolled_back_steps', '—')} |"
        )
    healthy = sorted({k.rsplit("--", 1)[0] for k in runs if k.endswith("--off")})
    fired = [k for k in healthy if runs.get(f"{k}--on", {}).get("rescues")]
    same = [k for k in healthy if runs[f"{k}--on"].get("final_loss") == runs[f"{k}--off"].get("final_loss")]
    ratio = [runs[f"{k}--on"]["seconds"] / runs[f"{k}--off"]["seconds"] for k in healthy]
    rss = [runs[f"{k}--on"]["max_rss_mb"] - runs[f"{k}--off"]["max_rss_mb"] for k in healthy]
    snap = [runs[f"{k}--on"]["snapshot_mb"] for k in healthy]
    rolled = [t.get("rolled_back_steps", 0) for t in by_run.values()]
    print()
    print(f"- exploding runs within 10 % of their twin with the policy on: **{rescued} of {scored}**", end="")
    print(f" ({len(unscored)} not scored: no healthy run of their family, seed and loss: {', '.join(unscored)})")
    print(f"- healthy runs on which the policy fired: **{len(fired)} of {len(healthy)}** {fired or ''}")
    print(f"- healthy runs whose final loss is the same to the bit, policy on and off: {len(same)} of {len(healthy)}")
    print(
        f"- steps rolled back per exploding run (training redone): median {statistics.median(rolled)}, "
        f"max {max(rolled)}"
    )
    print(
        f"- wall time, policy on ÷ off, healthy runs: median {statistics.median(ratio):.2f} "
        f"(range {min(ratio):.2f}–{max(ratio):.2f}; 2 shared cores, other jobs running)"
    )
    print(
        f"- snapshots held (state × 4 kept): {min(snap):.2f}–{max(snap):.2f} MB; peak RSS on − off: "
        f"median {statistics.median(rss):+.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
