"""Logs rows at a steady rate for the end-to-end latency benchmark (bench/e2eLatency.ts): every
value the sidebar draws, from plain floats, so the figure is Loss Radar's and not the model's."""

import argparse
import math
import random
import time

import lossradar

parser = argparse.ArgumentParser()
parser.add_argument("--rate", type=float, default=1000.0, help="rows per second")
parser.add_argument("--seconds", type=float, default=20.0)
args = parser.parse_args()

rng = random.Random(0)
n = int(args.rate * args.seconds)
run = lossradar.init(name="latency", config={"rate": args.rate, "rows": n})
t0 = time.perf_counter()
for step in range(n):
    # Paced against the start, so a late row does not slow the ones after it.
    wait = t0 + step / args.rate - time.perf_counter()
    if wait > 0:
        time.sleep(wait)
    loss = 2.0 * math.exp(-step / n) + 0.05 * rng.random()
    run.log(
        step,
        loss=loss,
        grad_norm=1.0 + 0.1 * rng.random(),
        lr=1e-3,
        **{
            "calibration/ece": 0.05 + 0.01 * rng.random(),
            "entropy/normalized": 0.5 + 0.05 * rng.random(),
            "gpu/util": 90.0 + 5.0 * rng.random(),
            "gpu/mem_used_mb": 6000.0 + 10.0 * rng.random(),
            "sa/min_sign_diversity": 0.7 + 0.1 * rng.random(),
        },
    )
run.finish("completed")
