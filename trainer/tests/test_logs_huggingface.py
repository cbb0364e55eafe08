"""Hugging Face trainer_state.json as runs: a real Trainer's output folder, its checkpoints, a NaN
loss, and torn or broken files."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from lossradar.logs import import_logs

from .test_logs_import import only_run, stored_meta, stored_rows

MAX_STEPS = 12


@pytest.fixture(scope="module")
def trainer_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Trainer run on CPU: a one-layer GPT-2, checkpoints at steps 6 and 12, an evaluation at each,
    the TensorBoard callback on, and save_state() at the end."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=64, n_positions=16))

    class Tokens(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __len__(self) -> int:
            return 16

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            ids = torch.randint(0, 64, (8,), generator=torch.Generator().manual_seed(i))
            return {"input_ids": ids, "labels": ids}

    out = tmp_path_factory.mktemp("hf") / "gpt2-tiny"
    args = TrainingArguments(
        str(out),
        max_steps=MAX_STEPS,
        per_device_train_batch_size=4,
        logging_steps=2,
        eval_strategy="steps",
        eval_steps=6,
        save_steps=6,
        report_to=["tensorboard"],
        use_cpu=True,
        disable_tqdm=True,
        learning_rate=1e-3,
    )
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(), eval_dataset=Tokens())
    trainer.train()
    trainer.save_state()
    return out


def log_history(path: Path) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = json.loads(path.read_text())["log_history"]
    return history


def by_step(history: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    merged: dict[int, dict[str, float]] = {}
    for record in history:
        merged.setdefault(record["step"], {}).update({k: v for k, v in record.items() if k != "step"})
    return merged


def test_an_output_folder_imports_its_log_history_under_the_names_it_was_logged_with(
    trainer_output: Path, tmp_path: Path
) -> None:
    result = import_logs(trainer_output, tmp_path / "runs")

    run_dir = only_run(result)
    rows = stored_rows(run_dir)
    expected = by_step(log_history(trainer_output / "trainer_state.json"))
    assert {r["step"]: {k: v for k, v in r.items() if k not in ("step", "seq")} for r in rows} == expected
    assert [r["step"] for r in rows] == [2, 4, 6, 8, 10, 12]
    assert {"loss", "learning_rate", "grad_norm", "epoch"} <= set(rows[0])
    assert {"eval_loss", "train_runtime", "train_loss"} <= set(rows[-1])
    assert "eval_loss" in rows[2] and "eval_loss" not in rows[1]
    assert all("time" not in r for r in rows)  # the format records none
    meta = stored_meta(run_dir)
    assert meta["name"] == "gpt2-tiny"
    assert meta["config"]["global_step"] == MAX_STEPS and meta["config"]["logging_steps"] == 2
    assert meta["config"]["imported_from"] == {"format": "huggingface", "path": str(trainer_output.resolve())}


def test_its_tensorboard_logs_are_not_imported_twice_unless_asked_for(trainer_output: Path, tmp_path: Path) -> None:
    result = import_logs(trainer_output, tmp_path / "runs")
    [note] = [w for w in result.warnings if "TensorBoard" in w]
    assert note.endswith("imported from its trainer_state.json; not imported again (--from tensorboard imports them)")

    tb = import_logs(trainer_output, tmp_path / "runs", only="tensorboard")
    rows = stored_rows(only_run(tb))
    assert [r["step"] for r in rows if "train/loss" in r] == [2, 4, 6, 8, 10, 12]


def test_without_the_output_folders_own_state_the_newest_checkpoint_is_read(
    trainer_output: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(trainer_output, out, ignore=shutil.ignore_patterns("*.safetensors", "*.pt", "*.pth", "runs"))
    (out / "trainer_state.json").unlink()

    rows = stored_rows(only_run(import_logs(out, tmp_path / "runs")))

    assert by_step(log_history(out / "checkpoint-12" / "trainer_state.json")) == {
        r["step"]: {k: v for k, v in r.items() if k not in ("step", "seq")} for r in rows
    }
    assert rows[-1]["step"] == 12


def test_a_checkpoint_folder_given_itself_imports_that_checkpoint(trainer_output: Path, tmp_path: Path) -> None:
    result = import_logs(trainer_output / "checkpoint-6", tmp_path / "runs")
    rows = stored_rows(only_run(result))
    assert [r["step"] for r in rows] == [2, 4, 6]
    assert result.runs[0].name == "gpt2-tiny"


def test_a_nan_loss_in_the_log_history_stays_nan(tmp_path: Path) -> None:
    from transformers import TrainerState

    state = TrainerState(global_step=3, max_steps=3)
    state.log_history = [
        {"loss": 2.5, "learning_rate": 1e-3, "grad_norm": 1.0, "epoch": 0.1, "step": 1},
        {"loss": math.nan, "learning_rate": 1e-3, "grad_norm": math.inf, "epoch": 0.2, "step": 2},
        {"eval_loss": 2.4, "epoch": 0.2, "step": 2},
    ]
    (tmp_path / "out").mkdir()
    state.save_to_json(str(tmp_path / "out" / "trainer_state.json"))
    assert "NaN" in (tmp_path / "out" / "trainer_state.json").read_text()

    run_dir = only_run(import_logs(tmp_path / "out", tmp_path / "runs"))

    rows = stored_rows(run_dir)
    assert math.isnan(rows[1]["loss"]) and rows[1]["grad_norm"] == math.inf and rows[1]["eval_loss"] == 2.4
    assert '"loss":"NaN"' in (run_dir / "metrics.jsonl").read_text()


def tear(path: Path, fraction: float) -> int:
    """Cuts the file at `fraction` of its length; returns the line (1-based) the cut falls on."""
    text = path.read_text()
    cut = int(len(text) * fraction)
    path.write_text(text[:cut])
    return text[:cut].count("\n") + 1


def test_a_torn_state_keeps_the_records_before_the_tear_and_names_the_line(
    trainer_output: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(trainer_output / "trainer_state.json", out / "trainer_state.json")
    history = log_history(out / "trainer_state.json")
    line = tear(out / "trainer_state.json", 0.5)

    result = import_logs(out, tmp_path / "runs")

    rows = stored_rows(only_run(result))
    kept = [r["step"] for r in rows]
    assert 0 < len(kept) < len(by_step(history))
    assert kept == sorted({r["step"] for r in history})[: len(kept)]
    [warning] = result.warnings
    assert warning.startswith(f"{out / 'trainer_state.json'}:{line}:")
    assert warning.endswith("log_history record(s) before it")


def test_a_torn_newest_state_is_passed_over_for_the_next_newest(trainer_output: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(trainer_output, out, ignore=shutil.ignore_patterns("*.safetensors", "*.pt", "*.pth", "runs"))
    (out / "trainer_state.json").unlink()
    line = tear(out / "checkpoint-12" / "trainer_state.json", 0.7)

    result = import_logs(out, tmp_path / "runs")

    assert [r["step"] for r in stored_rows(only_run(result))] == [2, 4, 6]
    [warning] = result.warnings
    assert warning.startswith(f"{out / 'checkpoint-12' / 'trainer_state.json'}:{line}:")
    assert warning.endswith(f"passed over for {out / 'checkpoint-6' / 'trainer_state.json'}")


def test_a_state_file_without_a_log_history_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "trainer_state.json").write_text('{"global_step": 3}\n')
    result = import_logs(tmp_path / "out", tmp_path / "runs")
    assert result.runs == []
    assert result.errors == [f"{tmp_path / 'out' / 'trainer_state.json'}: not a Trainer state (no log_history list)"]
