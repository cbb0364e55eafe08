"""trainpulse's ``Monitor``, run for real.

Source: the installed ``trainpulse`` 0.4.0 (``trainpulse/monitor.py``, ``trainpulse/detectors.py``,
``trainpulse/_types.py``). ``Monitor()`` with the default ``MonitorConfig``: ``check_nan=True``,
``loss_spike_threshold=5.0``, ``loss_spike_window=50``, ``grad_norm_threshold=100.0``,
``grad_vanish_threshold=1e-7``, ``plateau_patience=100``, ``plateau_min_delta=1e-5``.

Each row's ``loss`` and then ``grad_norm`` are fed as ``monitor.log("loss", step, v)`` and
``monitor.log("grad_norm", step, v)`` (the metric type is inferred from the name, as the README
shows). The alerts that say the run is going wrong count as its detection:
 * ``nan_detector`` (critical): a NaN/Inf value of either metric;
 * ``loss_spike`` (warning): ``loss > 5 x mean`` of the previous 50 losses (window full);
 * ``gradient`` explosion (critical): ``grad_norm > 100``.
trainpulse also raises ``plateau`` (no new best loss for 100 steps) and vanishing-gradient warnings;
those are reported as ``other`` and not counted as detections (a plateau is not an explosion).
"""

from __future__ import annotations

from typing import Any

from . import PeerAlert, PeerResult

NAME = "trainpulse"

_TROUBLE = {"nan_detector", "loss_spike"}


def _is_trouble(alert: Any) -> bool:
    if alert.detector in _TROUBLE:
        return True
    return alert.detector == "gradient" and alert.message.startswith("Gradient explosion")


def detect(rows: list[dict[str, Any]]) -> PeerResult:
    from trainpulse import Monitor

    monitor = Monitor()
    result = PeerResult()
    for row in rows:
        step = row["step"]
        fired = []
        for name in ("loss", "grad_norm"):
            v = row.get(name)
            if isinstance(v, float):
                fired.extend(monitor.log(name, step, v))
        for alert in fired:
            label = f"{alert.detector}: {alert.message}"
            if _is_trouble(alert):
                if result.first is None:
                    result.first = PeerAlert(step, label)
            elif result.other is None:
                result.other = PeerAlert(step, label)
        if result.first is not None:
            break
    return result
