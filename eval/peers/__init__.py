"""The peers of design.md §5, one adapter each.

Every adapter module exposes ``NAME`` and ``detect(rows) -> PeerResult``: it replays one run's rows
(``eval.runio.load_rows``: dicts, non-finite strings decoded to floats) in step order through the
peer and returns the first step at which the peer would alert on trouble (``first``), with the rule
that fired. ``other`` is the first alert the peer raises that is *not* about the loss getting worse
(trainscope's CUSUM on a falling loss, trainpulse's plateau warning); it is reported beside, never
counted as a detection. The packages (lightning, trainpulse, trainscope) run for real; the others
are their documented rule, transcribed from the cited source file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PeerAlert:
    step: int
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "rule": self.rule}


@dataclass
class PeerResult:
    first: PeerAlert | None = None
    other: PeerAlert | None = None
    notes: list[str] = field(default_factory=list)


def _registry() -> dict[str, Callable[[list[dict[str, Any]]], PeerResult]]:
    # Imported lazily: lightning and trainscope take a second or two to import.
    from . import (
        lightning_spike,
        llmfoundry_kill_loss_spike,
        megatron_spiky_loss,
        olmo_core_stability,
        trainpulse_monitor,
        trainscope_cusum,
    )

    mods = [
        lightning_spike,
        llmfoundry_kill_loss_spike,
        olmo_core_stability,
        megatron_spiky_loss,
        trainpulse_monitor,
        trainscope_cusum,
    ]
    return {m.NAME: m.detect for m in mods}


PEER_NAMES = ("lightning", "llm-foundry", "olmo-core", "megatron", "trainpulse", "trainscope")


def all_peers() -> dict[str, Callable[[list[dict[str, Any]]], PeerResult]]:
    reg = _registry()
    return {name: reg[name] for name in PEER_NAMES}
