"""The fixtures under test/fixtures/runs/: their labels follow from the rule, and they carry the
metrics that early warning needs. (The figures of the comparison are checked elsewhere.)"""

from __future__ import annotations

import itertools
import json
import os

import pytest
from label import label_rows
from runio import load_rows

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "runs")
LABELS_PATH = os.path.join(FIXTURES, "labels.json")

pytestmark = pytest.mark.skipif(not os.path.exists(LABELS_PATH), reason="no fixtures generated")


def labels() -> dict:
    with open(LABELS_PATH, encoding="utf-8") as f:
        return json.load(f)


def names() -> list[str]:
    return sorted(labels()) if os.path.exists(LABELS_PATH) else []


def test_the_issue_targets_for_the_fixture_set():
    lab = labels()
    healthy = [n for n, v in lab.items() if v["label"] == "healthy"]
    exploding = [n for n, v in lab.items() if v["label"] == "explode"]
    others = [n for n, v in lab.items() if v["label"] in ("stall", "spike-recover")]
    assert len(healthy) >= 8
    assert len(exploding) >= 8
    assert others
    assert all(lab[n]["healthy_phase"] for n in exploding)
    assert all(lab[n]["onset"] is not None for n in exploding)
    assert all(lab[n]["onset"] is None for n in healthy + others)
    for v in lab.values():
        assert v["mechanism"]
        assert v["command"].startswith("python -m lossradar.train ")
    size = sum(os.path.getsize(os.path.join(FIXTURES, f"{n}.jsonl.gz")) for n in lab)
    assert size < 5_000_000


@pytest.mark.parametrize("name", names())
def test_label_follows_from_the_rule(name):
    entry = labels()[name]
    got = label_rows(load_rows(os.path.join(FIXTURES, f"{name}.jsonl.gz")))
    assert (got.label, got.onset) == (entry["label"], entry["onset"])


@pytest.mark.parametrize("name", names())
def test_rows_carry_the_early_warning_metrics(name):
    rows = load_rows(os.path.join(FIXTURES, f"{name}.jsonl.gz"))
    keys = set().union(*rows)
    for key in (
        "loss",
        "lr",
        "grad_norm",
        "loss/val",
        "sa/min_sign_diversity",
        "sa/collapsed_fraction",
        "entropy/mean",
        "entropy/normalized",
        "calibration/ece",
        "calibration/mce",
    ):
        assert key in keys, key
    assert any(k.startswith("sa/") and k.endswith("/sign_diversity") and k != "sa/min_sign_diversity" for k in keys)
    with_sa = [r["step"] for r in rows if "sa/min_sign_diversity" in r]
    loss_steps = [r["step"] for r in rows if "loss" in r]
    # spectral alignment at least every 10 steps over the whole run
    assert max(b - a for a, b in itertools.pairwise(with_sa)) <= 10
    assert with_sa[0] <= 10
    assert loss_steps[-1] - with_sa[-1] <= 10
