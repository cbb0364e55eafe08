"""DVCLive: ``<dir>/plots/metrics/**/<name>.tsv``, one file per metric, and ``<dir>/params.yaml``.

Each file has a ``step`` column and one named after the metric's last part (``log_metric("train/
loss", …)`` writes ``plots/metrics/train/loss.tsv`` with a ``loss`` column), and a ``timestamp``
column in milliseconds when logged with ``timestamp=True``. The metric is named by its path under
``plots/metrics``, joined with ``/``, as it was logged.
"""

from __future__ import annotations

from pathlib import Path

from ._model import Found, ImportedRun, LogReadError, RowBuilder, as_step
from ._table import read_table
from ._yaml import config_beside

PARAMS_FILE = "params.yaml"


def metrics_dir(root: Path) -> Path:
    return root / "plots" / "metrics"


def metric_files(root: Path) -> list[Path]:
    return sorted(p for p in metrics_dir(root).rglob("*.tsv") if p.is_file())


def metric_name(root: Path, path: Path) -> str:
    try:
        parts = path.relative_to(metrics_dir(root)).with_suffix("").parts
    except ValueError:
        return path.stem
    return "/".join(parts)


def read(found: Found, name: str) -> ImportedRun:
    warnings: list[str] = []
    builder = RowBuilder(str(found.root))
    for path in found.files:
        metric = metric_name(found.root, path)
        try:
            header, rows = read_table(path, "\t", warnings)
        except LogReadError as e:
            warnings.append(f"{e}; metric {metric!r} not imported")
            continue
        others = [c for c in header if c not in ("step", "timestamp")]
        column = path.stem if path.stem in header else (others[0] if len(others) == 1 else None)
        if "step" not in header or column is None:
            warnings.append(f"{path}:1: expected the columns step and {path.stem!r}, got {header!r:.200}; not imported")
            continue
        for line, cells in rows:
            step = as_step(cells["step"])
            if step is None:
                warnings.append(f"{path}:{line}: step {cells['step'][:80]!r} is not an integer ≥ 0; row skipped")
                continue
            cell = cells[column]
            try:
                value = float(cell)
            except ValueError:
                warnings.append(f"{path}:{line}: {column}: {cell[:80]!r} is not a number; row skipped")
                continue
            time: float | None = None
            stamp = cells.get("timestamp", "")
            if stamp:
                try:
                    time = float(stamp) / 1000.0
                except ValueError:
                    warnings.append(f"{path}:{line}: timestamp {stamp[:80]!r} is not a number; the row keeps no time")
            builder.add(step, metric, value, time)
    if len(builder) == 0:
        why = f" ({warnings[-1]})" if warnings else ""
        raise LogReadError(f"{found.root}: no DVCLive metric could be read{why}")
    return builder.run(found, name, config_beside(found.root / PARAMS_FILE, warnings), warnings)
