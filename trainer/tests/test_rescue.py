"""The editor's actions on a live run (docs/rescue.md), against the real hub (`lossradar serve` from
source, which presses the buttons: tests/commanding_hub.ts) and a real training loop on the CPU:
Checkpoint Now, Lower Learning Rate, Roll Back (exact, with skipped batches), and the rescue policy
that the hub's watchdog triggers on a critical alert."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import lossradar
from lossradar import encoding

from .conftest import CommandingHub, Hub, use_hub, wait_for


@pytest.fixture
def commanding_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    hubs: list[Hub] = []

    def make(*commands: tuple[int, dict[str, Any]]) -> CommandingHub:
        hub = CommandingHub(tmp_path / "runs", list(commands))
        hubs.append(hub)
        hub.start(timeout=60)
        use_hub(monkeypatch, hub)
        return hub

    yield make
    for hub in hubs:
        hub.stop()


def model_and_optimizer(lr: float = 0.05) -> tuple[nn.Module, torch.optim.Optimizer, Any]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2000)
    return model, opt, sched


class Batches:
    """Numbered batches of a fixed regression task; the number says which was drawn."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(0)
        w = torch.randn(8, 1, generator=g)
        for i in range(self.n):
            x = torch.randn(32, 8, generator=g)
            # Noise puts a floor under the loss: its spikes are small against it, as in real training.
            yield i, x, x @ w + 0.5 * torch.randn(32, 1, generator=g)


def train_step(
    model: nn.Module, opt: torch.optim.Optimizer, sched: Any, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    loss = (model(x) - y).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    out: torch.Tensor = loss.detach()
    return out


def events_of(hub: CommandingHub, run_id: str | None, kind: str, n: int = 1) -> list[dict[str, Any]]:
    assert run_id is not None
    assert wait_for(lambda: len([e for e in hub.events(run_id) if e.get("kind") == kind]) >= n, 15), hub.stderr_text()
    return [e for e in hub.events(run_id) if e.get("kind") == kind]


def test_watch_with_an_optimizer_announces_the_actions_the_editor_may_offer(commanding_hub: Any) -> None:
    hub = commanding_hub()
    run = lossradar.init(name="caps")
    model, opt, sched = model_and_optimizer()
    run.log(0, loss=1.0)
    assert wait_for(lambda: hub.capabilities(run.run_id) != [], 10)
    assert hub.capabilities(run.run_id)[-1]["actions"] == []  # the hello: nothing armed yet
    run.watch(model, optimizer=opt, scheduler=sched, snapshot_every=10)
    run.log(1, loss=1.0)
    assert wait_for(lambda: hub.capabilities(run.run_id)[-1]["actions"] != [], 10)
    caps = hub.capabilities(run.run_id)[-1]
    assert caps["actions"] == ["checkpoint", "lower-lr", "rollback"]
    assert caps["rescue"]["mode"] == "off"  # off unless asked for
    run.finish()


def test_lower_learning_rate_halves_every_group_and_survives_the_scheduler(commanding_hub: Any) -> None:
    hub = commanding_hub((20, {"command": "lower-lr", "factor": 0.5}))
    run = lossradar.init(name="lower-lr")
    model, opt, sched = model_and_optimizer()
    ref_model, ref_opt, ref_sched = model_and_optimizer()  # the same run, never lowered
    run.watch(model, optimizer=opt, scheduler=sched)
    lowered_at = None
    for step, x, y in Batches(600):
        train_step(model, opt, sched, x, y)
        train_step(ref_model, ref_opt, ref_sched, x, y)
        run.log(step, loss=0.0, lr=sched.get_last_lr()[0])
        if lowered_at is None and opt.param_groups[0]["lr"] < 0.75 * ref_opt.param_groups[0]["lr"]:
            lowered_at = step
        if lowered_at is not None and step >= lowered_at + 30:
            break
        time.sleep(0.005)
    assert lowered_at is not None, hub.stderr_text()
    # 30 scheduler steps later the lr is still half the one the schedule alone gives.
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * ref_opt.param_groups[0]["lr"], rel=1e-9)
    run.finish()
    (event,) = events_of(hub, run.run_id, "lr")
    # Applied at the safe point inside log(lowered_at), after that step's update: its row has the old lr.
    assert event["level"] == "info" and event["step"] == lowered_at and "lr × 0.5" in event["message"]
    rows = {r["step"]: r for r in hub.rows(run.run_id)}
    assert rows[lowered_at + 1]["lr"] == pytest.approx(0.5 * rows[lowered_at - 1]["lr"], rel=1e-3)


