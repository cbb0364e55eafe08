"""TensorBoard event folders as runs: every record, both kinds of scalar, torn files, restarts."""

from __future__ import annotations

import importlib
import math
import shutil
import struct
import time
from pathlib import Path

import pytest
from torch.utils.tensorboard import SummaryWriter

from lossradar.logs import import_logs

from .test_logs_import import only_run, stored_meta, stored_rows, write_summaries

STEPS = 20_000
SPIKE = 12_345
NAN = 17_000


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """20 000 steps of a calm loss with one spike and one NaN: twice what TensorBoard's default
    reservoir keeps of a tag."""
    folder = tmp_path_factory.mktemp("tb") / "long"
    before = time.time()
    writer = SummaryWriter(str(folder))
    for step in range(STEPS):
        loss = 500.0 if step == SPIKE else math.nan if step == NAN else 2.0 + (step % 7) * 0.01
        writer.add_scalar("loss", loss, step)
        if step % 100 == 0:
            writer.add_scalar("lr", 0.001, step)
    writer.close()
    return folder, before, time.time()


def test_every_record_is_imported_so_the_one_spike_is_there(
    long_run: tuple[Path, float, float], tmp_path: Path
) -> None:
    folder, before, after = long_run
    accumulator = importlib.import_module("tensorboard.backend.event_processing.event_accumulator")

    sampled = accumulator.EventAccumulator(str(folder)).Reload().Scalars("loss")
    assert len(sampled) == 10_000  # the default size guidance: a reader that used it would lose half

    rows = stored_rows(only_run(import_logs(folder, tmp_path / "runs")))

    assert [r["step"] for r in rows] == list(range(STEPS))
    assert rows[SPIKE]["loss"] == 500.0
    assert math.isnan(rows[NAN]["loss"])
    assert rows[1]["loss"] == 2.01  # float32 on disk, the shortest decimal of it in the store
    assert [r["step"] for r in rows if "lr" in r] == list(range(0, STEPS, 100))
    assert {r["lr"] for r in rows if "lr" in r} == {0.001}
    assert all(before <= r["time"] <= after for r in rows)


def test_the_run_begins_and_ends_at_its_wall_times(long_run: tuple[Path, float, float], tmp_path: Path) -> None:
    folder, before, after = long_run
    meta = stored_meta(only_run(import_logs(folder, tmp_path / "runs")))
    assert meta["name"] == "long"
    assert before <= meta["createdAt"] <= meta["endedAt"] <= after
    assert meta["config"] == {"imported_from": {"format": "tensorboard", "path": str(folder.resolve())}}


def test_tensor_scalars_of_newer_writers_are_scalars_too_and_other_data_is_said_not_imported(tmp_path: Path) -> None:
    import numpy as np

    writer = SummaryWriter(str(tmp_path / "tb"))
    for step in range(3):
        # new_style writes a rank-0 tensor with the scalars plugin's metadata, as tf.summary.scalar does.
        writer.add_scalar("eval/accuracy", 0.5 + step / 10, step, new_style=True)
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_histogram("weights", np.arange(10.0) * step, step)
        writer.add_text("notes", f"step {step}", step)
    writer.close()

    result = import_logs(tmp_path / "tb", tmp_path / "runs")

    rows = stored_rows(only_run(result))
    assert [(r["step"], r["eval/accuracy"], r["loss"]) for r in rows] == [
        (0, 0.5, 1.0),
        (1, 0.6, 0.5),
        (2, 0.7, pytest.approx(1 / 3)),
    ]
    assert sorted(w.split(": ", 1)[1] for w in result.warnings) == [
        "1 tag(s) of histo data are not scalars; not imported (weights)",
        "1 tag(s) of text data are not scalars; not imported (notes/text_summary)",
    ]


def record_starts(path: Path) -> list[int]:
    """Where each TFRecord begins: length (8 bytes), its CRC (4), the data, the data's CRC (4)."""
    data = path.read_bytes()
    starts, at = [], 0
    while at < len(data):
        starts.append(at)
        (length,) = struct.unpack("<Q", data[at : at + 8])
        at += 8 + 4 + length + 4
    return starts


def test_a_torn_event_file_keeps_every_record_before_the_tear_and_says_where_it_stopped(tmp_path: Path) -> None:
    write_summaries(tmp_path / "tb", {step: {"loss": float(step)} for step in range(50)})
    [events] = (tmp_path / "tb").iterdir()
    starts = record_starts(events)
    assert len(starts) == 51  # the file_version record, then one per step
    torn_at = starts[40] + 10  # the 41st record, cut inside its data
    with events.open("r+b") as f:
        f.truncate(torn_at)

    result = import_logs(tmp_path / "tb", tmp_path / "runs")

    assert [r["step"] for r in stored_rows(only_run(result))] == list(range(39))
    assert result.warnings == [
        f"{events}: record 40 at byte {starts[40]} of {torn_at} is truncated or corrupt; "
        "kept the 40 record(s) before it, the last 10 byte(s) were not read"
    ]


def test_a_corrupt_record_stops_the_file_there_and_keeps_what_came_before(tmp_path: Path) -> None:
    write_summaries(tmp_path / "tb", {step: {"loss": float(step)} for step in range(20)})
    [events] = (tmp_path / "tb").iterdir()
    starts = record_starts(events)
    data = bytearray(events.read_bytes())
    data[starts[10] + 14] ^= 0xFF  # a byte of the 11th record's data: its CRC no longer matches
    events.write_bytes(bytes(data))

    result = import_logs(tmp_path / "tb", tmp_path / "runs")

    assert [r["step"] for r in stored_rows(only_run(result))] == list(range(9))
    [warning] = result.warnings
    assert warning.startswith(f"{events}: record 10 at byte {starts[10]} of {len(data)} is truncated or corrupt")


def test_a_file_with_no_record_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "tb").mkdir()
    empty = tmp_path / "tb" / "events.out.tfevents.1700000000.host.1.0"
    empty.write_bytes(b"\x01\x02\x03")
    result = import_logs(tmp_path / "tb", tmp_path / "runs")
    assert result.runs == []
    assert result.errors == [f"{empty}: no TensorBoard records could be read"]


def test_a_restarted_writer_is_one_run_whose_later_values_win(tmp_path: Path) -> None:
    folder = tmp_path / "tb"
    write_summaries(folder, {step: {"loss": 2.0} for step in range(10)})
    time.sleep(1.1)  # the next file is named after the second it opens in
    # Resumed from the checkpoint at step 5: steps 5 to 9 are logged again.
    write_summaries(folder, {step: {"loss": 1.0} for step in range(5, 15)})
    assert len(list(folder.iterdir())) == 2

    result = import_logs(folder, tmp_path / "runs")

    rows = stored_rows(only_run(result))
    assert [(r["step"], r["loss"]) for r in rows] == [(s, 2.0) for s in range(5)] + [(s, 1.0) for s in range(5, 15)]
    assert result.warnings == [
        f"{folder}: 5 value(s) logged again at a step already seen with another value; the later one is kept"
    ]


def test_one_event_file_imports_on_its_own(long_run: tuple[Path, float, float], tmp_path: Path) -> None:
    folder, _, _ = long_run
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    [events] = copy.iterdir()
    result = import_logs(events, tmp_path / "runs", name="single")
    assert result.runs[0].name == "single" and result.runs[0].rows == STEPS
