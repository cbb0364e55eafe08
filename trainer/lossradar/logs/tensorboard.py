"""TensorBoard event files (``events.out.tfevents.*``), read with TensorBoard's own record reader.

Every record is read: TensorBoard's ``EventAccumulator`` keeps a reservoir sample (10 000 scalars a
tag by default), which would drop the one spike a run is imported for. The records come from
``RawEventFileLoader`` so that the bytes read are known: a file torn by a crash keeps what came
before the tear, and the message says at which record and byte it stopped.

Scalars are both kinds a writer produces: ``simple_value`` (torch's ``SummaryWriter``, TF1) and a
rank-0 tensor whose summary metadata names the ``scalars`` plugin (``tf.summary.scalar``,
``SummaryWriter.add_scalar(new_style=True)``); such metadata may come with a tag's first value only,
so it is remembered per tag across the run's files, as TensorBoard does. Other plugins' data
(histograms, images, text, hparams) is not a metric and is counted in one warning. Lightning's
``TensorBoardLogger`` writes ``hparams.yaml`` beside the event files: it becomes the run's config.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

from ._model import Found, ImportedRun, LogReadError, RowBuilder
from ._yaml import config_beside

_STAMP = re.compile(r"tfevents\.(\d+(?:\.\d+)?)")
#: Each TFRecord is framed by a length (8 bytes) and two masked CRC32Cs (4 bytes each).
_FRAMING = 16


def is_event_file(name: str) -> bool:
    """The test TensorBoard itself applies (``io_wrapper.IsTensorFlowEventsFile``)."""
    return "tfevents" in name


def event_files(folder: Path) -> list[Path]:
    """A run's event files in the order they were written: a writer that restarts opens a new file,
    named after the time it opened."""
    files = [p for p in folder.iterdir() if p.is_file() and is_event_file(p.name)]

    def key(p: Path) -> tuple[float, str]:
        m = _STAMP.search(p.name)
        return (float(m.group(1)) if m else 0.0, p.name)

    return sorted(files, key=key)


def _tensorboard(where: Path) -> Any:
    # Through import_module: tensorboard ships no type information, and its modules are used as Any.
    try:
        event_file_loader = importlib.import_module("tensorboard.backend.event_processing.event_file_loader")
        event_pb2 = importlib.import_module("tensorboard.compat.proto.event_pb2")
        tensor_util = importlib.import_module("tensorboard.util.tensor_util")
        numpy = importlib.import_module("numpy")  # tensorboard's own dependency
    except ImportError as e:
        raise LogReadError(
            f"{where}: reading TensorBoard event files needs the tensorboard package: pip install tensorboard "
            f"(into {sys.executable}) [{e}]"
        ) from None
    return numpy, event_file_loader, event_pb2, tensor_util


def read(found: Found, name: str) -> ImportedRun:
    np, loader_mod, event_pb2, tensor_util = _tensorboard(found.root)
    float32 = np.float32

    def shortest(x: float) -> float:
        # A float32 as the shortest decimal that is that float32 (numpy's repr): `add_scalar(0.001)`
        # comes back as 0.001, not 0.0010000000474974513, and is still the same float32.
        return float(str(float32(x)))

    builder = RowBuilder(str(found.root))
    warnings: list[str] = []
    # Tag → plugin name of its first value (TF2 writes the metadata once per tag).
    plugins: dict[str, str] = {}
    ignored: dict[str, set[str]] = {}
    records = 0
    first_wall, last_wall = float("inf"), float("-inf")
    for path in found.files:
        size = path.stat().st_size
        offset = 0
        index = 0
        for record in loader_mod.RawEventFileLoader(str(path)).Load():
            index += 1
            offset += len(record) + _FRAMING
            try:
                event = event_pb2.Event.FromString(record)
            except Exception as e:  # protobuf's DecodeError; its module path differs between versions
                at = offset - len(record) - _FRAMING
                warnings.append(f"{path}: record {index - 1} (byte {at}): not an event ({e}); skipped")
                continue
            wall = event.wall_time
            first_wall, last_wall = min(first_wall, wall), max(last_wall, wall)
            if not event.HasField("summary"):
                continue
            step = event.step
            for value in event.summary.value:
                tag = value.tag
                plugin = plugins.get(tag)
                if plugin is None:
                    plugin = plugins[tag] = value.metadata.plugin_data.plugin_name if value.HasField("metadata") else ""
                kind = value.WhichOneof("value")
                if kind == "simple_value":
                    number: float | None = shortest(value.simple_value)
                elif kind == "tensor" and plugin == "scalars":
                    array = tensor_util.make_ndarray(value.tensor)
                    if array.size != 1 or array.dtype.kind not in "fiub":
                        number = None
                    elif array.dtype == float32:
                        number = shortest(float(array.reshape(())))
                    else:
                        number = float(array.reshape(()))
                else:
                    number = None
                if number is None:
                    ignored.setdefault(plugin or kind or "empty", set()).add(tag)
                    continue
                if step < 0:
                    warnings.append(f"{path}: record {index - 1}: step {step} is negative; {tag!r} skipped")
                    continue
                builder.add(step, tag, number, wall)
        records += index
        if offset < size:
            # The loader stops at the first record it cannot read whole (a torn tail, or a CRC that
            # does not match) and says nothing: the bytes left over are how we know.
            warnings.append(
                f"{path}: record {index} at byte {offset} of {size} is truncated or corrupt; "
                f"kept the {index} record(s) before it, the last {size - offset} byte(s) were not read"
            )
    builder.wall(first_wall)
    builder.wall(last_wall)
    if records == 0:
        where = found.files[0] if len(found.files) == 1 else found.root
        raise LogReadError(f"{where}: no TensorBoard records could be read")
    if len(builder) == 0:
        raise LogReadError(
            f"{found.root}: no scalars in {len(found.files)} event file(s)"
            + (f" (only {', '.join(sorted(ignored))} data)" if ignored else "")
        )
    for plugin, tags in sorted(ignored.items()):
        listed = ", ".join(sorted(tags)[:5]) + (", …" if len(tags) > 5 else "")
        warnings.append(f"{found.root}: {len(tags)} tag(s) of {plugin} data are not scalars; not imported ({listed})")
    # Lightning's TensorBoardLogger keeps the hyperparameters next to the event files.
    return builder.run(found, name, config_beside(found.root / "hparams.yaml", warnings), warnings)