def test_checkpoint_now_saves_model_optimizer_and_scheduler_under_the_run(commanding_hub: Any, isolated: Path) -> None:
    hub = commanding_hub((10, {"command": "checkpoint"}))
    run = lossradar.init(name="ckpt")
    model, opt, sched = model_and_optimizer()
    run.watch(model, optimizer=opt, scheduler=sched)
    folder = isolated / ".lossradar" / "checkpoints" / str(run.run_id)
    for step, x, y in Batches(600):
        train_step(model, opt, sched, x, y)
        run.log(step, loss=0.0)
        if any(folder.glob("checkpoint-*.pt")):
            break
        time.sleep(0.005)
    run.finish()
    (path,) = folder.glob("checkpoint-*.pt")
    saved = torch.load(path, weights_only=True)
    assert saved["step"] == int(path.stem.split("-")[1])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in saved["model"].items())
    assert saved["optimizer"]["param_groups"][0]["lr"] == opt.param_groups[0]["lr"]
    assert saved["schedulers"][0]["last_epoch"] == saved["step"] + 1  # saved after that step's update
    (event,) = events_of(hub, run.run_id, "checkpoint")
    assert str(path) in event["message"] and event["step"] == saved["step"]


def test_checkpoint_now_calls_the_users_function_when_there_is_one(commanding_hub: Any) -> None:
    hub = commanding_hub((5, {"command": "checkpoint"}))
    run = lossradar.init(name="ckpt-fn")
    calls: list[int | None] = []

    @run.on_checkpoint
    def save(step: int | None) -> str:
        calls.append(step)
        return f"/ckpt/step-{step}"

    for step in range(600):
        run.log(step, loss=1.0)
        if calls:
            break
        time.sleep(0.005)
    run.finish()
    assert len(calls) == 1
    (event,) = events_of(hub, run.run_id, "checkpoint")
    assert event["message"] == f"checkpoint at step {calls[0]}: /ckpt/step-{calls[0]}"


def test_roll_back_restores_the_snapshot_exactly_lowers_the_lr_and_skips_batches(commanding_hub: Any) -> None:
    # The alert opened at step 45 (its loss measured on the weights of step 44): step 40's snapshot is restored.
    hub = commanding_hub((60, {"command": "rollback", "step": 45, "factor": 0.5, "skip": 7}))
    run = lossradar.init(name="rollback")
    model, opt, sched = model_and_optimizer()
    run.watch(model, optimizer=opt, scheduler=sched, snapshot_every=20, keep_snapshots=3)
    rescuer = run._rescuer
    assert rescuer is not None and rescuer.snapshots is not None
    seen: list[str] = []
    run.on_command(seen.append)
    drawn: list[int] = []
    restored = None
    for step, (i, x, y) in enumerate(run.batches(Batches(2000))):
        drawn.append(i)
        train_step(model, opt, sched, x, y)
        lr_before = opt.param_groups[0]["lr"]
        run.log(step, loss=0.0)
        if seen and restored is None:
            # The log() that ran the command restored step 40's snapshot: compare before training on.
            snap = rescuer.snapshots.before(45)
            assert snap is not None and snap.step == 40 and snap.model is not None
            assert all(torch.equal(v, model.state_dict()[k]) for k, v in snap.model.items())
            assert opt.state_dict()["state"].keys() == snap.optimizer["state"].keys()  # type: ignore[index]
            for k, s in snap.optimizer["state"].items():  # type: ignore[index]
                assert torch.equal(s["momentum_buffer"], opt.state_dict()["state"][k]["momentum_buffer"])
            assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * lr_before)
            restored = (step, len(drawn))
        if restored is not None and step > restored[0] + 3:
            break
        time.sleep(0.005)
    run.finish()
    assert restored is not None, hub.stderr_text()
    at, n = restored
    assert drawn[n] == drawn[n - 1] + 8  # the next 7 batches were drawn and dropped
    (event,) = events_of(hub, run.run_id, "rollback")
    assert event["span"] == {"from": 40, "to": at} and event["step"] == at
    assert "skipping the next 7 batches" in event["message"]


