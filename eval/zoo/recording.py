"""How a zoo run is recorded: through the SDK, offline, as a user's script would be."""

from __future__ import annotations

import gzip
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
from torch import Tensor, nn


class Recorder:
    """One zoo run: the SDK's run, watched with its optimizer, and the row logger every kind uses."""

    def __init__(self, run: Any, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        self.run, self.model, self.opt = run, model, opt

    def step(self, step: int, loss: Tensor, clip: float = math.inf, **extra: float) -> float:
        """Backward, clip, optimizer step; logs loss, lr and the pre-clip gradient norm."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        lr = self.opt.param_groups[0]["lr"]
        self.opt.step()
        value = loss.item()
        self.run.log(step, {"loss": value, "lr": lr, "grad_norm": grad_norm.item(), **extra})
        return value


@contextmanager
def recording(name: str, out_file: str, model: nn.Module, opt: torch.optim.Optimizer) -> Iterator[Recorder]:
    import lossradar

    tmp = tempfile.mkdtemp(prefix="lr-zoo-")
    run = lossradar.init(name, {}, mode="local", dir=tmp, run_id=name)
    run.watch(model, every=5, optimizer=opt, snapshot_to="off")
    try:
        yield Recorder(run, model, opt)
    finally:
        run.finish()
    with open(os.path.join(tmp, name, "metrics.jsonl"), "rb") as f_in, gzip.open(out_file + ".part", "wb", 9) as f_out:
        shutil.copyfileobj(f_in, f_out)
    os.replace(out_file + ".part", out_file)
    shutil.rmtree(tmp, ignore_errors=True)


Kind = Callable[[str, int, str], None]
#: dev kinds may be looked at and tuned on; sealed kinds are replayed only with the defaults frozen.
Split = Literal["dev", "sealed"]
