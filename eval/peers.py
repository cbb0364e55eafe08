#!/usr/bin/env python3
"""Replays saved runs through the peers of design.md §5 (adapters in eval/peers/).

    python eval/peers.py RUN.jsonl[.gz] ... [--format json|text] [--peer NAME ...]

``--format json`` prints one JSON object per run and line:
``{"run": NAME, "rows": N, "last_step": S, "peers": {"lightning": {"step": …, "rule": …} | null, …},
"other": {PEER: {"step", "rule"}, …}, "label": {…}}`` where ``peers`` holds each peer's first alert
about trouble, ``other`` the first alerts that are not (see eval/peers/__init__.py), and ``label``
the loss-only label of eval/label.py (a cross-check of labels.json).

Note: this script and the adapter package share the name ``peers``; with eval/ first on sys.path,
``import peers`` finds the package (a package directory wins over a module of the same name).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from label import label_rows
from peers import PEER_NAMES, all_peers
from runio import load_rows, run_name


def evaluate_file(path: str, names: list[str]) -> dict:
    rows = load_rows(path)
    peers = all_peers()
    out: dict = {
        "run": run_name(path),
        "rows": len(rows),
        "last_step": rows[-1]["step"] if rows else None,
        "peers": {},
        "other": {},
        "seconds": {},
    }
    for name in names:
        t0 = time.perf_counter()
        res = peers[name](rows)
        out["seconds"][name] = round(time.perf_counter() - t0, 3)
        out["peers"][name] = res.first.to_json() if res.first else None
        if res.other:
            out["other"][name] = res.other.to_json()
    out["label"] = label_rows(rows).to_json()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Replay runs through the peers of design.md §5.")
    ap.add_argument("runs", nargs="+", help="metrics.jsonl or .jsonl.gz files")
    ap.add_argument("--format", choices=["json", "text"], default="text")
    ap.add_argument("--peer", action="append", choices=PEER_NAMES, help="only these peers")
    args = ap.parse_args(argv)
    names = args.peer or list(PEER_NAMES)
    for path in args.runs:
        res = evaluate_file(path, names)
        if args.format == "json":
            print(json.dumps(res), flush=True)
            continue
        lab = res["label"]
        print(f"{res['run']}: {lab['label']} onset {lab['onset']} ({res['rows']} rows)")
        for name in names:
            a = res["peers"][name]
            o = res["other"].get(name)
            txt = "-" if a is None else f"step {a['step']}: {a['rule']}"
            if o:
                txt += f"   [other: step {o['step']}: {o['rule']}]"
            print(f"  {name:12s} {txt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
