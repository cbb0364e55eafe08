"""Tags (docs/compare.md): ``lossradar.init(tags=[...])`` reaches the real hub's meta.json, the local
store without a hub, and the local copy a hub that went away leaves; wrong tags raise at ``init``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lossradar
from lossradar import LossRadarWarning

from .conftest import Hub


def test_tags_reach_the_hub_and_its_meta_json(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSSRADAR_URL", hub.url)
    assert hub.token is not None
    monkeypatch.setenv("LOSSRADAR_TOKEN", hub.token)
    run = lossradar.init(name="tagged", config={"lr": 0.1}, tags=["baseline", " lr-sweep ", "baseline"])
    assert run.mode == "hub" and run.tags == ["baseline", "lr-sweep"]
    for step in range(5):
        run.log(step, loss=1.0 / (step + 1))
    run.finish()
    assert run.run_id is not None
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["tags"] == ["baseline", "lr-sweep"]
    # The summary the comparison table reads, kept by the hub's Run.
    assert meta["stats"]["lastStep"] == 4 and meta["stats"]["metrics"]["loss"]["min"] == pytest.approx(0.2)


def test_tags_without_a_hub_are_in_the_local_meta_json(isolated: Path) -> None:
    with pytest.warns(LossRadarWarning, match="no Loss Radar hub found"):
        run = lossradar.init(name="offline", tags=["local"])
    with run:
        run.log(0, loss=1.0)
    assert run.local_dir is not None
    assert json.loads((run.local_dir / "meta.json").read_text())["tags"] == ["local"]


def test_a_run_without_tags_sends_none(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSSRADAR_URL", hub.url)
    monkeypatch.setenv("LOSSRADAR_TOKEN", hub.token or "")
    run = lossradar.init(name="plain")
    run.log(0, loss=1.0)
    run.finish()
    assert run.run_id is not None
    assert hub.wait_status(run.run_id, "completed")["tags"] == []


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        ("baseline", TypeError),
        (["ok", 3], TypeError),
        ([""], ValueError),
        (["x" * 65], ValueError),
        (["a\nb"], ValueError),
        ([f"t{i}" for i in range(33)], ValueError),
    ],
)
def test_wrong_tags_raise_before_anything_starts(tags: object, error: type[Exception], isolated: Path) -> None:
    with pytest.raises(error):
        lossradar.init(name="bad", tags=tags, mode="local")  # type: ignore[arg-type]
    assert not (isolated / ".lossradar").exists()
