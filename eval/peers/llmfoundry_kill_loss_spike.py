"""llm-foundry's ``KillLossSpike`` callback, as its documented rule.

Source: mosaicml/llm-foundry ``llmfoundry/callbacks/kill_loss_spike_callback.py`` (read at commit
03826b5875c6e5ff028e1ca055e6ee15f02ee56c). Defaults: ``log_only=True, patience=4,
outlier_multiplier=2, window_size=100, loss_cap=10``.

``batch_end``: once the window holds ``window_size`` losses, ``running = mean(window)`` (the
*previous* losses; the current one is appended after the checks), then
 * loss spike: ``loss >= running * outlier_multiplier`` increments a counter (any other loss resets
   it); the alert fires when the counter exceeds ``patience`` (five outliers in a row);
 * else high loss: ``current_step >= 2 * window_size`` and at least ``window_size / 2`` losses of
   the window are ``> loss_cap``.
``current_step`` is Composer's ``state.timestamp.batch`` at BATCH_END, i.e. the number of batches
done including this one: here the 1-based index of the loss row. With ``log_only=True`` the callback
only logs (``log_only=False`` raises ``LossSpikeError``/``HighLossError``); either way the first
firing is its alert. Arithmetic as in the source (Python floats, ``np.mean``): a NaN loss compares
false everywhere, so NaN alone never fires this rule.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from runio import series

from . import PeerAlert, PeerResult

NAME = "llm-foundry"


class KillLossSpikeRule:
    def __init__(
        self,
        patience: int = 4,
        outlier_multiplier: float = 2,
        window_size: int = 100,
        loss_cap: float = 10,
    ) -> None:
        self.patience = patience
        self.outlier_multiplier = outlier_multiplier
        self.window_size = window_size
        self.loss_cap = loss_cap
        self.outlier_counter = 0
        self.loss_window: deque[float] = deque(maxlen=window_size)

    def _detect_loss_spike(self, train_loss: float, running_loss_avg: float) -> bool:
        if train_loss >= running_loss_avg * self.outlier_multiplier:
            self.outlier_counter += 1
            if self.outlier_counter > self.patience:
                return True
        elif self.outlier_counter > 0:
            self.outlier_counter = 0
        return False

    def _detect_high_losses(self, current_step: int) -> bool:
        return (current_step >= self.window_size * 2) and (
            sum(1 for loss in self.loss_window if loss > self.loss_cap) >= self.window_size / 2
        )

    def batch_end(self, train_loss: float, current_step: int) -> str | None:
        fired: str | None = None
        if len(self.loss_window) == self.window_size:
            running_loss_avg = float(np.mean(self.loss_window))
            if self._detect_loss_spike(train_loss, running_loss_avg):
                fired = "loss spike: loss >= 2 x mean(last 100), 5 times in a row"
            elif self._detect_high_losses(current_step):
                fired = "high loss: half of the last 100 losses > 10 (after batch 200)"
        self.loss_window.append(train_loss)
        return fired


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    rule = KillLossSpikeRule()
    result = PeerResult()
    for i, (step, loss) in enumerate(series(rows, "loss")):
        fired = rule.batch_end(loss, i + 1)
        if fired and result.first is None:
            result.first = PeerAlert(step, fired)
            break
    return result
