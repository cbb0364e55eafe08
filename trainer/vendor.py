"""Copies what a trainer launched by the extension imports, besides torch, into one folder:

    python trainer/vendor.py dist/python [--min-python 3.10]

gives ``dist/python/lossradar/`` (this SDK, its integrations included), ``dist/python/lossradar_trainer/``
(the reference trainer, experiments included: the extension launches ``python -m
lossradar_trainer.train``; it is not in the pip package) and ``dist/python/websockets/`` (pure
Python: the optional C speed-up is left out and ``websockets.frames`` falls back to Python without
it). With ``PYTHONPATH=dist/python`` a Python that has torch needs nothing else.

The copy must run on every Python the SDK supports (``--min-python``, default 3.10, as in
pyproject.toml). The installed ``websockets`` is copied when its ``Requires-Python`` allows that
version; otherwise (websockets 17 needs Python 3.11) the newest pure-Python wheel that does is
fetched from PyPI with pip (``websockets>=14``) and unpacked instead.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP_SUFFIXES = (".so", ".pyd", ".c", ".pyc", ".dylib")
SPEC = "websockets>=14"
#: The packages of this folder that the extension ships: the SDK and the reference trainer.
OURS = ("lossradar", "lossradar_trainer")


def _ignore(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(SKIP_SUFFIXES) or n.endswith(".egg-info")]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"vendor: the package {name!r} is not importable by {sys.executable}")
    return Path(next(iter(spec.submodule_search_locations)))


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def supports(requires_python: str | None, python: str) -> bool:
    """Whether a ``Requires-Python`` of the simple ``>=X.Y`` form admits ``python`` (others: yes)."""
    if not requires_python:
        return True
    ok = True
    for raw in requires_python.split(","):
        clause = raw.strip()
        if clause.startswith(">="):
            ok = ok and _version_tuple(python) >= _version_tuple(clause[2:])
    return ok


def _download_pure_wheel(python: str, workdir: Path) -> tuple[Path, str]:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        SPEC,
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        "any",
        "--python-version",
        python,
        "-d",
        str(workdir),
        "-q",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(workdir.glob("websockets-*-py3-none-any.whl"))
    if proc.returncode != 0 or not wheels:
        raise SystemExit(f"vendor: could not fetch a pure-Python websockets wheel for Python {python}:\n{proc.stderr}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        zf.extractall(workdir / "unpacked")
    version = wheels[-1].name.split("-")[1]
    return workdir / "unpacked" / "websockets", version


def vendor(dest: Path, min_python: str = "3.10", with_lossradar: bool = True) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    notes = []
    installed = importlib.metadata.metadata("websockets")
    requires = next(iter(installed.get_all("Requires-Python") or []), None)
    with tempfile.TemporaryDirectory() as tmp:
        if supports(requires, min_python):
            source, version, origin = package_dir("websockets"), installed["Version"], "the installed package"
        else:
            source, version = _download_pure_wheel(min_python, Path(tmp))
            origin = f"the PyPI wheel (the installed {installed['Version']} requires Python {requires})"
        target = dest / "websockets"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=_ignore)
        notes.append(f"websockets {version} from {origin} → {target}")
        licenses = sorted(source.parent.glob(f"websockets-{version}.dist-info/**/LICENSE*"))
        if licenses:
            shutil.copy(licenses[0], target / "LICENSE")
    if with_lossradar:
        for package in OURS:
            target = dest / package
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(HERE / package, target, ignore=_ignore)
            notes.append(f"{package} from {HERE / package} → {target}")
    (dest / "VENDORED.txt").write_text(
        "\n".join(notes) + "\nwebsockets: BSD-3-Clause, https://github.com/python-websockets/websockets; pure Python, "
        f"for Python ≥ {min_python}\n",
        encoding="utf-8",
    )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="target folder, e.g. dist/python")
    parser.add_argument("--min-python", default="3.10", help="oldest Python the copy must run on (default 3.10)")
    parser.add_argument("--websockets-only", action="store_true", help="leave lossradar and lossradar_trainer out")
    args = parser.parse_args(argv)
    for note in vendor(args.dest, args.min_python, with_lossradar=not args.websockets_only):
        print(f"vendor: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
