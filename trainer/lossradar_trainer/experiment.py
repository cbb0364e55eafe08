"""Experiments of the reference trainer: JSON files in ``lossradar_trainer/experiments/`` checked against
``experiment.schema.json`` on load. A tiny validator covers the subset of JSON Schema the schema
uses (type, enum, minimum/maximum, exclusiveMinimum/exclusiveMaximum, pattern, required,
properties, additionalProperties), so no ``jsonschema`` dependency is needed. Standard library only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPERIMENTS_DIR = Path(__file__).resolve().parent / "experiments"
SCHEMA_PATH = EXPERIMENTS_DIR / "experiment.schema.json"


class ExperimentError(ValueError):
    """An experiment file or a ``--set`` override that does not fit the schema."""


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: object, expected: str) -> bool:
    actual = _type_name(value)
    if expected == "number":
        return actual in ("integer", "number") and math.isfinite(float(value))  # type: ignore[arg-type]
    if expected == "integer" and actual == "number":
        return float(value).is_integer()  # type: ignore[arg-type]
    return actual == expected


def validate(value: object, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Every violation of ``schema`` by ``value``, as ``"path: message"`` strings."""
    where = path or "(root)"
    errors: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        types = expected if isinstance(expected, list) else [expected]
        if not any(_is_type(value, t) for t in types):
            return [f"{where}: expected {' or '.join(types)}, got {_type_name(value)} {json.dumps(value)[:60]}"]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        errors.append(f"{where}: {json.dumps(value)} is not one of {choices}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} is above the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: {value} must be greater than {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append(f"{where}: {value} must be less than {schema['exclusiveMaximum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {json.dumps(value)} does not match {schema['pattern']}")
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required key {json.dumps(key)}")
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                errors.extend(validate(item, props[key], sub))
            elif schema.get("additionalProperties") is False:
                near = _nearest(key, props)
                hint = f" (did you mean {json.dumps(near)}?)" if near else ""
                errors.append(f"{sub}: unknown key{hint}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors.extend(validate(item, schema["additionalProperties"], sub))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors.extend(validate(item, schema["items"], f"{where}[{i}]"))
    return errors


def _nearest(key: str, candidates: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def config_schema(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    s = schema if schema is not None else load_schema()
    config: dict[str, Any] = s["properties"]["config"]
    return config


def defaults(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {k: v["default"] for k, v in config_schema(schema)["properties"].items()}


def available() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.json") if p.name != SCHEMA_PATH.name)


@dataclass
class Experiment:
    name: str
    task: str
    description: str
    expect: str | None
    config: dict[str, Any]
    path: Path
    #: ``config`` without the options of the other task (what the run reports).
    task_config: dict[str, Any]


def parse_override(item: str) -> tuple[str, Any]:
    """``key=value``: the value is read as JSON (``1e-2``, ``true``, ``"x"``), else as a string."""
    if "=" not in item:
        raise ExperimentError(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    raw = raw.strip()
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = {"True": True, "False": False}.get(raw, raw)  # none, pre, exp-ramp… stay strings
    return key, value


def load(name_or_path: str, overrides: Iterable[str] = (), **explicit: Any) -> Experiment:
    """Loads an experiment by name (``lm-diverge``) or path, applies ``key=value`` overrides and
    ``explicit`` values (``None`` ones are ignored), and validates the result against the schema."""
    schema = load_schema()
    path = Path(name_or_path)
    if not (path.suffix == ".json" and path.exists()):
        path = EXPERIMENTS_DIR / f"{name_or_path}.json"
    if not path.exists():
        raise ExperimentError(
            f"no experiment {name_or_path!r}; available: {', '.join(available())} (or a path to a .json file)"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ExperimentError(f"{path}: not valid JSON: {e}") from e
    errors = validate(doc, schema)
    if errors:
        raise ExperimentError(f"{path} does not fit experiment.schema.json:\n  " + "\n  ".join(errors))
    config = {**defaults(schema), **doc["config"]}
    cs = config_schema(schema)
    for item in overrides:
        key, value = parse_override(item)
        if key not in cs["properties"]:
            near = _nearest(key, cs["properties"])
            hint = f" (did you mean {near!r}?)" if near else ""
            raise ExperimentError(f"--set {key}: unknown option{hint}; see {SCHEMA_PATH.name}")
        config[key] = value
    for key, value in explicit.items():
        if value is not None:
            config[key] = value
    errors = validate(config, cs, "config")
    if errors:
        raise ExperimentError(f"{doc['name']}: invalid configuration:\n  " + "\n  ".join(errors))
    # integers given as 3.0 become ints
    for key, prop in cs["properties"].items():
        if prop.get("type") == "integer" and isinstance(config.get(key), float):
            config[key] = int(config[key])
    if doc["task"] == "lm" and config["d_model"] % config["n_head"]:
        raise ExperimentError(f"config.n_head: {config['n_head']} does not divide d_model {config['d_model']}")
    if config["batch_size"] % config["accumulate"]:
        raise ExperimentError(
            f"config.accumulate: {config['accumulate']} does not divide batch_size {config['batch_size']}"
        )
    own = {k: v for k, v in config.items() if cs["properties"][k].get("x-task", doc["task"]) == doc["task"]}
    return Experiment(
        name=doc["name"],
        task=doc["task"],
        description=doc.get("description", ""),
        expect=doc.get("expect"),
        config=config,
        path=path,
        task_config=own,
    )
