"""Other people's published training logs (test/fixtures/published/, made by
eval/published/extract.py from the logs of eval/published/sources.tsv): each line format reads the
lines of the real logs it names, the split is fixed by the source, and every label follows from the
loss by the rule of eval/label.py."""

from __future__ import annotations

import csv
import json
import math
import os
import re

from label import label_rows
from published.extract import name_of, split_of
from published.textlogs import FORMATS, parse
from runio import load_rows

PUBLISHED = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "published")
SOURCES = os.path.join(os.path.dirname(__file__), "..", "published", "sources.tsv")


def manifest() -> dict:
    with open(os.path.join(PUBLISHED, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def sources() -> list[dict[str, str]]:
    with open(SOURCES, encoding="utf-8") as f:
        return list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))


# One line of each format, as the real logs print it (eval/published/textlogs.py names the tools).
SAMPLES = {
    "modded-nanogpt": ("step:352/6200 train_loss:4.1872 train_time:73734ms step_avg:215.60ms", {"loss": 4.1872}),
    "llmc": ("s:12 trl:9.350030 lr:0.000001 norm:15.37", {"loss": 9.35003, "lr": 1e-06, "grad_norm": 15.37}),
    "llmc-stdout": (
        "step    2/19560 | loss 10.956554 (+nanz)| norm 15.2427 (+nanz)| lr 1.71e-06 | 4385.98 ms | 30.8% bf16 MFU",
        {"loss": 10.956554, "grad_norm": 15.2427, "lr": 1.71e-06},
    ),
    "nanogpt": ("iter 44010: loss 2.9360, time 880.92ms, mfu 19.12%", {"loss": 2.936}),
    "build-nanogpt": ("1234 train 3.210100", {"loss": 3.2101}),
    "build-nanogpt-stdout": (
        "step     1 | loss: 10.902683 | lr 1.6783e-06 | norm: 14.8626 | dt: 793.68ms | tok/sec: 660575.83",
        {"loss": 10.902683, "lr": 1.6783e-06, "grad_norm": 14.8626},
    ),
    "tsv": ("10\t8.460716", {"loss": 8.460716}),
}


def test_every_line_format_reads_a_line_of_the_log_it_is_named_for():
    assert set(SAMPLES) == set(FORMATS)
    for fmt, (line, values) in SAMPLES.items():
        rows = parse(f"some banner\n{line}\ntrailing text", fmt)  # type: ignore[arg-type]
        assert len(rows) == 1, fmt
        step = int(re.findall(r"\d+", line)[0])
        assert rows[0] == {"step": step, **values}, fmt


def test_a_validation_line_and_a_training_line_of_one_step_make_one_row_in_step_order():
    text = "\n".join(
        [
            "step:250/500 val_loss:3.30 train_time:1ms",
            "step:250/500 train_loss:3.21 train_time:1ms",
            "step:3/500 train_loss:nan x",
        ]
    )
    rows = parse(text, "modded-nanogpt")
    assert rows[0]["step"] == 3
    assert math.isnan(rows[0]["loss"])  # the run diverged there
    assert rows[1] == {"step": 250, "loss/val": 3.3, "loss": 3.21}


def test_the_split_is_fixed_by_the_folder_of_the_log_so_seeds_of_one_record_stay_together():
    assert split_of("a/b", "records/x/1.txt") == split_of("a/b", "records/x/2.txt")
    seen = {split_of("owner/repo", f"records/{i}/log.txt") for i in range(40)}
    assert seen == {"dev", "sealed"}
    for name, run in manifest()["runs"].items():
        src = run["source"]
        assert run["split"] == split_of(src["repo"], src["path"]), name


def test_every_run_names_its_source_at_a_pinned_commit_and_its_label_follows_from_its_loss():
    listed = {(s["repo"], s["path"]) for s in sources()}
    runs = manifest()["runs"]
    assert len(runs) >= 75
    for name, run in runs.items():
        src = run["source"]
        assert (src["repo"], src["path"]) in listed, name
        assert re.fullmatch(r"[0-9a-f]{40}", src["commit"]), name
        assert name == name_of(src["repo"], src["path"])
        lab = label_rows(load_rows(os.path.join(PUBLISHED, run["file"])))
        assert (lab.label, lab.onset) == (run["label"], run["onset"]), name
