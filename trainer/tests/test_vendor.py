"""What ships: the VSIX's copy (lossradar with its integrations, the reference trainer
lossradar_trainer, a pure-Python websockets), importable with nothing installed; and the pip package,
the SDK alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import Hub

TRAINER = Path(__file__).resolve().parents[1]
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

PROBE = """
import sys, lossradar, lossradar.integrations, websockets, websockets.frames
import lossradar_trainer.experiment
assert 'torch' not in sys.modules, 'the SDK core must import without torch'
assert 'lm-diverge' in lossradar_trainer.experiment.available()
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
    assert (dest / "lossradar_trainer" / "experiments" / "lm-diverge.json").exists()
    assert (dest / "lossradar_trainer" / "train.py").exists() and not (dest / "lossradar" / "train.py").exists()
    for module in ("transformers", "lightning", "accelerate"):
        assert (dest / "lossradar" / "integrations" / f"{module}.py").exists()
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


def test_the_pip_package_holds_the_sdk_and_its_integrations_not_the_reference_trainer(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy: a build writes build/ and *.egg-info beside pyproject.toml
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(TRAINER / name, src / name)
    for package in ("lossradar", "lossradar_trainer"):
        shutil.copytree(TRAINER / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), src],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("lossradar-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"lossradar/__init__.py", "lossradar/py.typed", "lossradar/integrations/transformers.py"} <= set(names)
    assert {"lossradar/integrations/lightning.py", "lossradar/integrations/accelerate.py"} <= set(names)
    assert not [n for n in names if n.startswith("lossradar_trainer") or n.endswith(("train.py", "losses.py"))]
    entry_points = [n for n in names if n.endswith("entry_points.txt")]
    assert not entry_points or "lossradar.train" not in zipfile.ZipFile(wheel).read(entry_points[0]).decode()
