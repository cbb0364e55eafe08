#!/usr/bin/env python3
"""Published training logs of other people's runs, as fixtures of the evaluation (eval/README.md,
"Published runs").

    python eval/published/extract.py --from DIR [--fetch] [--out test/fixtures/published]

Every log of eval/published/sources.tsv (family, format, repository, commit, path, the key of its
training loss) is read from ``DIR/<owner>__<name>/<path>`` (``--fetch`` first downloads the missing
ones from raw.githubusercontent.com at the pinned commit), turned into flat rows — plain-text logs
by eval/published/textlogs.py, Hugging Face, Lightning and TensorBoard logs by the SDK's own log
reader (``lossradar.logs``, what ``lossradar detect`` uses) — labelled from the loss alone
(eval/label.py) and written gzipped to ``OUT/<family>/<name>.jsonl.gz``, with ``OUT/manifest.json``.

The split is fixed by the source, not by the results: a log is in the sealed split when the first
hex digit of sha1("<repository>:<folder of the log>") is 8 or more, so the seeds of one record, or
the checkpoints of one run, never straddle the two.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import sys
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from label import label_rows  # noqa: E402
from runio import decode_row  # noqa: E402
from textlogs import FORMATS, parse  # noqa: E402

from lossradar.encoding import encode_values  # noqa: E402
from lossradar.logs import discover, read  # noqa: E402

SOURCES = HERE / "sources.tsv"
LOG_FORMATS = ("huggingface", "lightning", "tensorboard")


def local_path(root: Path, repo: str, path: str) -> Path:
    return root / repo.replace("/", "__") / path


def fetch(root: Path, repo: str, commit: str, path: str) -> None:
    dst = local_path(root, repo, path)
    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    url = f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.request.quote(path)}"
    with urllib.request.urlopen(url, timeout=60) as res:
        dst.write_bytes(res.read())


def split_of(repo: str, path: str) -> str:
    key = f"{repo}:{PurePosixPath(path).parent}".encode()
    return "sealed" if int(hashlib.sha1(key).hexdigest()[0], 16) >= 8 else "dev"


def rows_of(file: Path, fmt: str, loss_key: str) -> list[dict[str, Any]]:
    if fmt in FORMATS:
        return parse(file.read_text(encoding="utf-8", errors="replace"), fmt)  # type: ignore[arg-type]
    found, _ = discover(file)
    run = read(found[0], file.stem)
    out = []
    for step, _t, values in run.rows:
        row = {"step": step, **values}
        if loss_key != "loss" and loss_key in row:
            row["loss"] = row.pop(loss_key)
        out.append(row)
    return out


def name_of(repo: str, path: str) -> str:
    """The repository's name and the log's last two path parts: short, and unique in sources.tsv."""
    parts = list(PurePosixPath(path).with_suffix("").parts[-2:])
    return "__".join([repo.split("/")[1], *parts])


def write_gz(rows: list[dict[str, Any]], dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    # mtime 0: the same rows give the same bytes, so a rerun leaves git clean.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for r in rows:
            flat = {
                "step": r["step"],
                **encode_values({k: v for k, v in r.items() if k != "step"}),
            }
            gz.write((json.dumps(flat, allow_nan=False) + "\n").encode())
    dst.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="src", type=Path, required=True)
    ap.add_argument("--fetch", action="store_true")
    ap.add_argument(
        "--out",
        type=Path,
        default=HERE.parent.parent / "test" / "fixtures" / "published",
    )
    args = ap.parse_args(argv)
    with SOURCES.open(encoding="utf-8") as f:
        sources = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))
    runs: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for s in sources:
        repo, commit, path, fmt, family = (
            s["repo"],
            s["commit"],
            s["path"],
            s["format"],
            s["family"],
        )
        if args.fetch:
            fetch(args.src, repo, commit, path)
        rows = rows_of(local_path(args.src, repo, path), fmt, s["loss_key"])
        if sum(1 for r in rows if "loss" in r) < 30:
            print(f"skipped {repo}/{path}: fewer than 30 loss rows", file=sys.stderr)
            continue
        digest = hashlib.sha1(json.dumps(rows, sort_keys=True).encode()).hexdigest()
        name = name_of(repo, path)
        if name in runs:
            raise SystemExit(f"{repo}/{path}: its name {name} is taken; give the log another path")
        if digest in seen:
            print(
                f"skipped {repo}/{path}: the same rows as {seen[digest]}",
                file=sys.stderr,
            )
            continue
        seen[digest] = name
        file = f"{family}/{name}.jsonl.gz"
        write_gz(rows, args.out / file)
        label = label_rows([decode_row(r) for r in rows])
        runs[name] = {
            "family": family,
            "format": fmt,
            "file": file,
            "split": split_of(repo, path),
            "source": {"repo": repo, "commit": commit, "path": path},
            "mechanism": "published",
            "label": label.label,
            "onset": label.onset,
            "reason": label.reason,
            "healthy_phase": label.healthy_phase,
            "rows": len(rows),
            "last_step": rows[-1]["step"],
        }
    manifest = {
        "generator": "eval/published/extract.py",
        "split": {"rule": "sha1(repository:folder)[0] >= 8 is sealed"},
        "runs": dict(sorted(runs.items())),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for r in runs.values():
        counts[f"{r['split']}/{r['label']}"] = counts.get(f"{r['split']}/{r['label']}", 0) + 1
    print(json.dumps({"runs": len(runs), "labels": dict(sorted(counts.items()))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
