"""Loss Radar for ``transformers.Trainer``:

    from lossradar.integrations.transformers import LossRadarCallback

    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[LossRadarCallback()])
    trainer.train()

One run per ``trainer.train()``, opened on the world process zero only (``state.is_world_process_zero``)
at ``on_train_begin``: named ``args.run_name``, else the last folder of ``args.output_dir``; its
configuration is ``args.to_dict()`` with the model's ``config.to_dict()`` under ``"model"``,
credentials redacted. The model's ``nn.Linear`` layers are watched for spectral alignment
(``run.watch``), measured at every logged step. ``on_log`` becomes ``run.log(state.global_step, ...)``:

* ``loss`` → ``loss``, ``learning_rate`` → ``lr``, ``grad_norm`` → ``grad_norm``, ``eval_loss`` →
  ``loss/val``; other ``eval_<m>`` → ``<m>/val`` (``eval_accuracy`` → ``accuracy/val``), except
  the evaluation's timings → ``eval/<m>`` (``eval/runtime``, ``eval/samples_per_second``);
* other numeric keys as they come (``epoch``, ``num_input_tokens_seen``); non-numeric ones are left out;
* the end-of-training summary (``train_runtime``, ``train_samples_per_second``,
  ``train_steps_per_second``, ``total_flos``, ``train_loss``) is one event in the run's event log,
  not a row: ``train_loss`` is the mean over the whole run, not a loss at a step.

Stop Run in the editor sets ``control.should_training_stop`` at the next ``on_step_end``; the run then
ends ``stopped``, else ``completed`` at ``on_train_end``. transformers tells callbacks nothing of an
exception in ``train()``: a script that dies of one ends its run ``failed`` through the SDK's
``sys.excepthook``, as any script does; a caught one (a notebook) leaves the run open until the next
``train()`` (which ends it ``failed``), ``lossradar.finish("failed")`` or the interpreter's exit.

With ``logging_nan_inf_filter=True`` (transformers' default) a NaN or infinite loss is replaced by
the window's mean before it is logged: set it to ``False`` to let the non-finite detector see it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from lossradar._run import EndStatus, Run, user_source
from lossradar.integrations._common import RunHolder, is_number, sanitise
from lossradar.watch import Watcher

__all__ = ["LossRadarCallback", "metric_name"]

_RENAMED = {"loss": "loss", "learning_rate": "lr", "grad_norm": "grad_norm", "eval_loss": "loss/val"}
#: The keys of the log transformers writes once, at the end of ``train()`` (``speed_metrics`` and
#: ``_finalize_training``).
SUMMARY_KEYS = frozenset(
    {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
)
_EVAL_TIMINGS = ("runtime", "_per_second", "_time")


def metric_name(key: str) -> str:
    """The Loss Radar name of a key of transformers' logs (``eval_loss`` → ``loss/val``)."""
    renamed = _RENAMED.get(key)
    if renamed is not None:
        return renamed
    if key.startswith("eval_"):
        rest = key[len("eval_") :]
        return f"eval/{rest}" if rest.endswith(_EVAL_TIMINGS) else f"{rest}/val"
    return key


class LossRadarCallback(TrainerCallback):
    """Streams a ``transformers.Trainer`` run to Loss Radar.

    * ``run``: log to this run (from ``lossradar.init``) instead of opening one; it keeps its own
      configuration and is not finished here: its owner finishes it.
    * ``name``, ``config``: the run's name (default ``args.run_name``, else the output folder's
      name) and configuration entries added to the trainer's.
    * ``watch``/``watch_every``: spectral alignment of the model's ``nn.Linear`` layers every
      ``watch_every`` logged steps (GPT-2's ``Conv1D`` projections are not ``nn.Linear``).
    * ``stop_sync_every``: with several processes, the world process zero's Stop Run is shared
      with every rank (one all-reduce) every this many steps, so that all of them stop together.
    * other keyword arguments go to :func:`lossradar.init` (``mode``, ``url``, ``token``, ``dir``…).
    """

    def __init__(
        self,
        run: Run | None = None,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        watch: bool = True,
        watch_every: int = 1,
        stop_sync_every: int = 10,
        **init_kwargs: Any,
    ) -> None:
        self._holder = RunHolder(run, init_kwargs)
        self._name = name
        self._config = dict(config) if config is not None else {}
        self._watch = watch
        self._watch_every = watch_every
        self._stop_sync_every = max(1, stop_sync_every)
        self._watcher: Watcher | None = None
        self._stopped = False
        #: How the last train() ended: a later trainer.evaluate() resumes the run and ends it so again.
        self._final: EndStatus = "completed"

    @property
    def run(self) -> Run | None:
        """The run logged to (``None`` before ``train()`` and on processes other than zero)."""
        return self._holder.run

    # ------------------------------------------------------------------ events

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        model: torch.nn.Module | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero:
            return
        # A train() that raised never reached on_train_end: its run ends here, before the new one.
        self._holder.finish("failed", "trainer.train() ended without on_train_end (an exception?)")
        config = {**sanitise(args.to_dict()), **sanitise(self._config)}  # type: ignore[no-untyped-call]
        model_config = getattr(model, "config", None)
        to_dict = getattr(model_config, "to_dict", None)
        if callable(to_dict):
            config["model"] = sanitise(to_dict())
        name = self._name or args.run_name or os.path.basename(os.path.normpath(args.output_dir or "")) or None
        run = self._holder.new(name=name, config=config)
        self._stopped = False
        if self._watch and model is not None:
            # The trainer's optimizer and scheduler arm the editor's actions (docs/rescue.md); they
            # are applied inside on_log, between two optimizer steps.
            self._watcher = run.watch(
                model, every=self._watch_every, optimizer=kwargs.get("optimizer"), scheduler=kwargs.get("lr_scheduler")
            )

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        holder = self._holder
        after_training = holder.owned and holder.run is not None and holder.run.finished
        # trainer.evaluate() before any train() opens a run of its own; after train() it resumes the
        # finished one: one job, one run
        run = holder.open(name=self._name or args.run_name, config=sanitise(self._config))
        values: dict[str, Any] = {}
        summary: list[str] = []
        for key, value in logs.items():
            if not is_number(value):
                continue
            if key in SUMMARY_KEYS:
                summary.append(f"{key}={float(value):.6g}")
            else:
                values[metric_name(key)] = value
        if set(values) - {"epoch"}:  # a row of the epoch alone is the summary's bookkeeping
            run._log(state.global_step, values, user_source())
        if summary:
            run.event("training summary: " + ", ".join(summary), step=state.global_step)
        if after_training:
            holder.finish(self._final)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        run = self._holder.run
        stop = run is not None and state.is_world_process_zero and run.should_stop
        if args.world_size > 1:
            # Only process zero hears the editor: a rank that stops alone leaves the others waiting
            # in the next all-reduce. The decision is shared at steps every rank reaches together.
            if state.global_step % self._stop_sync_every:
                return
            stop = _any_rank(stop, args.device)
        if stop:
            control.should_training_stop = True
            self._stopped = True

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        run = self._holder.run
        if run is None:
            return
        if self._watcher is not None:
            run.unwatch(self._watcher)
            self._watcher = None
        self._final = "stopped" if self._stopped or run.should_stop else "completed"
        self._holder.finish(self._final)


def _any_rank(flag: bool, device: torch.device) -> bool:
    """Whether ``flag`` is true on any process of the default group."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
