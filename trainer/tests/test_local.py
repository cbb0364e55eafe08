"""The local store writer and the end of a local run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lossradar
from lossradar.local import LocalRunWriter


@pytest.mark.parametrize("run_id", ["..", ".", "../x", "../../x", "a/b", "/etc", "x\n", "", "-x"])
def test_the_local_writer_refuses_a_run_id_that_is_no_folder_name(tmp_path: Path, run_id: str) -> None:
    base = tmp_path / "store"
    base.mkdir()
    with pytest.raises(ValueError, match="run id"):
        LocalRunWriter(base / "inside" / "runs", run_id, name=None, config=None, device=None, sdk_version="0")
    assert list(base.iterdir()) == []  # nothing written, not even the root


def test_finish_with_a_wrong_status_raises_and_a_corrected_call_still_finishes(isolated: Path) -> None:
    run = lossradar.init(name="typo", mode="local")
    run.log(0, loss=1.0)
    with pytest.raises(ValueError, match="completed, failed or stopped"):
        run.finish("done")  # type: ignore[arg-type]
    assert run.log(1, loss=0.5) == {"loss": 0.5}  # still running
    run.finish("stopped")
    assert run.local_dir is not None
    meta = json.loads((run.local_dir / "meta.json").read_text())
    assert meta["status"] == "stopped" and run.status == "stopped"
    assert [json.loads(x)["step"] for x in (run.local_dir / "metrics.jsonl").read_text().splitlines()] == [0, 1]
