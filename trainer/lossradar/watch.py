"""Spectral-alignment hooks on every ``nn.Linear`` of a model (design.md §4).

A forward hook on each linear layer copies a strided sample of its input rows when the watcher is
*armed*; the statistics are computed at the next ``run.log()``/``run.log_predictions()`` call, in
float32, on the device, and travel to the host together with that call's other metrics (one
transfer). Computing from captured inputs, rather than inside the hook, keeps the hook trivial, so
it traces cleanly under ``torch.compile`` (dynamo inlines the hooks of the original modules; the
armed flag costs one extra graph, not a recompile per step), and the power-iteration state
(the warm-started v₁ of each layer) never enters a compiled graph.

The hooks are registered on the original modules: a ``torch.compile``d model (``_orig_mod``), a
``DistributedDataParallel`` or ``DataParallel`` wrapper (``.module``) are unwrapped first, and
layer names are those of the unwrapped model (``blocks.0.attn.q``). Only forwards in training mode
are sampled (an evaluation pass between steps is ignored); with gradient accumulation the last
micro-batch of an armed step is the one measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from .metrics import spectral_alignment_batched, top_singular_values_batched, weight_probe_batched
from .sharding import is_sharded

DEFAULT_EVERY = 10
DEFAULT_MAX_ROWS = 1024
DEFAULT_COLLAPSE_THRESHOLD = 0.1


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module whose submodules carry the parameters: strips torch.compile and DDP/DP wrappers."""
    seen = 0
    while seen < 8:
        seen += 1
        inner = getattr(model, "_orig_mod", None)
        if isinstance(inner, nn.Module):
            model = inner
            continue
        if isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
            model = model.module
            continue
        break
    return model


def _sample_rows(x: Tensor, in_features: int, max_rows: int) -> Tensor:
    """A strided view of at most ``max_rows`` input rows (no copy: autograd keeps a linear layer's
    input alive until backward anyway, and ``collect`` copies the rows once when it stacks them)."""
    rows = x.detach().reshape(-1, in_features)
    n = rows.shape[0]
    if n > max_rows:
        stride = n // max_rows
        rows = rows[::stride][:max_rows]
    return rows


