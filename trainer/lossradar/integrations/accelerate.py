"""Loss Radar for ``accelerate.Accelerator``, as one of its trackers:

    from lossradar.integrations.accelerate import LossRadarTracker

    accelerator = Accelerator(log_with=[LossRadarTracker(run_name="my-run")])
    accelerator.init_trackers("my-project", config={"lr": 3e-4})
    for step, batch in enumerate(loader):
        ...
        accelerator.log({"loss": loss.item(), "lr": lr}, step=step)
    accelerator.end_training()

On the main process only (``main_process_only``, as accelerate's own trackers). ``init_trackers``
opens the run (``start``) and its ``config`` becomes the run's configuration
(``store_init_configuration``: the run connects with its first row, so the configuration is in its
``meta.json``); ``accelerator.log`` logs a row, nested mappings flattened with ``/``
(``{"loss": {"val": v}}`` → ``loss/val``) and non-numeric values left out, at ``step`` (without one,
one past the last step logged); ``end_training`` finishes the run, ``completed``, or ``stopped``
after Stop Run. ``tracker.should_stop`` (``accelerator.get_tracker("lossradar").should_stop``) is
Stop Run for the training loop; with several processes, share it as accelerate does
(``accelerator.set_trigger()`` on the main process, ``accelerator.check_trigger()`` on every one).
``tracker.watch(model)`` adds spectral alignment. A crash ends the run ``failed`` through the SDK's
``sys.excepthook`` (accelerate has no hook for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accelerate.tracking import GeneralTracker, on_main_process
from torch import nn

from lossradar._run import Run, user_source
from lossradar.integrations._common import RunHolder, flatten, is_number, sanitise
from lossradar.watch import Watcher

__all__ = ["LossRadarTracker"]


class LossRadarTracker(GeneralTracker):  # type: ignore[misc]  # accelerate's tracking module is untyped
    """An ``accelerate`` tracker that streams to Loss Radar.

    * ``run_name``, ``config``: the run's name and configuration entries besides ``init_trackers``'.
    * ``run``: log to this run instead of opening one (never finished here).
    * other keyword arguments go to :func:`lossradar.init` (``run_id``, ``mode``, ``url``…).
    """

    name = "lossradar"
    requires_logging_directory = False
    main_process_only = True

    def __init__(
        self,
        run_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        run: Run | None = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self.run_name = run_name
        self._config = sanitise(dict(config)) if config is not None else None
        self._holder = RunHolder(run, init_kwargs)
        self._next_step = 0

    @property
    def tracker(self) -> Run | None:
        """The :class:`lossradar.Run` (``None`` before ``init_trackers`` and off the main process)."""
        return self._holder.run

    @property
    def should_stop(self) -> bool:
        """True once Stop Run was pressed in the editor (always false off the main process)."""
        run = self._holder.run
        return run is not None and run.should_stop

    def _open(self) -> Run:
        return self._holder.open(name=self.run_name, config=self._config, lazy=True)

    @on_main_process  # type: ignore[untyped-decorator]
    def start(self) -> None:
        self._open()

    @on_main_process  # type: ignore[untyped-decorator]
    def store_init_configuration(self, values: dict[str, Any]) -> None:
        self._open().update_config(sanitise(values))

    @on_main_process  # type: ignore[untyped-decorator]
    def log(self, values: dict[str, Any], step: int | None = None, **kwargs: Any) -> None:
        run = self._open()
        if step is None:
            step = self._next_step
        self._next_step = step + 1
        row = {k: v for k, v in flatten(values).items() if is_number(v)}
        run._log(step, row, user_source())

    @on_main_process  # type: ignore[untyped-decorator]
    def watch(self, model: nn.Module, every: int = 10, **rescue: Any) -> Watcher | None:
        """Spectral alignment of ``model``'s ``nn.Linear`` layers every ``every`` logged steps
        (:meth:`lossradar.Run.watch`'s default: a loop that logs every step measures every tenth);
        ``optimizer=``, ``scheduler=`` and the snapshot settings of :meth:`lossradar.Run.watch` arm
        the editor's actions (docs/rescue.md)."""
        return self._open().watch(model, every=every, **rescue)

    @on_main_process  # type: ignore[untyped-decorator]
    def finish(self) -> None:
        run = self._holder.run
        if run is not None:
            self._holder.finish("stopped" if run.should_stop else "completed")
