"""The gradient the optimizer actually applies: ``grad_norm/applied`` (docs/early-warning.md).

Most scripts log the gradient norm that ``clip_grad_norm_`` returns, which is the norm *before*
clipping. A run that clips sees spikes in it that never reach the weights (a corrupted batch under
``clip_grad_norm_(…, 1.0)``, the ordinary gradient spikes of a GPT-2-class run), and a warning on
those is a false alarm. A step post-hook on the optimizer measures the norm of the gradients the
step has just used: after clipping, after a ``GradScaler``'s unscaling (a step it skips on an
overflow is never measured), once per step whatever the gradient accumulation. A pre-hook would
be too early under a closure (Lightning's automatic optimisation, LBFGS): ``step(closure)`` runs
the forward and backward itself, after the pre-hooks. No optimizer of torch's alters ``.grad``.

The norm stays on the device: the largest one since the last ``run.log()`` travels with that call's
other tensors, in its single transfer, so the hook never synchronises the training loop. Anything
the hook cannot do (a parameter type it does not know) turns it off with one warning; it never
raises into ``optimizer.step()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .sharding import is_sharded

if TYPE_CHECKING:  # imported by the run before any tensor is: torch only when the hook runs
    import torch
    from torch import Tensor

#: The metric the SDK logs; the grad-spike detector judges it instead of ``grad_norm`` when a run
#: has it (src/detect/gradSpike.ts).
APPLIED_GRAD_NORM = "grad_norm/applied"


def _total_norm(grads: list[Tensor]) -> Tensor:
    import torch

    get_total_norm: Callable[[list[Tensor], float], Tensor] | None = getattr(torch.nn.utils, "get_total_norm", None)
    if get_total_norm is not None:  # torch ≥ 2.6: grouped by device and dtype, foreach kernels
        return get_total_norm(grads, 2.0)
    device = grads[0].device
    norms = torch.stack([torch.linalg.vector_norm(g, 2.0).to(device) for g in grads])
    total: Tensor = torch.linalg.vector_norm(norms, 2.0)
    return total


def innermost_optimizer(optimizer: Any) -> Any:
    """The torch optimizer inside a framework's wrapper (accelerate's ``AcceleratedOptimizer``, which
    HF's Trainer hands its callbacks, has ``.optimizer``; Lightning's ``LightningOptimizer``
    ``._optimizer``): a wrapper that never calls ``Optimizer.__init__`` runs no step hooks."""
    for _ in range(4):
        if hasattr(optimizer, "_optimizer_step_post_hooks"):
            break
        inner = getattr(optimizer, "optimizer", None) or getattr(optimizer, "_optimizer", None)
        if inner is None:
            break
        optimizer = inner
    return optimizer


class AppliedGradNorm:
    """A step post-hook on ``optimizer`` keeping the largest applied gradient norm since :meth:`take`."""

    def __init__(self, optimizer: torch.optim.Optimizer, warn: Callable[[str, str], None]) -> None:
        self._warn = warn
        self._largest: Tensor | None = None
        self._failed = False
        self._handle: Any = innermost_optimizer(optimizer).register_step_post_hook(self._after_step)

    def _after_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if self._failed:
            return
        try:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            if any(is_sharded(p) for p in params):
                # Their norm is a collective that rank 0 alone would enter (sharding.py): every
                # rank would wait for ever inside optimizer.step().
                self._failed = True
                self._largest = None
                self._warn(
                    "applied-grad-norm",
                    f"lossradar: {APPLIED_GRAD_NORM} is off for this run: its parameters are sharded across"
                    " ranks (FSDP, tensor parallel), and their norm would be a collective on rank 0 alone",
                )
                return
            grads = [p.grad for p in params if p.grad is not None and not p.grad.is_sparse]
            if not grads:
                return
            import torch

            norm = _total_norm(grads).detach().float()
            largest = self._largest
            self._largest = norm if largest is None else torch.maximum(largest, norm.to(largest.device))
        except Exception as e:  # the training step must go on whatever the parameters are
            # Removed at the next take(): the optimizer is iterating over its hooks right now.
            self._failed = True
            self._largest = None
            self._warn(
                "applied-grad-norm",
                f"lossradar: {APPLIED_GRAD_NORM} is off for this run: measuring it failed ({type(e).__name__}: {e})",
            )

    def take(self) -> Tensor | None:
        """The largest norm applied since the last call (a 0-d tensor on the device), or None when
        the optimizer has not stepped since."""
        if self._failed:
            self.remove()
        largest, self._largest = self._largest, None
        return largest

    def remove(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.remove()
        self._largest = None
