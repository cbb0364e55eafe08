"""Lightning's ``SpikeDetection``, run for real.

Source: ``lightning/fabric/utilities/spike.py`` of the installed ``lightning`` package (2.6.6 in the
evaluation venv; trainer/requirements-eval.txt). Defaults used, as the class ships them:
``mode="min", window=10, warmup=1, atol=None, rtol=2.0, finite_only=True``.

The rule (``SpikeDetection._is_spike``), for batch_idx >= warmup: with ``running`` the mean of the
last ``window`` finite losses (torchmetrics ``Running(MeanMetric)``) and ``last`` the previous
finite loss, a loss is a spike when it is non-finite (finite_only=True), or when it did not improve
on ``last`` and ``|loss - running| >= rtol * running``. On a spike the callback writes the batches to
skip and raises ``TrainingSpikeException``: training terminates, so the first spike is the only alert.

We drive it the way a Fabric user does: ``Fabric(callbacks=[SpikeDetection()])`` and
``fabric.call("on_train_batch_end", fabric=fabric, loss=..., batch=..., batch_idx=...)`` after each
step, with ``batch_idx`` the 0-based index of the loss row. Only ``exclude_batches_path`` is changed
(a temporary folder, so the skip file does not land in the working directory).
"""

from __future__ import annotations

import logging
import math
import tempfile
import warnings
from typing import Any

from runio import series

from . import PeerAlert, PeerResult

NAME = "lightning"


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    import torch

    logging.getLogger("lightning.fabric").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lightning.fabric import Fabric
        from lightning.fabric.utilities.spike import (
            SpikeDetection,
            TrainingSpikeException,
        )

    result = PeerResult()
    with tempfile.TemporaryDirectory(prefix="lr-eval-lightning-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        callback = SpikeDetection(exclude_batches_path=tmp)
        fabric = Fabric(accelerator="cpu", devices=1, callbacks=[callback])
        for batch_idx, (step, loss) in enumerate(series(rows, "loss")):
            try:
                fabric.call(
                    "on_train_batch_end",
                    fabric=fabric,
                    loss=torch.tensor(loss),
                    batch=None,
                    batch_idx=batch_idx,
                )
            except TrainingSpikeException:
                if math.isfinite(loss):
                    rule = "spike: no improvement and |loss - mean(last 10)| >= 2 x mean"
                else:
                    rule = "non-finite loss (finite_only=True)"
                result.first = PeerAlert(step, rule)
                break
    return result
