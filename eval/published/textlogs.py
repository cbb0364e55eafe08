"""Line formats of the plain-text training logs in eval/published/sources.tsv.

Each format is one regular expression over a line, with named groups: ``step`` and any of
``loss`` (the training loss), ``val`` (a validation loss), ``lr`` and ``norm`` (the gradient
norm). A line that matches no format is not a metric line (the logs hold the training script, the
hardware banner, timings). Names follow docs/metrics.md: ``loss``, ``loss/val``, ``lr``,
``grad_norm``.
"""

from __future__ import annotations

import re
from typing import Literal

Format = Literal[
    "modded-nanogpt",
    "llmc",
    "llmc-stdout",
    "nanogpt",
    "build-nanogpt",
    "build-nanogpt-stdout",
    "tsv",
]

_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"

FORMATS: dict[Format, list[re.Pattern[str]]] = {
    # KellerJordan/modded-nanogpt records: "step:352/6200 train_loss:4.1872 train_time:…",
    # "step:125/1530 val_loss:4.01 train_time:…".
    "modded-nanogpt": [
        re.compile(rf"^step:(?P<step>\d+)/\d+ train_loss:(?P<loss>{_NUM})\b"),
        re.compile(rf"^step:(?P<step>\d+)/\d+ val_loss:(?P<val>{_NUM})\b"),
    ],
    # karpathy/llm.c's main.log: "s:12 trl:9.35 lr:0.000001 norm:15.37", "s:0 tel:10.97".
    "llmc": [
        re.compile(rf"^s:(?P<step>\d+) trl:(?P<loss>{_NUM})(?: lr:(?P<lr>{_NUM}))?(?: norm:(?P<norm>{_NUM}))?"),
        re.compile(rf"^s:(?P<step>\d+) tel:(?P<val>{_NUM})"),
    ],
    # llm.c's train_gpt2 stdout: "step    2/19560 | loss 10.956554 (+nanz)| norm 15.2427 (+nanz)| lr 1.71e-06 | …".
    "llmc-stdout": [
        re.compile(
            rf"^step\s+(?P<step>\d+)/\d+ \| loss\s+(?P<loss>{_NUM})[^|]*\|"
            rf"\s*norm\s+(?P<norm>{_NUM})[^|]*\|\s*lr (?P<lr>{_NUM})"
        ),
    ],
    # karpathy/nanoGPT's train.py: "iter 100: loss 4.2341, time 12.3ms, mfu 1.2%",
    # "step 250: train loss 3.21, val loss 3.30".
    "nanogpt": [
        re.compile(rf"^iter (?P<step>\d+): loss (?P<loss>{_NUM}),"),
        re.compile(rf"^step (?P<step>\d+): train loss {_NUM}, val loss (?P<val>{_NUM})"),
    ],
    # karpathy/build-nanogpt's log/log.txt: "1234 train 3.2101", "250 val 3.30", "250 hella 0.29".
    "build-nanogpt": [
        re.compile(rf"^(?P<step>\d+) train (?P<loss>{_NUM})$"),
        re.compile(rf"^(?P<step>\d+) val (?P<val>{_NUM})$"),
    ],
    # build-nanogpt's stdout: "step     1 | loss: 10.902683 | lr 1.6783e-06 | norm: 14.8626 | dt: …",
    # and a variant without the rate: "step 1 || loss: 10.8534 || norm: 14.5810 || …".
    "build-nanogpt-stdout": [
        re.compile(rf"^step\s+(?P<step>\d+) \| loss: (?P<loss>{_NUM}) \| lr (?P<lr>{_NUM}) \| norm: (?P<norm>{_NUM})"),
        re.compile(rf"^step\s+(?P<step>\d+) \|\| loss: (?P<loss>{_NUM}) \|\| norm: (?P<norm>{_NUM})"),
    ],
    # A two-column table with a header: "step<TAB>loss", "10<TAB>8.460716".
    "tsv": [re.compile(rf"^(?P<step>\d+)\t(?P<loss>{_NUM})$")],
}

_NAMES = {"loss": "loss", "val": "loss/val", "lr": "lr", "norm": "grad_norm"}


def parse(text: str, fmt: Format) -> list[dict[str, float | int]]:
    """One flat row per step, in step order; a later line for a step fills in (and wins over) an
    earlier one, so a log with a validation line and a training line at one step gives one row."""
    rows: dict[int, dict[str, float | int]] = {}
    for text_line in text.splitlines():
        line = text_line.strip()
        for pattern in FORMATS[fmt]:
            m = pattern.match(line)
            if not m:
                continue
            step = int(m["step"])
            row = rows.setdefault(step, {"step": step})
            for group, name in _NAMES.items():
                raw = m.groupdict().get(group)
                if raw is not None:
                    row[name] = float(raw)
            break
    return [rows[s] for s in sorted(rows)]
