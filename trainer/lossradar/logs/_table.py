"""Delimited text logs (Lightning's ``metrics.csv``, DVCLive's ``.tsv``) read line by line: a bad line
is skipped with a warning naming it, never the whole file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ._model import LogReadError


def read_table(path: Path, delimiter: str, warnings: list[str]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows as ``(line number, {column: cell})``. Skipped, each with a warning: a
    row whose field count is not the header's, and a last line the writer never finished (no
    newline after it: a crash mid-write)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LogReadError(f"{path}: cannot be read ({e})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            raw.append((reader.line_num, row))
    except csv.Error as e:
        warnings.append(f"{path}:{reader.line_num}: {e}; the rest of the file was not read")
    if not raw:
        raise LogReadError(f"{path}: empty file")
    if not text.endswith("\n"):
        line = raw.pop()[0]
        if not raw:
            raise LogReadError(f"{path}:{line}: torn header (the writer stopped mid-line)")
        warnings.append(f"{path}:{line}: torn last line (the writer stopped mid-line); skipped")
    header = raw[0][1]
    rows: list[tuple[int, dict[str, str]]] = []
    for line, row in raw[1:]:
        if not row:
            continue  # a blank line
        if len(row) != len(header):
            warnings.append(f"{path}:{line}: {len(row)} field(s) where the header has {len(header)}; row skipped")
            continue
        rows.append((line, dict(zip(header, row, strict=True))))
    return header, rows


def parse_cells(cells: dict[str, str], skip: frozenset[str]) -> tuple[dict[str, float], str | None]:
    """The numbers of a row (empty cells are values not logged on that row); the first cell that
    is not a number, as ``column: 'text'``, makes the whole row bad."""
    values: dict[str, float] = {}
    for column, cell in cells.items():
        if column in skip or cell == "":
            continue
        try:
            values[column] = float(cell)
        except ValueError:
            return {}, f"{column}: {cell[:80]!r} is not a number"
    return values, None