def test_rescue_policy_rolls_back_an_exploding_run_by_itself_at_most_max_times(commanding_hub: Any) -> None:
    hub = commanding_hub()
    run = lossradar.init(name="auto", rescue=lossradar.RescuePolicy(mode="auto", max_rescues=1, lr_factor=0.1))
    model, opt, sched = model_and_optimizer(lr=0.01)
    run.watch(model, optimizer=opt, scheduler=sched, snapshot_every=10, keep_snapshots=6)
    explode_from, steps = 200, 1200
    for step, x, y in Batches(steps):
        if step == explode_from:  # a bad lr jump: the loss goes up by orders of magnitude
            for g in opt.param_groups:
                g["lr"] *= 80
            sched.base_lrs = [b * 80 for b in sched.base_lrs]
        loss = train_step(model, opt, sched, x, y)
        run.log(step, loss=loss, lr=opt.param_groups[0]["lr"])
        if run._rescues and step > explode_from + 400:
            break
        time.sleep(0.003)
    run.finish()
    event, *later = events_of(hub, run.run_id, "rescue")
    # At most max_rescues: a later critical alert (lr still 8× the healthy one) is only said, once.
    assert run._rescues == 1 and len(later) <= 1 and all("not acted on" in e["message"] for e in later)
    assert event["level"] == "warning" and event["message"].startswith("rescue 1 of 1 (critical alert at step ")
    assert event["span"]["from"] < explode_from <= event["span"]["to"]
    rows = hub.rows(run.run_id)
    healthy = [r["loss"] for r in rows if explode_from - 50 <= r["step"] < explode_from]
    final = [r["loss"] for r in rows[-20:]]
    assert isinstance(final[-1], float) and max(final) < 10 * max(healthy), (healthy[-3:], final[-3:])
    assert "asked run" in hub.stderr_text()


def test_rescue_policy_never_fires_on_a_healthy_run(commanding_hub: Any) -> None:
    hub = commanding_hub()
    run = lossradar.init(name="healthy", rescue="auto")
    model, opt, sched = model_and_optimizer(lr=0.01)
    run.watch(model, optimizer=opt, scheduler=sched, snapshot_every=10)
    for step, x, y in Batches(400):
        run.log(step, loss=train_step(model, opt, sched, x, y))
        time.sleep(0.002)
    run.finish()
    hub.wait_status(run.run_id, "completed")
    assert [e for e in hub.events(run.run_id) if e.get("kind") == "rescue"] == []
    assert run._rescues == 0


def test_an_action_the_run_cannot_do_is_said_in_its_events_and_the_loop_goes_on(commanding_hub: Any) -> None:
    hub = commanding_hub((5, {"command": "rescue", "step": 3}))
    run = lossradar.init(name="unarmed", rescue="auto")
    for step in range(600):
        run.log(step, loss=1.0)
        if run._rescues:
            break
        time.sleep(0.005)
    run.finish()
    (event,) = events_of(hub, run.run_id, "rescue")
    assert "no snapshots to roll back to" in event["message"] and event["level"] == "warning"


@pytest.mark.parametrize(
    ("frame", "parsed"),
    [
        ({"command": "lower-lr", "factor": 0.5}, {"command": "lower-lr", "factor": 0.5}),
        ({"command": "lower-lr", "factor": 1}, {"command": "lower-lr", "factor": 1.0}),
        ({"command": "rollback", "step": 120, "skip": 0}, {"command": "rollback", "step": 120, "skip": 0}),
        ({"command": "rescue", "step": 7, "extra": "x"}, {"command": "rescue", "step": 7}),
    ],
)
def test_command_arguments_are_checked_at_the_boundary(frame: dict[str, Any], parsed: dict[str, Any]) -> None:
    assert encoding.parse_hub_frame(json.dumps({"type": "command", **frame})) == {"type": "command", **parsed}


@pytest.mark.parametrize(
    "frame",
    [
        {"command": "lower-lr", "factor": 2},  # a command never raises the lr
        {"command": "lower-lr", "factor": 0},
        {"command": "lower-lr", "factor": "0.5"},
        {"command": "lower-lr", "factor": True},
        {"command": "rollback", "step": -1},
        {"command": "rollback", "step": 1.5},
        {"command": "rollback", "skip": 10**7},
    ],
)
def test_bad_command_arguments_are_protocol_errors(frame: dict[str, Any]) -> None:
    with pytest.raises(encoding.HubProtocolError):
        encoding.parse_hub_frame(json.dumps({"type": "command", **frame}))


def test_a_rescue_policy_is_typed_and_checked() -> None:
    assert lossradar.RescuePolicy.of("auto") == lossradar.RescuePolicy(mode="auto")
    assert lossradar.RescuePolicy.of({"mode": "auto", "maxRescues": 3}).max_rescues == 3
    with pytest.raises(ValueError, match="mode"):
        lossradar.RescuePolicy(mode="always")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr_factor"):
        lossradar.RescuePolicy(lr_factor=1.5)
    with pytest.raises(ValueError, match="unknown"):
        lossradar.RescuePolicy.of({"mode": "auto", "retries": 2})


