"""How a trainer finds the hub (design.md §1, docs/protocol.md "Finding the hub"). Standard library only.

In order:

1. ``LOSSRADAR_URL`` + ``LOSSRADAR_TOKEN`` (+ optional ``LOSSRADAR_RUN_ID``) in the environment
   (set by the extension's launcher and in every integrated terminal);
2. else the discovery directory ``$LOSSRADAR_DISCOVERY_DIR`` (default ``~/.lossradar/hubs/``): one
   ``<pid>-<port>.json`` file per hub; the entry whose process is alive and one of whose folders
   contains the working directory wins, the deepest folder first;
3. else no hub (the caller writes the run to the local store layout and warns once).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .encoding import valid_run_id

ENV_URL = "LOSSRADAR_URL"
ENV_TOKEN = "LOSSRADAR_TOKEN"
ENV_RUN_ID = "LOSSRADAR_RUN_ID"
ENV_DISCOVERY_DIR = "LOSSRADAR_DISCOVERY_DIR"


@dataclass(frozen=True)
class HubAddress:
    url: str
    token: str
    #: ``"env"`` or the discovery file the address came from.
    origin: str
    run_id: str | None = None
    folders: tuple[str, ...] = field(default=())


def default_discovery_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    configured = env.get(ENV_DISCOVERY_DIR)
    if configured:
        return Path(configured)
    return Path.home() / ".lossradar" / "hubs"


def is_process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists but belongs to someone else
        return True
    except OSError:
        return False
    return True


def read_hubs(directory: Path) -> list[tuple[Path, dict[str, object]]]:
    """Live entries of the discovery directory; unreadable files and dead processes are skipped."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out: list[tuple[Path, dict[str, object]]] = []
    for name in names:
        if not name.endswith(".json"):
            continue
        path = directory / name
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a half-written or foreign file is not a hub
        if not isinstance(entry, dict):
            continue
        pid, url, token, folders = entry.get("pid"), entry.get("url"), entry.get("token"), entry.get("folders")
        if not (isinstance(pid, int) and isinstance(url, str) and isinstance(token, str)):
            continue
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            continue
        if is_process_alive(pid):
            out.append((path, entry))
    return out


def _contains(folder: str, here: str) -> bool:
    return here == folder or here.startswith(folder.rstrip(os.sep) + os.sep)


def pick_hub(entries: list[tuple[Path, dict[str, object]]], cwd: str) -> tuple[Path, dict[str, object]] | None:
    """The live hub whose folder contains ``cwd``; the deepest folder wins (ties: the newest hub)."""
    heres = {os.path.abspath(cwd), os.path.realpath(cwd)}
    best: tuple[Path, dict[str, object]] | None = None
    best_key: tuple[int, float] = (-1, 0.0)
    for path, entry in entries:
        folders = entry.get("folders")
        assert isinstance(folders, list)
        started = entry.get("startedAt")
        started_at = float(started) if isinstance(started, int | float) else 0.0
        for folder in folders:
            candidates = {os.path.abspath(str(folder)), os.path.realpath(str(folder))}
            for f in candidates:
                if any(_contains(f, here) for here in heres):
                    key = (len(f), started_at)
                    if key > best_key:
                        best, best_key = (path, entry), key
    return best


def find_hub(cwd: str | None = None, env: dict[str, str] | None = None) -> HubAddress | None:
    """The hub this process should talk to, or ``None``."""
    env = dict(os.environ) if env is None else env
    run_id = env.get(ENV_RUN_ID) or None
    if run_id is not None and not valid_run_id(run_id):
        run_id = None
    url, token = env.get(ENV_URL), env.get(ENV_TOKEN)
    if url and token:
        return HubAddress(url=url, token=token, origin="env", run_id=run_id)
    picked = pick_hub(read_hubs(default_discovery_dir(env)), os.getcwd() if cwd is None else cwd)
    if picked is None:
        return None
    path, entry = picked
    folders = entry.get("folders")
    return HubAddress(
        url=str(entry["url"]),
        token=str(entry["token"]),
        origin=str(path),
        run_id=run_id,
        folders=tuple(str(f) for f in folders) if isinstance(folders, list) else (),
    )
