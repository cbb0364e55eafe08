"""Loss Radar in the training frameworks users already run, one module each:

* ``lossradar.integrations.transformers``: ``LossRadarCallback`` for ``transformers.Trainer``;
* ``lossradar.integrations.lightning``: ``LossRadarLogger`` and ``LossRadarCallback`` for
  ``lightning.pytorch.Trainer``;
* ``lossradar.integrations.accelerate``: ``LossRadarTracker`` for ``accelerate.Accelerator``.

Each module imports its framework when it is imported itself; this package, like ``lossradar``,
imports none of them. What they log, how metric names are mapped and how runs end: the README's
"Integrations" section and trainer/README.md.
"""
