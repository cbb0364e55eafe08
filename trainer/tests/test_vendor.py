"""The copy the VSIX ships: lossradar + a pure-Python websockets, importable with nothing installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Hub

TRAINER = Path(__file__).resolve().parents[1]
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

PROBE = """
import sys, lossradar, websockets, websockets.frames
assert 'torch' not in sys.modules, 'the SDK core must import without torch'
assert not any('site-packages' in p for p in sys.path), sys.path
print(websockets.__file__)
import importlib.util
print(importlib.util.find_spec('websockets.speedups') is None)
run = lossradar.init(name='vendored')
for step in range(3):
    run.log(step, loss=float('nan') if step == 2 else 1.0 / (step + 1))
run.finish()
print(run.run_id)
"""


def test_vendored_copy_runs_without_site_packages(tmp_path: Path, hub: Hub) -> None:
    dest = tmp_path / "python"
    proc = subprocess.run(
        # this interpreter as the floor: the installed websockets qualifies, nothing is downloaded
        [sys.executable, str(TRAINER / "vendor.py"), str(dest), "--min-python", THIS_PYTHON],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (dest / "lossradar" / "experiments" / "lm-diverge.json").exists()
    assert not list(dest.rglob("*.so")) and not list(dest.rglob("__pycache__"))
    assert (dest / "websockets" / "LICENSE").exists()
    assert hub.token is not None
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(dest),
        "LOSSRADAR_URL": hub.url,
        "LOSSRADAR_TOKEN": hub.token,
        "HOME": str(tmp_path),
    }
    # -S: no site-packages at all (neither the venv's websockets nor torch); -B: write no bytecode
    out = subprocess.run(
        [sys.executable, "-S", "-B", "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    ws_file, no_speedups, run_id = out.stdout.split()
    assert Path(ws_file).is_relative_to(dest) and no_speedups == "True"
    rows = hub.rows(run_id)
    assert [r["loss"] for r in rows] == [1.0, 0.5, "NaN"]
    assert json.loads((hub.runs / run_id / "meta.json").read_text())["sdk"] == "lossradar-py/0.1.0"


def test_vendor_refuses_a_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(TRAINER))
    try:
        import vendor
    finally:
        sys.path.remove(str(TRAINER))
    with pytest.raises(SystemExit, match="not importable"):
        vendor.package_dir("no_such_package_xyz")


def test_requires_python_check() -> None:
    sys.path.insert(0, str(TRAINER))
    try:
        import vendor
    finally:
        sys.path.remove(str(TRAINER))
    assert vendor.supports(">=3.11", "3.11") and vendor.supports(">=3.9", "3.10")
    assert not vendor.supports(">=3.11", "3.10")
    assert vendor.supports(None, "3.10") and vendor.supports(">=3.8, <4", "3.10")
