"""``hparams.yaml`` (Lightning) and ``params.yaml`` (DVCLive) as a run's config.

PyYAML comes with both frameworks but not with every Python, so it is imported when a file is
read, and a missing one costs the config only, never the run.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any


def read_config(path: Path, warnings: list[str]) -> dict[str, Any]:
    """The mapping in ``path``, or ``{}`` with a warning that says why it could not be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        warnings.append(f"{path}: config not read ({e.strerror or e})")
        return {}
    try:
        # Through import_module: PyYAML's types are a separate package, and the module is used as Any.
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        warnings.append(f"{path}: config not read: reading YAML needs PyYAML (pip install pyyaml)")
        return {}

    # Safe loading, where a Python-specific tag (Lightning dumps an argparse Namespace or an enum
    # that way) becomes its text instead of failing the file: nothing is ever constructed.
    lenient: Any = type("Lenient", (yaml.SafeLoader,), {})

    def as_text(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        value = loader.construct_scalar(node)
        return f"!{suffix} {value}".rstrip() if value else f"!{suffix}"

    lenient.add_multi_constructor("", as_text)
    try:
        loaded = yaml.load(text, Loader=lenient)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        warnings.append(f"{where}: config not read: {getattr(e, 'problem', None) or e}")
        return {}
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        warnings.append(f"{path}: config not read: expected a mapping, got {type(loaded).__name__}")
        return {}
    return {str(k): v for k, v in loaded.items()}


def config_beside(path: Path, warnings: list[str]) -> dict[str, Any]:
    """The configuration a format keeps in YAML beside its logs (hparams.yaml, params.yaml), if there is one."""
    return read_config(path, warnings) if path.is_file() else {}
