"""OLMo-core's ``StabilityMonitorCallback`` (plus its trainer's non-finite loss check), as the rule.

Source: allenai/OLMo-core ``src/olmo_core/train/callbacks/stability_monitor.py`` (read at commit
fa6c5014c9f6e9ee789da2d9c20d5126fee8df0d). Defaults: ``window_size=128, threshold_std=6.0``
(``rolling_window=10000`` only scales the reported SpikeScore). Metrics ``train/CE loss`` and
``optim/total grad norm`` (``olmo_core/train/common.py``): here the rows' ``loss`` and ``grad_norm``.

``pre_log_metrics`` per step: for the loss and for the grad norm separately, the value is a spike
when the history already holds ``window_size`` values and ``value > mean + 6 * std`` of that history
(population std; no check when std < 1e-10); the value is appended after the check. The callback
counts spikes into ``spike/SpikeScore``; its first spike is what we call its alert. NaN compares
false (and a NaN in the history makes every later check false), as in the source.

The OLMo-core trainer itself (``src/olmo_core/train/trainer.py``, ``_check_and_pass_on_metrics``)
raises ``RuntimeError("{loss} loss encountered at step …")`` on a non-finite CE loss before the
callbacks see the step; a user of the stability monitor gets that check too, so it is included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import PeerAlert, PeerResult

NAME = "olmo-core"


class StabilityMonitorRule:
    def __init__(self, window_size: int = 128, threshold_std: float = 6.0) -> None:
        self.window_size = window_size
        self.threshold_std = threshold_std
        self.loss_history: list[float] = []
        self.grad_norm_history: list[float] = []

    def _append(self, history: list[float], value: float) -> None:
        history.append(value)
        if len(history) > self.window_size:
            history.pop(0)

    def _is_spike(self, value: float, history: Sequence[float]) -> bool:
        if len(history) < self.window_size:
            return False
        mean = sum(history) / len(history)
        variance = sum((x - mean) ** 2 for x in history) / len(history)
        std = math.sqrt(variance)
        if std < 1e-10:
            return False
        return value > mean + self.threshold_std * std

    def pre_log_metrics(self, loss: float | None, grad_norm: float | None) -> tuple[bool, bool]:
        loss_spike = grad_spike = False
        if loss is not None:
            loss_spike = self._is_spike(loss, self.loss_history)
            self._append(self.loss_history, loss)
        if grad_norm is not None:
            grad_spike = self._is_spike(grad_norm, self.grad_norm_history)
            self._append(self.grad_norm_history, grad_norm)
        return loss_spike, grad_spike


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    rule = StabilityMonitorRule()
    result = PeerResult()
    for row in rows:
        loss = row.get("loss")
        grad = row.get("grad_norm")
        loss = loss if isinstance(loss, float) else None
        grad = grad if isinstance(grad, float) else None
        if loss is None and grad is None:
            continue
        if loss is not None and not math.isfinite(loss):
            result.first = PeerAlert(row["step"], "non-finite loss (trainer check)")
            break
        loss_spike, grad_spike = rule.pre_log_metrics(loss, grad)
        if loss_spike or grad_spike:
            which = "loss" if loss_spike else "grad norm"
            result.first = PeerAlert(row["step"], f"{which} > mean + 6 std of the last 128")
            break
    return result
