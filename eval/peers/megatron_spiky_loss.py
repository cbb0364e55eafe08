"""Megatron-LM's loss checks with ``--check-for-spiky-loss``, as the rule.

Sources (NVIDIA/Megatron-LM, read at commit d98e8a64ddf34856e74b24714e3bedb2f5a39553):
``pretrain_gpt.py`` ``loss_func`` (``SPIKY_LOSS_FACTOR = 10``) and
``megatron/core/rerun_state_machine.py`` ``RerunStateMachine.is_unexpectedly_large``
(``num_samples=100``).

Per step, in ``loss_func`` order:
 1. ``--check-for-nan-in-loss-and-grad`` (on by default): ``torch.isnan(loss)`` then
    ``torch.isinf(loss)`` rejects the result (fatal).
 2. ``--check-for-spiky-loss``: ``is_unexpectedly_large(loss, threshold=10, context="loss")``: the
    first 100 finite values only record ``max |loss|``; afterwards a value with
    ``|loss| >= 10 * max`` is rejected ("Spiky loss"). NaN/Inf are ignored by this check (and not
    counted among the 100 samples).
Megatron's ``loss`` is the token sum of a micro-batch; the ratio test does not depend on that scale,
so the rows' mean loss is used, one call per step (one micro-batch per step).
"""

from __future__ import annotations

import math
from typing import Any

from runio import series

from . import PeerAlert, PeerResult

NAME = "megatron"


class SpikyLossRule:
    def __init__(self, threshold: float = 10.0, num_samples: int = 100) -> None:
        self.threshold = threshold
        self.num_samples = num_samples
        self.count = 0
        self.max_value = 0.0

    def is_unexpectedly_large(self, result: float) -> bool:
        value = math.fabs(result)
        if math.isnan(value) or math.isinf(value):
            return False
        if self.count < self.num_samples:
            self.count += 1
            self.max_value = max(self.max_value, value)
            return False
        return value >= self.max_value * self.threshold


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    rule = SpikyLossRule()
    result = PeerResult()
    for step, loss in series(rows, "loss"):
        if math.isnan(loss):
            result.first = PeerAlert(step, "NaN loss (check-for-nan-in-loss-and-grad)")
            break
        if math.isinf(loss):
            result.first = PeerAlert(step, "Inf loss (check-for-nan-in-loss-and-grad)")
            break
        if rule.is_unexpectedly_large(loss):
            result.first = PeerAlert(step, "spiky loss: |loss| >= 10 x max of the first 100")
            break
    return result
