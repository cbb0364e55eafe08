#!/usr/bin/env python3
"""Generates the corpus (eval/README.md, "Corpus"): every run of :func:`specs`, recorded through the
SDK exactly as the product sees a run (``lossradar.init(mode="local")``, ``run.watch``,
``run.log``, ``run.log_predictions``), its ``metrics.jsonl`` gzipped into
``test/fixtures/corpus/<family>/<run>.jsonl.gz``; then labels every run from its loss
(eval/label.py) into ``test/fixtures/corpus/manifest.json`` with the split.

    python eval/corpus/generate.py [--jobs 2] [--only SUBSTRING] [--list] [--out DIR]

Runs already on disk are kept (delete one to remake it); the manifest is rewritten from whatever
is on disk. Each worker uses one thread; run it under ``nice``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from families import DEV_FAMILIES, FAMILIES, SEALED_FAMILIES, Variant  # noqa: E402
from mechanisms import LOSSES, Recipe  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "corpus")
SA_EVERY = 5


@dataclass(frozen=True)
class Spec:
    name: str
    family: str
    mechanism: str  # the recipe's intent; "healthy" for a plain run, "<m>-twin" for a twin
    variant: Variant
    recipe: Recipe
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "mechanism": self.mechanism,
            "seed": self.seed,
            "variant": self.variant.to_json(),
            "recipe": self.recipe.to_json(),
        }


#: Per family: the base recipe (healthy when nothing else changes) and its variant.
BASE: dict[str, tuple[Recipe, Variant]] = {
    "transformer": (Recipe(optimizer="adamw", lr=2e-3, steps=500, cosine=True), Variant(norm=True)),
    "recurrent": (Recipe(optimizer="adam", lr=5e-3, steps=500, cosine=True), Variant(cell="gru")),
    "mlp": (Recipe(optimizer="adamw", lr=2e-3, steps=500, cosine=True), Variant(label_noise=0.3)),
    "cnn": (Recipe(optimizer="adamw", lr=1e-3, steps=500), Variant(norm=True, width=16)),
    "resnet": (Recipe(optimizer="adamw", lr=1e-3, steps=500), Variant(norm=True, width=16)),
    "mixer": (Recipe(optimizer="adamw", lr=1e-3, steps=500), Variant(norm=True, width=24)),
    "vit": (Recipe(optimizer="adamw", lr=1e-3, steps=500), Variant(norm=True, width=32)),
    "gnn": (Recipe(optimizer="adamw", lr=3e-3, steps=500), Variant(norm=True, width=32)),
}


def specs() -> list[Spec]:
    out: list[Spec] = []
    for family in FAMILIES:
        base, var = BASE[family]
        for seed in (0, 1, 2):
            loss_i = seed * 3

            def add(mech: str, r: Recipe, v: Variant = var, *, fam: str = family, s: int = seed) -> None:
                nonlocal loss_i
                if fam == "mlp":
                    # the MLP runs cycle through the robust losses and two noise models
                    loss = LOSSES[loss_i % len(LOSSES)]
                    loss_i += 1
                    r = r.with_(loss=loss)
                    v = Variant(
                        **{
                            **v.to_json(),
                            "noise_kind": "asym" if loss_i % 3 == 0 else "sym",
                            "label_noise": 0.2 + 0.1 * (loss_i % 3),
                        }
                    )
                tag = f"-{r.loss}" if fam == "mlp" else ""
                # a third seed of two healthy recipes: more healthy runs to count false alarms on
                if s < 2 or mech in ("healthy-adam", "healthy-sgd-clip"):
                    out.append(Spec(f"{fam}-{mech}{tag}-s{s}", fam, mech, v, r, s))

            # healthy recipes: the optimizers, with and without clipping, warm-up, cosine, decay
            add("healthy-adamw", base.with_(warmup=30, cosine=True, clip=1.0, weight_decay=0.05))
            add("healthy-adam", base.with_(optimizer="adam"))
            add("healthy-sgd", base.with_(optimizer="sgd", lr=0.05 if family != "mlp" else 0.1, cosine=True))
            add("healthy-sgd-clip", base.with_(optimizer="sgd", lr=0.03, clip=1.0, warmup=30))
            add("healthy-adamw-cos", base.with_(cosine=True, weight_decay=0.01))
            add("healthy-long-wd", base.with_(steps=700, weight_decay=0.1, cosine=True))
            # mechanisms and their healthy twins (the twin keeps the recipe, less the mechanism)
            add("lr-high", base.with_(lr=base.lr * 100))
            add("lr-high-twin", base.with_(lr=base.lr * 3))
            add("lr-ramp", base.with_(ramp_to=3000.0))
            add("lr-ramp-twin", base.with_(ramp_to=10.0))
            add("lr-jump", base.with_(jump_at=0.5, jump=300.0))
            add("lr-jump-recover", base.with_(jump_at=0.5, jump=300.0, jump_for=4))
            add("no-norm", base.with_(lr=base.lr * 20), Variant(**{**var.to_json(), "norm": False}))
            add("no-norm-twin", base.with_(lr=base.lr * 20))
            add("adam-eps", base.with_(optimizer="adam", eps=1e-16, betas=(0.9, 0.99999), lr=base.lr * 10))
            add("adam-eps-twin", base.with_(optimizer="adam", lr=base.lr * 10))
            add("fp16", base.with_(fp16=True, ramp_to=100.0))
            add("fp16-twin", base.with_(ramp_to=100.0))
            add("corrupt", base.with_(optimizer="sgd", lr=0.05, corrupt_at=0.5, corrupt_scale=1e3))
            add("corrupt-twin", base.with_(optimizer="sgd", lr=0.05, corrupt_at=0.5, corrupt_scale=1e3, clip=1.0))
            add("long-no-wd", base.with_(steps=700, lr=base.lr * 10))
            attention = family in ("transformer", "vit")
            # attention-logit growth: no LayerNorm, no 1/sqrt(d) scale; its twin adds qk-LayerNorm
            noln = Variant(norm=False, attn_scale=False, width=var.width)
            noln_qk = Variant(norm=False, attn_scale=False, qk_norm=True, width=var.width)
            if attention:
                add("attn-logit", base.with_(lr=base.lr * 2), noln)
                add("attn-logit-twin", base.with_(lr=base.lr * 2), noln_qk)
            if family == "recurrent":
                add("healthy-lstm", base, Variant(cell="lstm"))
                add("lr-ramp-lstm", base.with_(ramp_to=1000.0), Variant(cell="lstm"))
            # Added after the first 272 runs, last so that the MLP runs before keep their losses.
            add("healthy-restarts", base.with_(restart_every=125))  # SGDR: the rate jumps back 100× thrice
            # SGD warmed up over 300 steps to too high a peak: the loss falls, then degrades as the
            # rate passes what the model can take (twin: a peak a quarter as high)
            add("warmup-high", base.with_(optimizer="sgd", lr=2.0, warmup=300))
            add("warmup-high-twin", base.with_(optimizer="sgd", lr=0.5, warmup=300))
            if attention:
                # Added after the 308: attention-logit growth (Wortsman et al. 2023, "Small-scale
                # proxies for large-scale Transformer training instabilities"). Without LayerNorm or
                # the 1/sqrt(d) scale, a constant AdamW rate of 3e-2 lets the attention logits grow
                # until the loss blows up some 250-300 steps in; the twin's qk-LayerNorm keeps them
                # bounded at the same rate.
                high = base.with_(lr=base.lr * 15, cosine=False)
                add("attn-logit-high", high, noln)
                add("attn-logit-high-twin", high, noln_qk)
    return out


def train(spec: Spec, out_dir: str) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from families import make
    from mechanisms import make_optimizer, training_step

    import lossradar

    r = spec.recipe
    model, batches = make(spec.family, spec.variant, spec.seed)
    opt = make_optimizer(r, model.parameters())
    tmp = tempfile.mkdtemp(prefix="lr-corpus-")
    t0 = time.perf_counter()
    run = lossradar.init(spec.name, spec.to_json(), mode="local", dir=tmp, run_id=spec.name)
    # The optimizer makes the SDK log grad_norm/applied, the norm after clipping (docs/early-warning.md);
    # snapshots are off: no corpus run is rolled back, and they would only cost time.
    run.watch(model, every=SA_EVERY, optimizer=opt, snapshot_to="off")
    corrupt_step = int(r.corrupt_at * r.steps) if r.corrupt_at is not None else -1
    bad = 0
    for step in range(r.steps):
        lr = r.lr_at(step)
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        x, y = batches(step)
        scale = r.corrupt_scale if step == corrupt_step else 1.0
        loss, logits, grad_norm = training_step(r, model, opt, x, y, scale)
        values = {"loss": loss.item(), "lr": lr, "grad_norm": grad_norm.item()}
        if step % SA_EVERY == 0:
            run.log_predictions(step, logits.detach(), y, **values)
        else:
            run.log(step, values)
        if not math.isfinite(values["loss"]):
            bad += 1
            if bad >= 10:  # a real run would log NaN forever; ten rows are what a detector sees
                break
    run.finish()
    seconds = time.perf_counter() - t0
    fam_dir = os.path.join(out_dir, spec.family)
    os.makedirs(fam_dir, exist_ok=True)
    src = os.path.join(tmp, spec.name, "metrics.jsonl")
    dst = os.path.join(fam_dir, f"{spec.name}.jsonl.gz")
    with open(src, "rb") as f_in, gzip.open(dst + ".part", "wb", compresslevel=9) as f_out:
        shutil.copyfileobj(f_in, f_out)
    os.replace(dst + ".part", dst)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"name": spec.name, "seconds": round(seconds, 2), "steps": step + 1}


def _train_safe(args: tuple[Spec, str]) -> dict[str, Any]:
    spec, out = args
    try:
        return train(spec, out)
    except Exception as exc:
        return {"name": spec.name, "error": f"{type(exc).__name__}: {exc}"}


def write_manifest(out_dir: str, all_specs: list[Spec], timings: dict[str, Any]) -> dict[str, Any]:
    from label import label_rows
    from runio import load_rows

    old: dict[str, Any] = {}
    path = os.path.join(out_dir, "manifest.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = json.load(f).get("runs", {})
    runs: dict[str, Any] = {}
    for spec in all_specs:
        file = os.path.join(out_dir, spec.family, f"{spec.name}.jsonl.gz")
        if not os.path.exists(file):
            continue
        rows = load_rows(file)
        lab = label_rows(rows)
        seconds = timings.get(spec.name, {}).get("seconds", old.get(spec.name, {}).get("seconds"))
        runs[spec.name] = {
            "file": f"{spec.family}/{spec.name}.jsonl.gz",
            "split": "dev" if spec.family in DEV_FAMILIES else "sealed",
            **spec.to_json(),
            "label": lab.label,
            "onset": lab.onset,
            "reason": lab.reason,
            "healthy_phase": lab.healthy_phase,
            "rows": lab.rows,
            "last_step": rows[-1]["step"] if rows else None,
            "seconds": seconds,
        }
    manifest = {
        "split": {"dev": list(DEV_FAMILIES), "sealed": list(SEALED_FAMILIES)},
        "generator": "eval/corpus/generate.py",
        "runs": runs,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", action="append", help="runs whose name contains this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--manifest-only", action="store_true")
    args = ap.parse_args(argv)
    all_specs = specs()
    todo = [s for s in all_specs if not args.only or any(o in s.name for o in args.only)]
    if args.list:
        for s in todo:
            print(s.name)
        print(f"{len(todo)} runs", file=sys.stderr)
        return 0
    todo = [s for s in todo if not os.path.exists(os.path.join(args.out, s.family, f"{s.name}.jsonl.gz"))]
    # seed 0 of every family first: a generation cut short still covers every family
    position = {s.name: i for i, s in enumerate(all_specs)}
    first_of = {f: min(i for n, i in position.items() if n.startswith(f + "-")) for f in FAMILIES}
    todo.sort(key=lambda s: (s.seed, position[s.name] - first_of[s.family], FAMILIES.index(s.family)))
    timings: dict[str, Any] = {}
    t0 = time.perf_counter()
    if todo and not args.manifest_only:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for res in pool.map(_train_safe, [(s, args.out) for s in todo]):
                timings[res["name"]] = res
                print(json.dumps(res), flush=True)
    manifest = write_manifest(args.out, all_specs, timings)
    counts: dict[str, dict[str, int]] = {}
    for v in manifest["runs"].values():
        counts.setdefault(v["family"], {}).setdefault(v["label"], 0)
        counts[v["family"]][v["label"]] += 1
    print(json.dumps({"wall_s": round(time.perf_counter() - t0, 1), "labels": counts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
