"""Logs you already have, as runs of the store: ``python -m lossradar.logs import PATH``.

Reads TensorBoard event folders, Hugging Face ``trainer_state.json``, Lightning ``CSVLogger`` and
DVCLive output, and writes each run it finds through the local store writer (docs/import.md), so
the extension shows it like any run it recorded. A folder of many runs imports as many runs.

Importing this module needs nothing but the standard library; TensorBoard's package is imported
when an event file is read, and PyYAML when a config file is.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossradar._version import __version__
from lossradar.local import LocalRunWriter, new_run_id

from . import dvclive, huggingface, lightning, tensorboard
from ._model import FORMATS, Format, Found, ImportedRun, LogReadError

__all__ = [
    "FORMATS",
    "Format",
    "Found",
    "ImportResult",
    "ImportedRun",
    "LogReadError",
    "WrittenRun",
    "discover",
    "import_logs",
    "read",
    "write",
]

_LOOKED_FOR = "events.out.tfevents.*, trainer_state.json, metrics.csv, plots/metrics/*.tsv"
#: Folders never searched, besides hidden ones (a `.lossradar` runs folder, `.git`): caches and installed packages.
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "wandb"})


def discover(path: Path, only: Format | None = None) -> tuple[list[Found], list[str]]:
    """The runs under ``path`` (a folder or one log file), and notes on what was passed over."""
    notes: list[str] = []
    if path.is_file():
        found = _classify_file(path)
        if found is None:
            raise LogReadError(
                f"{path}: not a log Loss Radar reads (an events.out.tfevents.* file, trainer_state.json, "
                "a Lightning metrics.csv or a DVCLive .tsv)"
            )
        return ([found] if only in (None, found.format) else []), notes
    if not path.is_dir():
        raise LogReadError(f"{path}: no such file or folder")
    out: list[Found] = []
    hf_roots: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(path):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        names = set(filenames)
        inside_hf = next((r for r in hf_roots if here.is_relative_to(r)), None)
        # A Trainer output folder: its checkpoints are one run, read from the newest state. A
        # checkpoint folder is reached only when it is `path` itself: that checkpoint is read.
        states = huggingface.state_files(here) if inside_hf is None else []
        if states:
            root = here.parent if huggingface.checkpoint_number(here) is not None else here
            out.append(Found("huggingface", root, states))
            hf_roots.append(here)
            dirnames[:] = [d for d in dirnames if huggingface.checkpoint_number(here / d) is None]
        events = [here / n for n in filenames if tensorboard.is_event_file(n)]
        if events:
            if inside_hf is not None and only is None:
                notes.append(
                    f"{here}: TensorBoard logs of the Hugging Face run in {inside_hf}, already imported from its "
                    "trainer_state.json; not imported again (--from tensorboard imports them)"
                )
            else:
                out.append(Found("tensorboard", here, tensorboard.event_files(here)))
        if lightning.METRICS_FILE in names:
            out.append(Found("lightning", here, [here / lightning.METRICS_FILE]))
        if "plots" in dirnames and dvclive.metrics_dir(here).is_dir():
            files = dvclive.metric_files(here)
            if files:
                out.append(Found("dvclive", here, files))
            dirnames.remove("plots")
    return [f for f in out if only in (None, f.format)], notes


def _classify_file(path: Path) -> Found | None:
    folder = path.parent
    if tensorboard.is_event_file(path.name):
        return Found("tensorboard", folder, [path])
    if path.name == huggingface.STATE_FILE:
        root = folder.parent if huggingface.checkpoint_number(folder) is not None else folder
        return Found("huggingface", root, [path])
    if path.suffix == ".csv":
        return Found("lightning", folder, [path])
    if path.suffix == ".tsv":
        # Under plots/metrics of a DVCLive folder the metric keeps its nested name.
        for ancestor in path.parents:
            if ancestor.name == "metrics" and ancestor.parent.name == "plots":
                return Found("dvclive", ancestor.parent.parent, [path])
        return Found("dvclive", folder, [path])
    return None


def _names(path: Path, found: list[Found], name: str | None) -> list[str]:
    """``--name`` or the folder's name for a single run; for several, that name and each run's folder
    under ``path`` (``tb_logs/run-a``)."""
    base_dir = path.parent if path.is_file() else path
    base = name or base_dir.resolve().name or str(base_dir)
    if len(found) == 1:
        f = found[0]
        if name:
            return [name]
        if f.format == "huggingface" or path.is_file():
            return [f.root.resolve().name or base]
        return [base]
    out = []
    for f in found:
        try:
            rel = f.root.resolve().relative_to(base_dir.resolve()).as_posix()
        except ValueError:
            rel = f.root.name
        out.append(base if rel in ("", ".") else f"{base}/{rel}")
    return out


def read(found: Found, name: str) -> ImportedRun:
    readers = {
        "tensorboard": tensorboard.read,
        "huggingface": huggingface.read,
        "lightning": lightning.read,
        "dvclive": dvclive.read,
    }
    return readers[found.format](found, name)


@dataclass
class WrittenRun:
    id: str
    dir: Path
    name: str
    format: Format
    source: Path
    rows: int
    metrics: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dir": str(self.dir),
            "name": self.name,
            "format": self.format,
            "source": str(self.source.resolve()),
            "rows": self.rows,
            "metrics": self.metrics,
        }


@dataclass
class ImportResult:
    runs: list[WrittenRun] = field(default_factory=list)
    #: Something was passed over, but its run was imported (a skipped line, a torn tail).
    warnings: list[str] = field(default_factory=list)
    #: A log that gave no run at all.
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"runs": [r.as_json() for r in self.runs], "warnings": self.warnings, "errors": self.errors}


def write(run: ImportedRun, runs_dir: Path) -> WrittenRun:
    """One run folder, written through the local store writer: status ``completed``, ``createdAt`` the
    first wall time of the logs (else the log file's modification time), the format and the source
    path in ``config.imported_from``."""
    mtimes = [p.stat().st_mtime for p in run.files if p.exists()]
    created = run.first_time if run.first_time is not None else min(mtimes, default=time.time())
    ended = run.last_time if run.last_time is not None else max(mtimes, default=created)
    config = {**run.config, "imported_from": {"format": run.format, "path": str(run.source.resolve())}}
    run_id = new_run_id(run.name)
    # Written in a hidden folder of the runs folder (no run id starts with a dot, so no reader lists
    # it) and renamed into place once whole: the Runs tree never shows a half-imported run.
    staging = runs_dir / f".import-{run_id}"
    writer = LocalRunWriter(
        staging, run_id, name=run.name, config=config, device=None, sdk_version=__version__, resume=False
    )
    metrics: dict[str, None] = {}
    try:
        for step, t, values in run.rows:
            writer.write_row(step, t, values, None, None)
            metrics.update(dict.fromkeys(values))
        # The importer's process and host say nothing about the run; it ended when its logs did.
        writer.meta.update({"createdAt": created, "host": None, "pid": None})
        writer.close("completed", None, ended_at=max(ended, created))
        target = runs_dir / run_id
        os.replace(writer.dir, target)
    finally:
        writer.close("failed", "import stopped")  # a no-op once closed
        shutil.rmtree(staging, ignore_errors=True)
    return WrittenRun(run_id, target, run.name, run.format, run.source, len(run.rows), list(metrics))


def import_logs(
    path: Path | str,
    runs_dir: Path | str,
    name: str | None = None,
    only: Format | None = None,
) -> ImportResult:
    """Every run under ``path`` written to ``runs_dir``; a log that cannot be read is an error of the
    result, never the end of the import (the other runs are still written)."""
    path, runs_dir = Path(path), Path(runs_dir)
    result = ImportResult()
    try:
        found, notes = discover(path, only)
    except LogReadError as e:
        result.errors.append(str(e))
        return result
    result.warnings.extend(notes)
    if not found:
        what = f"{only} logs" if only else f"logs ({_LOOKED_FOR})"
        result.errors.append(f"{path}: no {what} found")
        return result
    for f, run_name in zip(found, _names(path, found, name), strict=True):
        try:
            run = read(f, run_name)
        except LogReadError as e:
            result.errors.append(str(e))
            continue
        result.warnings.extend(run.warnings)
        result.runs.append(write(run, runs_dir))
    return result
