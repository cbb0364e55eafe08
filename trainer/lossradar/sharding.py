"""Parameters sharded across ranks: FSDP2's ``fully_shard`` and tensor parallelism (a ``DTensor``),
and FSDP's ``FlatParameter`` with the parameters it flattens into one.

Under ``torchrun`` only rank 0 logs (``lossradar.init``), so only rank 0 runs the SDK's hooks. A
statistic of a whole sharded tensor is a collective: a ``DTensor``'s norm redistributes it across
the ranks, and rank 0 alone entered that all-reduce while the others went on to their next
forward's all-gather, so both waited for ever (seen on CPU with gloo, torch 2.15). A ``DTensor``
beside a plain tensor raises instead (``aten.mv.default got mixed torch.Tensor and DTensor``), out
of ``run.log``. And FSDP's flat shards are plain tensors: a norm of rank 0's piece would be logged
as if it were the model's. So the SDK measures none of them: the gradient norm the optimizer
applied, and the spectral alignment of a sharded layer, are left out, with one warning each
(docs/metrics.md, "Sharded models").
"""

from __future__ import annotations

import sys
from typing import Any

#: The attribute FSDP sets on its FlatParameter and on every parameter it flattened into one
#: (torch.distributed.fsdp._common_utils.FSDP_FLATTENED).
_FSDP_FLATTENED = "_fsdp_flattened"


def _dtensor_type() -> type | None:
    try:
        from torch.distributed.tensor import DTensor
    except Exception:  # a torch built without distributed, or one before torch.distributed.tensor
        return None
    return DTensor


def is_sharded(tensor: Any) -> bool:
    """Whether ``tensor`` is a piece of a tensor spread over the ranks (see the module's doc)."""
    if getattr(tensor, _FSDP_FLATTENED, False):
        return True
    dtensor = _dtensor_type()
    return dtensor is not None and isinstance(tensor, dtensor)


def world_size() -> int:
    """The ranks of this torch.distributed job, 1 outside one."""
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributed", None) if torch is not None else None
    try:
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_world_size())
    except (RuntimeError, ValueError):
        pass
    return 1
