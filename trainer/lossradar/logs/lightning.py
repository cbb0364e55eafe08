"""Lightning's ``CSVLogger``: ``<save_dir>/<name>/version_<n>/metrics.csv`` and ``hparams.yaml``.

The CSV is sparse: the logger writes a row per ``log_metrics`` call, so train and validation values
of one step sit on different rows, with empty cells for what that call did not log, and the header
is the union of every key. ``step`` is the step; ``epoch`` is a metric like any other column.
"""

from __future__ import annotations

from ._model import Found, ImportedRun, LogReadError, RowBuilder, as_step
from ._table import parse_cells, read_table
from ._yaml import config_beside

METRICS_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.yaml"
_STEP = frozenset({"step"})


def read(found: Found, name: str) -> ImportedRun:
    path = found.files[0]
    warnings: list[str] = []
    header, rows = read_table(path, ",", warnings)
    if "step" not in header:
        raise LogReadError(f"{path}:1: no step column (the header of a Lightning CSVLogger metrics.csv has one)")
    builder = RowBuilder(str(path))
    for line, cells in rows:
        step = as_step(cells["step"])
        if step is None:
            warnings.append(f"{path}:{line}: step {cells['step'][:80]!r} is not an integer ≥ 0; row skipped")
            continue
        values, bad = parse_cells(cells, _STEP)
        if bad is not None:
            warnings.append(f"{path}:{line}: {bad}; row skipped")
            continue
        for metric, value in values.items():
            builder.add(step, metric, value)
    if len(builder) == 0:
        raise LogReadError(f"{path}: no rows with values")
    return builder.run(found, name, config_beside(found.root / HPARAMS_FILE, warnings), warnings, files=[path])
