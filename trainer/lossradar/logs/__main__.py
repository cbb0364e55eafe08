"""``python -m lossradar.logs import PATH [--runs DIR] [--name N] [--from FORMAT] [--json]``.

Exit status: 0 when every log found was imported, 1 when one could not be read or none was found
(the others are still imported), 2 on a usage error. With ``--json`` stdout holds one JSON object,
``{"runs": […], "warnings": […], "errors": […]}``: what ``lossradar import`` (the Node CLI) reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import cast

from lossradar.local import DEFAULT_ROOT

from . import FORMATS, Format, import_logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lossradar.logs", description="Logs you already have, as Loss Radar runs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="write every run found under PATH to the runs folder")
    imp.add_argument("path", type=Path, help="a log folder (or one log file); a folder of many runs gives many runs")
    imp.add_argument("--runs", type=Path, default=DEFAULT_ROOT, help=f"the runs folder (default {DEFAULT_ROOT})")
    imp.add_argument("--name", help="the run's name (several runs: NAME/<folder>); default: the folder's name")
    imp.add_argument("--from", dest="only", choices=FORMATS, help="import this format only")
    imp.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    result = import_logs(args.path, args.runs, name=args.name, only=cast("Format | None", args.only))
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        for run in result.runs:
            print(f"{run.dir}  {run.name}  ({run.format}, {run.rows} rows, {len(run.metrics)} metrics)")
        for w in result.warnings:
            print(f"warning: {w}", file=sys.stderr)
        for e in result.errors:
            print(f"error: {e}", file=sys.stderr)
    return 1 if result.errors or not result.runs else 0


if __name__ == "__main__":
    sys.exit(main())
