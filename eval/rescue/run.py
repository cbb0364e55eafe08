#!/usr/bin/env python3
"""The rescue policy on the early-warning corpus (docs/rescue.md, issue 20 item 3).

Re-trains a subset of the corpus (eval/corpus/generate.py's recipes, one seed) through the SDK
against a real hub (``lossradar serve`` from source, whose watchdog raises the critical alerts and
asks the run to rescue itself): every exploding run with ``rescue="auto"``, and each one's healthy
twin with the policy on and off. A run is *rescued* when its final loss (mean of its last 20 rows)
is at most 10 % above its twin's (from the same harness, policy on); the healthy runs say whether
the policy ever fires where it should not, and what it costs (wall time, peak RSS, snapshot bytes).

    PY=/root/.cache/lossradar/venv-d733205396fb7864/bin/python
    nice -n 10 $PY eval/rescue/run.py --jobs 2 [--seed 0] [--only SUBSTRING] [--out eval/rescue/results.json]

The recipes set the lr every step; here the same schedule is a LambdaLR given to
``run.watch(scheduler=...)``, so that a lowered lr stays lowered (docs/rescue.md "Lower Learning Rate").
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "eval", "corpus"))
sys.path.insert(0, os.path.join(ROOT, "eval"))
sys.path.insert(0, os.path.join(ROOT, "trainer"))

from generate import SA_EVERY, Spec, specs  # noqa: E402

MANIFEST = os.path.join(ROOT, "test", "fixtures", "corpus", "manifest.json")
#: Snapshot cadence and policy of the runs with the policy on.
SNAPSHOT_EVERY = 10
KEEP = 4
SKIP = 10
POLICY = {"mode": "auto", "maxRescues": 3, "lrFactor": 0.25}
TAIL = 20


def twin_of(name: str, runs: dict[str, Any]) -> str | None:
    """The healthy run an exploding one is compared with: its ``<mechanism>-twin`` when that is
    healthy and trains on the same loss, else the healthy run of its family, seed and loss (the
    MLP family cycles through losses whose values are not comparable) whose recipe differs least."""
    x = runs[name]
    same = {
        k: v
        for k, v in runs.items()
        if v["family"] == x["family"] and v["seed"] == x["seed"] and v["recipe"]["loss"] == x["recipe"]["loss"]
    }
    for k, v in same.items():
        if v["mechanism"] == x["mechanism"] + "-twin" and v["label"] == "healthy":
            return k
    healthy = [k for k, v in same.items() if v["label"] == "healthy" and v["mechanism"].startswith("healthy")]

    def distance(k: str) -> int:
        a, b = runs[k]["recipe"], x["recipe"]
        return sum(a.get(f) != b.get(f) for f in set(a) | set(b)) + (runs[k]["variant"] != x["variant"])

    return min(healthy, key=distance) if healthy else None


def train(spec: Spec, url: str, token: str, policy_on: bool, run_id: str) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from families import make
    from mechanisms import make_optimizer, training_step

    import lossradar

    r = spec.recipe
    model, batches = make(spec.family, spec.variant, spec.seed)
    opt = make_optimizer(r, model.parameters())
    for g in opt.param_groups:
        g["lr"] = 1.0
    # The recipe's schedule as a scheduler (lr = 1 × lr_at(step)), which a lowered lr survives.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, r.lr_at)
    t0 = time.perf_counter()
    run = lossradar.init(
        run_id,
        spec.to_json(),
        url=url,
        token=token,
        run_id=run_id,
        rescue=POLICY if policy_on else None,
    )
    run.watch(
        model,
        every=SA_EVERY,
        optimizer=opt,
        scheduler=sched,
        snapshot_every=SNAPSHOT_EVERY,
        keep_snapshots=KEEP,
        skip_batches=SKIP,
        snapshot_to="cpu" if policy_on else "off",
    )
    corrupt_step = int(r.corrupt_at * r.steps) if r.corrupt_at is not None else -1
    bad = 0
    data = run.batches(itertools.count())
    for step in range(r.steps):
        lr = opt.param_groups[0]["lr"]
        model.train()
        x, y = batches(next(data))
        scale = r.corrupt_scale if step == corrupt_step else 1.0
        loss, logits, grad_norm = training_step(r, model, opt, x, y, scale)
        sched.step()
        values = {"loss": loss.item(), "lr": lr, "grad_norm": grad_norm.item()}
        if step % SA_EVERY == 0:
            run.log_predictions(step, logits.detach(), y, **values)
        else:
            run.log(step, values)
        # The hub's round trip is a few rows: give it a moment each step, as a real step takes one.
        time.sleep(0.002)
        if not math.isfinite(values["loss"]):
            bad += 1
            if bad >= 30 and not (policy_on and run._rescues < POLICY["maxRescues"]):
                break
        else:
            bad = 0
    rescuer = run._rescuer
    snap_bytes = 0
    if rescuer is not None and rescuer.snapshots is not None:
        from lossradar.snapshots import state_bytes

        snap_bytes = state_bytes(rescuer.model, rescuer.optimizer) * KEEP
    run.finish()
    return {
        "run": run_id,
        "seconds": round(time.perf_counter() - t0, 2),
        "steps": step + 1,
        "rescues": run._rescues,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "snapshot_mb": round(snap_bytes / 2**20, 3),
    }


def _train(args: tuple[Spec, str, str, bool, str]) -> dict[str, Any]:
    try:
        return train(*args)
    except Exception as exc:
        return {"run": args[4], "error": f"{type(exc).__name__}: {exc}"}


def final_loss(runs_dir: str, run_id: str) -> tuple[float, int]:
    """Mean loss of the last TAIL rows (non-finite counts as inf), and the number of rows."""
    path = os.path.join(runs_dir, run_id, "metrics.jsonl")
    losses = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if "loss" in row:
                v = row["loss"]
                losses.append(float(v) if not isinstance(v, str) else math.inf)
    tail = losses[-TAIL:]
    return (sum(tail) / len(tail) if tail and all(math.isfinite(v) for v in tail) else math.inf), len(losses)


def events(runs_dir: str, run_id: str) -> list[dict[str, Any]]:
    path = os.path.join(runs_dir, run_id, "events.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def start_hub(runs_dir: str) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        ["node", "--import", "tsx", "src/cli/main.ts", "serve", f"--runs={runs_dir}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    # Keep the pipes drained: the hub prints every alert.
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
    return proc, info["url"], info["token"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", action="append")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args(argv)
    with open(MANIFEST, encoding="utf-8") as f:
        runs = json.load(f)["runs"]
    by_name = {s.name: s for s in specs()}
    exploding = sorted(
        k for k, v in runs.items() if v["label"] == "explode" and v["seed"] == args.seed and k in by_name
    )
    if args.only:
        exploding = [k for k in exploding if any(o in k for o in args.only)]
    twins = {k: twin_of(k, runs) for k in exploding}
    healthy = sorted({t for t in twins.values() if t is not None})
    jobs = [(by_name[k], True, f"{k}--on") for k in exploding]
    jobs += [(by_name[k], on, f"{k}--{'on' if on else 'off'}") for k in healthy for on in (True, False)]
    runs_dir = tempfile.mkdtemp(prefix="lossradar-rescue-")
    hub, url, token = start_hub(runs_dir)
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    try:
        with ProcessPoolExecutor(max_workers=args.jobs, max_tasks_per_child=1) as pool:
            for res in pool.map(_train, [(spec, url, token, on, rid) for spec, on, rid in jobs]):
                results[res["run"]] = res
                print(json.dumps(res), flush=True)
        time.sleep(1.0)  # the hub's last batched writes
    finally:
        hub.terminate()
        hub.wait(10)
    for rid, res in results.items():
        if "error" in res:
            continue
        res["final_loss"], res["rows"] = final_loss(runs_dir, rid)
        evs = events(runs_dir, rid)
        res["rescue_events"] = [e["message"] for e in evs if e.get("kind") == "rescue"]
        res["rolled_back_steps"] = sum(e["span"]["to"] - e["span"]["from"] for e in evs if e.get("span"))
    table = []
    for k in exploding:
        on, twin = results.get(f"{k}--on", {}), twins[k]
        twin_on = results.get(f"{twin}--on", {}) if twin else {}
        ref = twin_on.get("final_loss")
        fin = on.get("final_loss")
        within = fin is not None and ref is not None and math.isfinite(fin) and fin <= 1.1 * ref
        table.append(
            {
                **on,
                "run": k,
                "twin": twin,
                "final": fin,
                "twin_final": ref,
                "within_10pct": within,
            }
        )
    summary = {
        "exploding": len(exploding),
        "rescued_within_10pct": sum(t["within_10pct"] for t in table),
        "healthy_runs": len(healthy),
        "healthy_fired": [k for k in healthy if results.get(f"{k}--on", {}).get("rescues")],
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "policy": POLICY,
                "snapshot_every": SNAPSHOT_EVERY,
                "keep": KEEP,
                "skip": SKIP,
                "summary": summary,
                "exploding": table,
                "runs": results,
            },
            f,
            indent=1,
            default=str,
        )
        f.write("\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