class Watcher:
    """Forward hooks on the linear layers of one model, sampled every ``every`` logged steps."""

    def __init__(
        self,
        model: nn.Module,
        every: int = DEFAULT_EVERY,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        collapse_threshold: float = DEFAULT_COLLAPSE_THRESHOLD,
        include: Callable[[str, nn.Linear], bool] | None = None,
        iters: int | None = None,
        warn: Callable[[str, str], None] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError("every must be ≥ 1")
        self.every = every
        self.max_rows = max_rows
        self.collapse_threshold = collapse_threshold
        self.iters = iters
        self.root = unwrap_model(model)
        self._warn = warn
        self.layers: dict[str, nn.Linear] = {}
        #: Layers left out because their weight is spread over the ranks (sharding.py).
        self.sharded: list[str] = []
        for name, module in self.root.named_modules():
            if isinstance(module, nn.Linear) and (include is None or include(name, module)):
                self.layers[name or "linear"] = module
        self.armed = True
        self.captured: dict[str, Tensor] = {}
        self.vectors: dict[str, Tensor] = {}
        #: W r of each layer at its last measurement (see metrics.weight_probe_batched).
        self.probes: dict[str, Tensor] = {}
        self._since = 0
        self._last_step: int | None = None
        self._handles: dict[str, Any] = {}
        self._drop_sharded()
        self.attach()

    def attach(self) -> None:
        """(Re-)registers the hooks; the warm-started vectors are kept."""
        if not self._handles:
            self._handles = {name: m.register_forward_hook(self._make_hook(name)) for name, m in self.layers.items()}
            self.armed = True
            self._since = 0

    def _drop_sharded(self) -> None:
        """Stops watching the layers whose weight is sharded (sharding.py): at ``watch()``, and again
        before each measurement, since ``fully_shard`` may come after ``watch()``."""
        dropped = [name for name, m in self.layers.items() if is_sharded(m.weight)]
        if not dropped:
            return
        for name in dropped:
            del self.layers[name]
            self.captured.pop(name, None)
            handle = self._handles.pop(name, None)
            if handle is not None:
                handle.remove()
        self.sharded.extend(dropped)
        if self._warn is not None:
            shown = ", ".join(self.sharded[:3]) + (" …" if len(self.sharded) > 3 else "")
            self._warn(
                "sharded-layers",
                f"lossradar: spectral alignment leaves out {len(self.sharded)} sharded layer(s) ({shown}):"
                " their weights are spread over the ranks (FSDP, tensor parallel), and a statistic of a"
                " whole weight would be a collective on rank 0 alone",
            )

    def _make_hook(self, name: str) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
        captured = self.captured
        max_rows = self.max_rows

        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            if self.armed and module.training and args and isinstance(args[0], Tensor):
                linear = module
                assert isinstance(linear, nn.Linear)
                captured[name] = _sample_rows(args[0], linear.in_features, max_rows)

        return hook

    def remove(self) -> None:
        """Removes the hooks (no cost left in the forward pass); :meth:`attach` brings them back."""
        for handle in self._handles.values():
            handle.remove()
        self._handles.clear()
        self.captured.clear()
        self.armed = False

    @property
    def has_capture(self) -> bool:
        return bool(self.captured)

    def collect(self) -> tuple[list[tuple[list[str], Tensor]], list[tuple[list[str], list[float], Tensor]]]:
        """Statistics of the captured inputs, clears the capture; no host sync. Layers of the same
        shape are computed together (a fixed number of kernels per shape, not per layer).

        Returns ``scalars``: ``(metric names, 1-D float32 tensor of their values)`` pairs, and
        ``hists``: ``(distribution names, bin edges, (G, bins) counts)``."""
        scalars: list[tuple[list[str], Tensor]] = []
        hists: list[tuple[list[str], list[float], Tensor]] = []
        self._drop_sharded()
        if not self.captured:
            return scalars, hists
        groups: dict[tuple[Any, ...], list[str]] = {}
        for name, x in self.captured.items():
            weight = self.layers[name].weight
            groups.setdefault((tuple(weight.shape), tuple(x.shape), x.device), []).append(name)
        diversities: list[Tensor] = []
        with torch.no_grad(), _no_autocast(next(iter(self.captured.values())).device.type):
            for names in groups.values():
                weights = [self.layers[n].weight.detach() for n in names]
                inputs = torch.stack([self.captured[n] for n in names])
                warm = all(n in self.vectors for n in names)
                v = torch.stack([self.vectors[n] for n in names]) if warm else None
                stats, v1 = spectral_alignment_batched(weights, inputs, v, iters=self.iters)
                for k, n in enumerate(names):
                    self.vectors[n] = v1[k]
                scalars.append(([f"sa/{n}/sign_diversity" for n in names], stats["sign_diversity"]))
                scalars.append(([f"sa/{n}/mean_abs" for n in names], stats["mean_abs"]))
                # Two more matrix-vector products per layer (docs/early-warning.md): the top
                # singular value, and a sketch of the weight whose change since the last
                # measurement is the update-to-weight ratio (NaN on a layer's first measurement).
                scalars.append(([f"sa/{n}/sigma" for n in names], top_singular_values_batched(weights, v1)))
                probe = weight_probe_batched(weights)
                if all(n in self.probes and self.probes[n].shape == probe[k].shape for k, n in enumerate(names)):
                    previous = torch.stack([self.probes[n] for n in names])
                    ratio = (probe - previous).norm(dim=1) / probe.norm(dim=1).clamp_min(1e-30)
                else:
                    ratio = torch.full((len(names),), math.nan, device=probe.device)
                for k, n in enumerate(names):
                    self.probes[n] = probe[k]
                scalars.append(([f"sa/{n}/update_ratio" for n in names], ratio))
                bins = stats["hist"].shape[1]
                edges = [-1.0 + 2.0 * i / bins for i in range(bins + 1)]
                hists.append(([f"sa/{n}" for n in names], edges, stats["hist"]))
                diversities.append(stats["sign_diversity"])
            d = torch.cat(diversities)
            summary = torch.stack([d.min(), (d < self.collapse_threshold).to(torch.float32).mean()])
            scalars.append((["sa/min_sign_diversity", "sa/collapsed_fraction"], summary))
        self.captured.clear()
        return scalars, hists

    def advance(self, step: int, collected: bool) -> None:
        """Called once per logging call after :meth:`collect`: re-arms every ``every`` steps."""
        if collected:
            self._since = 0
            self._last_step = step
            self.armed = self.every <= 1
            return
        if step == self._last_step:
            return
        self._last_step = step
        self._since += 1
        if self._since >= self.every - 1:
            self.armed = True


class _no_autocast:
    """Metrics are float32 whatever the training dtype: switch autocast off around them."""

    def __init__(self, device_type: str) -> None:
        self._ctx: Any = None
        try:
            self._ctx = torch.autocast(device_type=device_type, enabled=False)
        except RuntimeError:
            self._ctx = None

    def __enter__(self) -> None:
        if self._ctx is not None:
            self._ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)


no_autocast = _no_autocast