def test_event_kind_and_span_travel_to_the_hub(commanding_hub: Any) -> None:
    hub = commanding_hub()
    run = lossradar.init(name="events")
    run.log(3, loss=1.0)
    run.event("warm restart", step=3, kind="restart", span=(1, 3))
    run.finish()
    (event,) = events_of(hub, run.run_id, "restart")
    assert event["span"] == {"from": 1, "to": 3} and event["message"] == "warm restart"
    with pytest.raises(ValueError, match="span"):
        encoding.event_frame("x", span=(5, 2))


def test_a_transformers_trainer_lowers_its_lr_from_the_editor_and_its_schedule_keeps_it(
    commanding_hub: Any, tmp_path: Path
) -> None:
    from transformers import Trainer

    from lossradar.integrations.transformers import LossRadarCallback

    from .test_integration_transformers import Tokens, tiny_gpt2, training_args

    hub = commanding_hub((4, {"command": "lower-lr", "factor": 0.5}))
    callback = LossRadarCallback()
    args = training_args(tmp_path, max_steps=400, eval_strategy="no", learning_rate=1e-3, warmup_steps=0)
    trainer = Trainer(model=tiny_gpt2(), args=args, train_dataset=Tokens(64), callbacks=[callback])

    lowered: list[int] = []
    orig_log = callback.on_log

    def on_log(*a: Any, **kw: Any) -> None:
        orig_log(*a, **kw)
        run = callback.run
        if run is not None and not lowered and hub.events(str(run.run_id)):
            lowered.append(trainer.state.global_step)
        if lowered and trainer.state.global_step >= lowered[0] + 10:
            a[2].should_training_stop = True

    callback.on_log = on_log  # type: ignore[method-assign]
    trainer.train()
    run = callback.run
    assert run is not None and run.run_id is not None
    (event,) = events_of(hub, run.run_id, "lr")
    at = event["step"]
    rows = {r["step"]: r["lr"] for r in hub.rows(run.run_id) if "lr" in r}

    # HF's linear decay from 1e-3 over 400 steps, halved from the step after the command on.
    def linear(s: int) -> float:
        return 1e-3 * (400 - s) / 400

    assert rows[at] == pytest.approx(linear(at), rel=0.02)
    assert all(rows[s] == pytest.approx(0.5 * linear(s), rel=0.02) for s in rows if s > at)


def test_an_experiment_files_policy_reaches_init_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSSRADAR_RESCUE", json.dumps({"mode": "auto", "maxRescues": 1, "lrFactor": 0.25}))
    run = lossradar.init(name="from-experiment", mode="local")
    assert run.rescue_policy == lossradar.RescuePolicy(mode="auto", max_rescues=1, lr_factor=0.25)
    run.finish()
    # The script's own rescue= wins over the experiment file's.
    run = lossradar.init(name="own", mode="local", rescue="off")
    assert run.rescue_policy.mode == "off"
    run.finish()
    monkeypatch.setenv("LOSSRADAR_RESCUE", '{"mode": "sometimes"}')
    with pytest.warns(lossradar.LossRadarWarning, match="LOSSRADAR_RESCUE is not a rescue policy"):
        run = lossradar.init(name="bad", mode="local")
    assert run.rescue_policy.mode == "off"
    run.finish()


def test_the_lightning_callback_arms_the_trainers_optimizer(commanding_hub: Any, tmp_path: Path) -> None:
    from lossradar.integrations.lightning import LossRadarLogger

    from .test_integration_lightning import Regression, points, trainer

    hub = commanding_hub()
    logger = LossRadarLogger(name="pl-armed")
    t = trainer(tmp_path, logger, max_steps=4)  # with LossRadarCallback()
    t.fit(Regression(), points())
    run = logger.experiment
    assert run._rescuer is not None and run._rescuer.optimizer is t.optimizers[0]
    armed = ["checkpoint", "lower-lr", "rollback"]
    assert wait_for(lambda: any(c["actions"] == armed for c in hub.capabilities(run.run_id)))


def test_an_action_that_fails_is_an_error_event_and_the_loop_goes_on(commanding_hub: Any) -> None:
    hub = commanding_hub((5, {"command": "checkpoint"}))
    run = lossradar.init(name="failing-checkpoint")

    @run.on_checkpoint
    def save(step: int | None) -> None:
        raise OSError(28, "No space left on device")

    step = 0
    while step < 600 and not hub.events(run.run_id):
        run.log(step, loss=1.0)
        step += 1
        time.sleep(0.005)
    for more in range(step, step + 5):  # still logging
        run.log(more, loss=1.0)
    run.finish()
    (event,) = events_of(hub, run.run_id, "checkpoint")
    assert event["level"] == "error" and "No space left on device" in event["message"]
    assert hub.wait_status(str(run.run_id), "completed")["status"] == "completed"
