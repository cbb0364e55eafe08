#!/usr/bin/env python3
"""Generates the evaluation runs under test/fixtures/runs/ with the reference trainer.

    PY=$(bash scripts/python-env.sh | tail -n1)/bin/python
    $PY eval/make_fixtures.py [--only NAME ...] [--list] [--out DIR]

Each recipe below is one ``python -m lossradar_trainer.train`` command, run sequentially under
``nice -n 10`` in a scratch working directory with no hub (``LOSSRADAR_URL``/``LOSSRADAR_TOKEN``
unset, an empty ``LOSSRADAR_DISCOVERY_DIR``), so the trainer writes its local run folder
``./.lossradar/runs/<id>/``. The run's ``metrics.jsonl`` is gzipped (mtime 0, so identical rows give
identical bytes) to ``<out>/<name>.jsonl.gz``, labelled with eval/label.py from the loss alone, and
recorded in ``<out>/labels.json`` (entries of recipes not rerun are kept). Exit status 1 when a run's
label is not the one its recipe is meant to produce, or a run failed to produce rows.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from label import label_rows  # noqa: E402 - found through the sys.path entry above
from runio import load_rows  # noqa: E402

ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "runs")
# The reference trainer is not in the SDK's pip package: it is found beside it, in trainer/.
TRAINER = os.path.join(ROOT, "trainer")


def trainer_env(base: dict[str, str]) -> dict[str, str]:
    return {**base, "PYTHONPATH": os.pathsep.join(p for p in (TRAINER, base.get("PYTHONPATH")) if p)}


@dataclass
class Recipe:
    name: str
    experiment: str
    args: list[str]
    mechanism: str
    expect: str  # the label the recipe is meant to produce

    def argv(self) -> list[str]:
        return [
            "-m",
            "lossradar_trainer.train",
            "--experiment",
            self.experiment,
            "--name",
            self.name,
            *self.args,
            *COMMON,
        ]

    def command(self) -> str:
        return "python " + shlex.join(self.argv())


def S(*pairs: str) -> list[str]:
    """``--set key=value`` for each pair."""
    out: list[str] = []
    for p in pairs:
        out += ["--set", p]
    return out


# One torch thread: the trajectory then does not depend on the machine's core count (a different
# thread count changes the floating-point reduction order, and an exploding run is chaotic), and a
# run does not stall in OpenMP barriers when other processes hold the second core.
COMMON = ["--set", "threads=1"]

# `--set layernorm="none"`: the value is read as JSON first; a bare `none` would become null.
NO_LN = 'layernorm="none"'

RECIPES: list[Recipe] = [
    # ---- healthy: seeds, learning rates, optimizers, with and without LayerNorm, a larger width
    Recipe(
        "lm-healthy-s0",
        "lm-healthy",
        ["--steps", "300", "--seed", "0"],
        "pre-LN, AdamW 3e-3, warm-up 50 + cosine, clip 1",
        "healthy",
    ),
    Recipe(
        "lm-healthy-s1",
        "lm-healthy",
        ["--steps", "300", "--seed", "1"],
        "pre-LN, AdamW 3e-3, warm-up 50 + cosine, clip 1 (seed 1)",
        "healthy",
    ),
    Recipe(
        "lm-healthy-lr1e-3-s2",
        "lm-healthy",
        ["--steps", "300", "--seed", "2", *S("lr=1e-3")],
        "pre-LN, AdamW 1e-3, cosine (seed 2)",
        "healthy",
    ),
    Recipe(
        "lm-healthy-adam",
        "lm-healthy",
        ["--steps", "300", *S("optimizer=adam", "weight_decay=0")],
        "pre-LN, Adam 3e-3, cosine",
        "healthy",
    ),
    Recipe(
        "lm-healthy-noln",
        "lm-healthy",
        ["--steps", "300", *S(NO_LN, "lr=1e-3")],
        "no LayerNorm, AdamW 1e-3 (below the edge), cosine, clip 1",
        "healthy",
    ),
    Recipe(
        "lm-healthy-noln-qk",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S(
                NO_LN,
                "qk_layernorm=true",
                "lr=5e-3",
                "schedule=constant",
                "warmup_steps=50",
                "grad_clip=0",
                "weight_decay=0",
            ),
        ],
        "no LayerNorm but qk-layernorm, AdamW 5e-3, no clipping",
        "healthy",
    ),
    Recipe(
        "lm-healthy-wide",
        "lm-healthy",
        ["--steps", "200", *S("d_model=256", "n_head=8")],
        "pre-LN, width 256, AdamW 3e-3, cosine",
        "healthy",
    ),
    Recipe(
        "noisy-labels-gce",
        "noisy-labels",
        [],
        "MLP, 40 % symmetric label noise, GCE loss, AdamW 1e-3",
        "healthy",
    ),
    Recipe(
        "noisy-labels-mae",
        "noisy-labels",
        [*S("loss=mae")],
        "MLP, 40 % symmetric label noise, MAE loss",
        "healthy",
    ),
    Recipe(
        "noisy-labels-sgd",
        "noisy-labels",
        [*S("optimizer=sgd", "lr=0.05", "loss=ce")],
        "MLP, 40 % symmetric label noise, CE loss, SGD momentum 0.9 lr 0.05",
        "healthy",
    ),
    Recipe(
        "noisy-labels-ce-asym",
        "noisy-labels",
        ["--seed", "1", *S("loss=ce", "noise=asymmetric", "noise_rate=0.2")],
        "MLP, 20 % asymmetric label noise, CE loss (seed 1)",
        "healthy",
    ),
    # ---- explode after a healthy phase
    Recipe(
        "lm-diverge-s0",
        "lm-diverge",
        ["--seed", "0"],
        "no LayerNorm at a high LR: AdamW warm-up to 1e-2 over 150 steps, no clipping",
        "explode",
    ),
    Recipe(
        "lm-diverge-s1",
        "lm-diverge",
        ["--seed", "1"],
        "no LayerNorm at a high LR: AdamW warm-up to 1e-2 over 150 steps, no clipping (seed 1)",
        "explode",
    ),
    Recipe(
        "lm-diverge-s2",
        "lm-diverge",
        ["--seed", "2"],
        "no LayerNorm at a high LR: AdamW warm-up to 1e-2 over 150 steps, no clipping (seed 2)",
        "explode",
    ),
    Recipe(
        "lm-ramp-preln",
        "lm-healthy",
        ["--steps", "260", *S("schedule=exp-ramp", "lr=1e-3", "lr_end=1", "warmup_steps=0", "grad_clip=0")],
        "LR ramp past the edge of stability: pre-LN, AdamW, exponential ramp 1e-3 -> 1 over 260 steps",
        "explode",
    ),
    Recipe(
        "lm-ramp-preln-s1",
        "lm-healthy",
        [
            "--steps",
            "260",
            "--seed",
            "1",
            *S("schedule=exp-ramp", "lr=1e-3", "lr_end=1", "warmup_steps=0", "grad_clip=0"),
        ],
        "LR ramp past the edge of stability: pre-LN, exponential ramp 1e-3 -> 1 (seed 1)",
        "explode",
    ),
    Recipe(
        "lm-ramp-preln-qk",
        "lm-healthy",
        [
            "--steps",
            "260",
            *S(
                "qk_layernorm=true",
                "schedule=exp-ramp",
                "lr=1e-3",
                "lr_end=1",
                "warmup_steps=0",
                "grad_clip=0",
            ),
        ],
        "LR ramp past the edge of stability with qk-layernorm: pre-LN, exp ramp 1e-3 -> 1",
        "explode",
    ),
    Recipe(
        "lm-jump-noln",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S(
                NO_LN,
                "lr=1e-3",
                "schedule=jump",
                "jump_step=150",
                "jump_factor=10",
                "warmup_steps=50",
                "grad_clip=0",
            ),
        ],
        "mid-run LR jump: no LayerNorm, AdamW 1e-3, x10 at step 150, no clipping",
        "explode",
    ),
    Recipe(
        "lm-jump-noln-s1",
        "lm-healthy",
        [
            "--steps",
            "300",
            "--seed",
            "1",
            *S(
                NO_LN,
                "lr=1e-3",
                "schedule=jump",
                "jump_step=150",
                "jump_factor=10",
                "warmup_steps=50",
                "grad_clip=0",
            ),
        ],
        "mid-run LR jump: no LayerNorm, AdamW 1e-3, x10 at step 150 (seed 1)",
        "explode",
    ),
    Recipe(
        "lm-attn-noqk",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S(NO_LN, "lr=7e-3", "schedule=constant", "warmup_steps=50", "grad_clip=0", "weight_decay=0"),
        ],
        "attention-logit growth without qk-layernorm: no LayerNorm, AdamW 7e-3; its qk-layernorm twin "
        "lm-attn-qk does not explode (inferred from the twin; logits are not logged)",
        "explode",
    ),
    # ---- neither: spike and recover, stall
    Recipe(
        "lm-attn-qk",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S(
                NO_LN,
                "qk_layernorm=true",
                "lr=7e-3",
                "schedule=constant",
                "warmup_steps=50",
                "grad_clip=0",
                "weight_decay=0",
            ),
        ],
        "lm-attn-noqk with qk-layernorm: the loss spikes (to ~100x its best) and recovers",
        "spike-recover",
    ),
    Recipe(
        "lm-spiky-sgd",
        "lm-healthy",
        ["--steps", "300", *S("optimizer=sgd", "lr=0.5")],
        "SGD momentum 0.9 at lr 0.5, clip 1: spikes that recover",
        "spike-recover",
    ),
    Recipe(
        "lm-jump-preln",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S(
                "lr=3e-3",
                "schedule=jump",
                "jump_step=150",
                "jump_factor=10",
                "warmup_steps=50",
                "grad_clip=0",
            ),
        ],
        "pre-LN, AdamW 3e-3 x10 at step 150: a spike, then it trains on",
        "spike-recover",
    ),
    Recipe(
        "lm-stall-lowlr",
        "lm-healthy",
        [
            "--steps",
            "300",
            *S("lr=3e-3", "schedule=jump", "jump_step=100", "jump_factor=0.001", "warmup_steps=50"),
        ],
        "LR cut x1000 at step 100: progress stops",
        "stall",
    ),
    Recipe(
        "lm-stall-preln-lr1e-1",
        "lm-healthy",
        ["--steps", "300", *S("lr=0.1", "schedule=constant", "grad_clip=0")],
        "pre-LN, AdamW at lr 0.1: stuck near the unigram loss (~3)",
        "stall",
    ),
    Recipe(
        "noisy-labels-tiny-lr",
        "noisy-labels",
        [*S("loss=ce", "lr=1e-5")],
        "MLP at lr 1e-5: never learns",
        "stall",
    ),
]


def venv_python_ok() -> bool:
    r = subprocess.run(
        [sys.executable, "-c", "import lossradar_trainer.train"],
        env=trainer_env(dict(os.environ)),
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode == 0


def gzip_to(src: str, dst: str) -> None:
    tmp = dst + ".part"
    with (
        open(src, "rb") as fin,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        shutil.copyfileobj(fin, gz)
    os.replace(tmp, dst)


def run_recipe(r: Recipe, out_dir: str, timeout: int) -> dict:
    work = tempfile.mkdtemp(prefix=f"lossradar-fixture-{r.name}-")
    disc = os.path.join(work, "no-hubs")
    os.makedirs(disc)
    env = trainer_env({k: v for k, v in os.environ.items() if not k.startswith("LOSSRADAR_")})
    env["LOSSRADAR_DISCOVERY_DIR"] = disc
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(  # noqa: PLW1510 - the exit code is read below
            ["nice", "-n", "10", sys.executable, *r.argv()],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        seconds = time.perf_counter() - t0
        found = glob.glob(os.path.join(work, ".lossradar", "runs", "*", "metrics.jsonl"))
        if len(found) != 1:
            raise RuntimeError(
                f"{r.name}: expected one run folder under {work}/.lossradar/runs, found {len(found)}\n"
                f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            )
        dst = os.path.join(out_dir, f"{r.name}.jsonl.gz")
        gzip_to(found[0], dst)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = load_rows(dst)
    lab = label_rows(rows)
    last_line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return {
        "label": lab.label,
        "onset": lab.onset,
        "mechanism": r.mechanism,
        "command": r.command(),
        "expect": r.expect,
        "reason": lab.reason,
        "healthy_phase": lab.healthy_phase,
        "nonfinite_step": lab.nonfinite_step,
        "rows": len(rows),
        "last_step": rows[-1]["step"] if rows else None,
        "trainer": last_line.split(" (run ")[0],
        "seconds": round(seconds, 1),
        "bytes": os.path.getsize(dst),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the evaluation fixtures with the reference trainer.")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="regenerate these recipes only")
    ap.add_argument("--list", action="store_true", help="print the recipes' commands and exit")
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures folder (default test/fixtures/runs)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run before giving up")
    args = ap.parse_args(argv)

    recipes = RECIPES
    if args.only:
        unknown = sorted(set(args.only) - {r.name for r in RECIPES})
        if unknown:
            ap.error(f"unknown recipe(s): {', '.join(unknown)}")
        recipes = [r for r in RECIPES if r.name in args.only]
    if args.list:
        for r in recipes:
            print(f"{r.name:24s} {r.expect:14s} {r.command()}")
        return 0
    if not venv_python_ok():
        print(
            f"make_fixtures: {sys.executable} cannot import lossradar_trainer.train; run it with the cached venv's "
            "python: $(bash scripts/python-env.sh | tail -n1)/bin/python",
            file=sys.stderr,
        )
        return 2

    os.makedirs(args.out, exist_ok=True)
    labels_path = os.path.join(args.out, "labels.json")
    labels: dict = {}
    if os.path.exists(labels_path):
        with open(labels_path, encoding="utf-8") as f:
            labels = json.load(f)
    known = {r.name for r in RECIPES}
    labels = {k: v for k, v in labels.items() if k in known}
    for path in glob.glob(os.path.join(args.out, "*.jsonl.gz")):  # runs of recipes that are gone
        if os.path.basename(path)[: -len(".jsonl.gz")] not in known:
            os.remove(path)

    bad: list[str] = []
    t_all = time.perf_counter()
    for i, r in enumerate(recipes, 1):
        print(f"[{i}/{len(recipes)}] {r.name}: {r.command()}", flush=True)
        try:
            entry = run_recipe(r, args.out, args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"  FAILED: {e}", flush=True)
            bad.append(r.name)
            continue
        labels[r.name] = entry
        with open(labels_path, "w", encoding="utf-8") as f:
            json.dump(dict(sorted(labels.items())), f, indent=2)
            f.write("\n")
        flag = "" if entry["label"] == r.expect else f"   <-- expected {r.expect}"
        print(
            f"  {entry['label']} onset {entry['onset']} ({entry['reason']}); {entry['rows']} rows, "
            f"{entry['bytes'] / 1024:.0f} KiB, {entry['seconds']:.0f} s{flag}",
            flush=True,
        )
        if flag:
            bad.append(r.name)
    total = time.perf_counter() - t_all
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(args.out, "*.jsonl.gz")))
    print(f"{len(recipes)} runs in {total / 60:.1f} min; fixtures {size / 1e6:.2f} MB in {args.out}")
    if bad:
        print(f"not as expected: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
