"""Loss Radar for ``lightning.pytorch.Trainer``:

    from lossradar.integrations.lightning import LossRadarCallback, LossRadarLogger

    trainer = L.Trainer(logger=LossRadarLogger(name="my-run"), callbacks=[LossRadarCallback()])
    trainer.fit(model, datamodule=dm)

``LossRadarLogger`` is a Lightning logger (rank zero only, as Lightning's own are):

* ``name`` is the run's name, ``version`` its id, ``experiment`` the :class:`lossradar.Run`;
* ``log_hyperparams`` (``self.save_hyperparameters()``) becomes the run's configuration: the run
  connects with the first metrics, so the hyperparameters Lightning hands over after creating it
  still go into the run's ``meta.json`` (``lossradar.init(lazy=True)``, ``Run.update_config``);
* ``log_metrics`` logs the names ``self.log`` was given (``self.log("loss", ...)``,
  ``self.log("loss/val", ...)``: Loss Radar's detectors read ``loss``, ``loss/*``, ``lr`` and
  ``grad_norm``), with a ``prefix`` joined by ``/``, the group separator (Lightning's own loggers
  join with ``-``);
* ``finalize``: Lightning's ``success`` ends the run ``completed`` (``stopped`` after Stop Run),
  ``failed`` ends it ``failed`` (``stopped`` for a ``KeyboardInterrupt``), ``finished`` (a SLURM
  requeue) ``stopped``. Logging again after that (``trainer.test()`` after ``trainer.fit()``)
  resumes the same run.

``LossRadarCallback`` watches the model's ``nn.Linear`` layers (spectral alignment) from
``on_fit_start``, sets ``trainer.should_stop`` when Stop Run is pressed (shared with every rank, so
that all of them stop together), and hands the error of a failed fit to the logger.

For ``lightning.pytorch`` (the ``lightning`` package). The classes work with a
``pytorch_lightning.Trainer`` too, which takes loggers and callbacks as they are, without checking
their base class (tests/test_integration_lightning.py runs one).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers.logger import Logger
from lightning.pytorch.utilities import rank_zero_only

from lossradar._run import EndStatus, Run, user_source
from lossradar.integrations._common import RunHolder, is_number, sanitise
from lossradar.watch import Watcher

__all__ = ["LossRadarCallback", "LossRadarLogger"]


class LossRadarLogger(Logger):
    """A Lightning logger that streams to Loss Radar.

    * ``name``, ``config``: the run's name and configuration entries besides the hyperparameters.
    * ``run``: log to this run instead of opening one (it is never finished here).
    * ``prefix``: put before every metric name, joined by ``/``.
    * other keyword arguments go to :func:`lossradar.init` (``run_id``, ``mode``, ``url``…).
    """

    LOGGER_JOIN_CHAR = "/"

    def __init__(
        self,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        run: Run | None = None,
        prefix: str = "",
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self._holder = RunHolder(run, init_kwargs)
        self._name = name
        self._config = sanitise(dict(config)) if config is not None else None
        self._prefix = prefix
        self._next_step = 0
        #: The exception a failed fit ended with, from LossRadarCallback.on_exception.
        self.failure: BaseException | None = None

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def version(self) -> str | None:
        """The run's id (``None`` on other ranks, where no run is opened)."""
        if getattr(rank_zero_only, "rank", 0) > 0:  # set by Lightning once it knows the ranks
            return None
        return self.experiment.run_id  # type: ignore[no-any-return]

    @property
    def save_dir(self) -> str | None:
        return None

    @property
    @rank_zero_experiment
    def experiment(self) -> Run:
        """The :class:`lossradar.Run`, opened on first use (a dummy on ranks other than zero). After
        ``finalize`` it is the finished run until metrics come again and resume it."""
        run = self._holder.run
        return run if run is not None else self._holder.open(name=self._name, config=self._config, lazy=True)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | argparse.Namespace, *args: Any, **kwargs: Any) -> None:
        if isinstance(params, argparse.Namespace):
            params = vars(params)
        # A resumed run (trainer.test() after fit) keeps the configuration it was created with.
        self.experiment.update_config(sanitise(dict(params)))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        run = self._holder.open(name=self._name, config=self._config, lazy=True)
        values: dict[str, Any] = {}
        for key, value in metrics.items():
            if is_number(value):
                values[f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}" if self._prefix else key] = value
        if step is None:
            step = self._next_step
        self._next_step = step + 1
        run._log(step, values, user_source())

    @rank_zero_only
    def finalize(self, status: str) -> None:
        run = self._holder.run
        if run is None or run.finished:
            return
        failure, self.failure = self.failure, None
        end: EndStatus
        error = None
        if status == "failed":
            if isinstance(failure, KeyboardInterrupt):
                end = "stopped"
            else:
                end = "failed"
                error = f"{type(failure).__name__}: {failure}" if failure is not None else "the Lightning run failed"
        elif status == "finished":
            end = "stopped"
        else:
            end = "stopped" if run.should_stop else "completed"
        self._holder.finish(end, error)


class LossRadarCallback(Callback):
    """Spectral alignment, Stop Run and the error of a failed fit, for :class:`LossRadarLogger`.

    * ``run``: the run to watch and stop with, when no :class:`LossRadarLogger` is among the
      trainer's loggers.
    * ``watch``/``watch_every``: spectral alignment of every ``nn.Linear`` every ``watch_every``
      logged steps.
    """

    def __init__(self, run: Run | None = None, *, watch: bool = True, watch_every: int = 1) -> None:
        self._given = run
        self._watch = watch
        self._watch_every = watch_every
        self._watcher: Watcher | None = None
        self._run: Run | None = None

    @staticmethod
    def _logger(trainer: pl.Trainer) -> LossRadarLogger | None:
        return next((lg for lg in trainer.loggers if isinstance(lg, LossRadarLogger)), None)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._run = None
        if not trainer.is_global_zero:
            return
        logger = self._logger(trainer)
        self._run = self._given if self._given is not None else logger.experiment if logger is not None else None
        if self._run is not None and self._watch:
            self._watcher = self._run.watch(pl_module, every=self._watch_every)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The optimizers exist from here on: the first one (and its schedulers) arm the editor's
        # actions (docs/rescue.md), applied inside the logger's log_metrics, between two steps.
        if self._run is None or not self._watch or not trainer.optimizers:
            return
        schedulers = [c.scheduler for c in trainer.lr_scheduler_configs]
        self._run._arm(pl_module, trainer.optimizers[0], schedulers, 100, "auto", 3, 0, None)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        stop = self._run is not None and self._run.should_stop
        if trainer.world_size > 1:
            # Only rank zero hears the editor, and a rank that stops alone leaves the others
            # waiting: the decision is shared (one all-reduce) at steps every rank reaches together.
            if trainer.global_step % max(1, getattr(trainer, "log_every_n_steps", 50)):
                return
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            trainer.should_stop = True

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        logger = self._logger(trainer)
        if logger is not None:
            logger.failure = exception  # read by the finalize("failed") that Lightning calls next

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._run is not None and self._watcher is not None:
            self._run.unwatch(self._watcher)
        self._watcher = None
