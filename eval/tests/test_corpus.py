"""The corpus (test/fixtures/corpus/, made by eval/corpus/generate.py): the split is by whole
families and fixed, every label follows from the loss by the rule of eval/label.py, and the corpus
is as large and as varied as issue 17 asks."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from label import label_rows
from runio import load_rows

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "corpus")
MANIFEST = os.path.join(CORPUS, "manifest.json")

pytestmark = pytest.mark.skipif(not os.path.exists(MANIFEST), reason="no corpus generated")


def manifest() -> dict:
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def test_the_split_is_by_whole_families_fixed_before_tuning():
    m = manifest()
    # Changing these is changing the protocol: eval/README.md, "Split".
    assert m["split"] == {
        "dev": ["transformer", "mlp", "cnn", "recurrent"],
        "sealed": ["resnet", "mixer", "vit", "gnn"],
    }
    for name, run in m["runs"].items():
        expected = "dev" if run["family"] in m["split"]["dev"] else "sealed"
        assert run["split"] == expected, name


def test_the_corpus_has_200_runs_in_6_families_each_with_healthy_and_exploding_runs():
    runs = manifest()["runs"]
    assert len(runs) >= 200
    families = Counter(r["family"] for r in runs.values())
    assert len(families) >= 6
    for family in families:
        labels = Counter(r["label"] for r in runs.values() if r["family"] == family)
        assert labels["healthy"] >= 5, (family, labels)
        assert labels["explode"] >= 5, (family, labels)


def test_every_mechanism_has_a_twin_or_a_recovering_run():
    mechs = {r["mechanism"] for r in manifest()["runs"].values()}
    for m in mechs:
        if m.startswith("healthy") or m.endswith(("-twin", "-recover")):
            continue
        if m in ("long-no-wd",):
            assert "healthy-long-wd" in mechs
        elif m in ("lr-jump",):
            assert "lr-jump-recover" in mechs
        elif m.endswith("-lstm"):
            assert "healthy-lstm" in mechs
        else:
            assert f"{m}-twin" in mechs, m


def test_every_label_is_the_rule_applied_to_the_recorded_loss():
    for name, run in manifest()["runs"].items():
        lab = label_rows(load_rows(os.path.join(CORPUS, run["file"])))
        assert (lab.label, lab.onset) == (run["label"], run["onset"]), name


def test_an_exploding_runs_onset_is_inside_the_run_and_most_had_a_healthy_phase():
    exploding = [r for r in manifest()["runs"].values() if r["label"] == "explode"]
    for run in exploding:
        assert 0 < run["onset"] <= run["last_step"], run["file"]
    # only those with a healthy phase are scored (eval/README.md, "Corpus protocol")
    assert sum(r["healthy_phase"] for r in exploding) >= 0.8 * len(exploding)
