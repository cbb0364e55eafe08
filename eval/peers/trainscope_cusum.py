"""trainscope's ``TrainScope`` monitor, run for real.

Source: the installed ``trainscope`` 1.8.1 (``trainscope/scope.py``, ``trainscope/core/config.py``,
``trainscope/core/detectors/changepoint.py``). ``TrainScopeConfig()`` defaults select the
``changepoint`` detector: Page's CUSUM on ``z = (loss - median) / (1.4826 * MAD)`` of the last
``window=200`` losses, ``threshold (h) = 6``, ``slack (k) = 1``, ``min_observations=30``; it fires
when the upper sum ``S+ = max(0, S+ + z - k)`` or the lower sum ``S- = min(0, S- + z + k)`` reaches
``h`` in absolute value, then both reset. (``ruptures`` is not installed, so PELT, which only
rescales an already fired score, never runs.) Non-finite losses are logged but never reach the
detector ("Do not poison the detector's baseline").

Driven as its README's quick start: ``scope = TrainScope(model, optimizer, config).attach()`` and
``scope.step(loss)`` once per step; ``step`` returns the spike info when the detector fired. The
detector sees only the loss, so the model and optimizer are a stand-in ``nn.Linear(1, 1)`` and SGD;
``run_dir`` is a temporary folder. A firing with a positive score (the loss rose) is the detection;
a negative score means the loss *fell* faster than its recent median (common early in a healthy run):
reported as ``other``, not counted.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from typing import Any

from runio import series

from . import PeerAlert, PeerResult

NAME = "trainscope"


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    import torch
    from trainscope import TrainScope, TrainScopeConfig

    logging.getLogger("trainscope").setLevel(logging.ERROR)
    result = PeerResult()
    with tempfile.TemporaryDirectory(prefix="lr-eval-trainscope-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torch.nn.Linear(1, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        scope = TrainScope(model, optimizer, TrainScopeConfig(run_dir=tmp, run_name="eval")).attach()
        try:
            for step, loss in series(rows, "loss"):
                spike = scope.step(loss)
                if spike is None:
                    continue
                score = float(spike["spike_score"])
                if score > 0:
                    result.first = PeerAlert(step, f"CUSUM up (h=6, k=1) on median/MAD z, score {score:.1f}")
                    break
                if result.other is None:
                    result.other = PeerAlert(step, f"CUSUM down (loss fell), score {score:.1f}")
        finally:
            scope.detach()
    return result
