#!/usr/bin/env python3
"""Replays every corpus run through the six peers (eval/peers/, real packages where they are
packages) and writes test/fixtures/corpus/peers.json: ``{run: {peer: first step | null}}``, the
peers' side of the corpus evaluation (eval/corpus/evaluate.ts). One process per job, so each pays
Lightning's import once.

    python eval/corpus/run_peers.py [--jobs 2] [--dir test/fixtures/published]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
CORPUS = os.path.abspath(os.path.join(HERE, "..", "..", "test", "fixtures", "corpus"))


def _chunk(job: tuple[str, list[str]]) -> dict[str, dict]:
    root, files = job
    import importlib.util

    from peers import PEER_NAMES  # the adapter package (eval/peers/), not eval/peers.py

    spec = importlib.util.spec_from_file_location("peers_cli", os.path.join(os.path.dirname(HERE), "peers.py"))
    assert spec is not None
    assert spec.loader is not None
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out: dict[str, dict] = {}
    for rel in files:
        res = cli.evaluate_file(os.path.join(root, rel), list(PEER_NAMES))
        out[res["run"]] = {p: (a["step"] if a else None) for p, a in res["peers"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dir", default=CORPUS, help="a folder with a manifest.json (default: the corpus)")
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "manifest.json"), encoding="utf-8") as f:
        runs = json.load(f)["runs"]
    files = sorted(v["file"] for v in runs.values())
    chunks = [(args.dir, files[i :: args.jobs]) for i in range(args.jobs)]
    result: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for part in pool.map(_chunk, chunks):
            result.update(part)
    with open(os.path.join(args.dir, "peers.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "eval/corpus/run_peers.py", "peers": dict(sorted(result.items()))}, f, indent=0)
        f.write("\n")
    print(f"{len(result)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
