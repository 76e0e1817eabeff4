"""Training callbacks: how a run directory (or a user) watches and steers ``learn()``.

An agent calls :meth:`Callback.on_log` once per log interval with its metrics
(``global_step``, ``episodes``, ``charts/...``, ``losses/...``); returning
``False`` stops training after that interval, as in Stable-Baselines3.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rl_core.errors import NonFiniteLossError

if TYPE_CHECKING:
    from rl_core.agent import Agent
    from rl_core.progress import TrainingProgress
    from rl_core.run import RunDirectory


class Callback:
    """Override what you need; every method is a no-op by default."""

    def on_training_start(self, agent: Agent, total_steps: int) -> None:
        """Before the first step; ``total_steps`` is the step count training will reach."""

    def on_log(self, agent: Agent, metrics: Mapping[str, Any]) -> bool | None:
        """Once per log interval; return ``False`` to stop training."""
        return None

    def on_training_end(self, agent: Agent) -> None:
        """After the last step, also when training stops early or fails."""


class CallbackList(Callback):
    """Several callbacks as one; training stops if any of them says so."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)

    def on_training_start(self, agent: Agent, total_steps: int) -> None:
        for cb in self.callbacks:
            cb.on_training_start(agent, total_steps)

    def on_log(self, agent: Agent, metrics: Mapping[str, Any]) -> bool:
        keep_going = True
        for cb in self.callbacks:
            if cb.on_log(agent, metrics) is False:
                keep_going = False
        return keep_going

    def on_training_end(self, agent: Agent) -> None:
        for cb in self.callbacks:
            cb.on_training_end(agent)


def non_finite_losses(metrics: Mapping[str, Any]) -> list[str]:
    """Names of ``losses/*`` metrics that are NaN or infinite."""
    return [
        key
        for key, value in metrics.items()
        if key.startswith("losses/")
        and isinstance(value, (int, float))
        and not math.isfinite(value)
    ]


class RunCallback(Callback):
    """Writes metrics and checkpoints into a run directory and shows progress.

    - every log: ``metrics.jsonl`` + TensorBoard, progress bar update;
    - every ``checkpoint_every`` env steps: an atomic checkpoint (``agent.save``, with
      the replay buffer of an off-policy agent);
    - Ctrl-C: a checkpoint, then a clean stop (a second Ctrl-C interrupts at once);
    - a NaN/Inf loss: :class:`~rl_core.errors.NonFiniteLossError`, nothing saved,
      so the newest checkpoint is the last good one.
    """

    def __init__(
        self,
        run: RunDirectory,
        *,
        checkpoint_every: int,
        keep_checkpoints: int = 3,
        progress: TrainingProgress | None = None,
    ) -> None:
        self.run = run
        self.checkpoint_every = checkpoint_every
        self.keep_checkpoints = keep_checkpoints
        self.progress = progress
        self.interrupted = False
        self._next_checkpoint = checkpoint_every
        self._previous_handler: Any = None

    def _on_sigint(self, signum, frame) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True

    def on_training_start(self, agent: Agent, total_steps: int) -> None:
        step = agent.num_timesteps
        self._next_checkpoint = (step // self.checkpoint_every + 1) * self.checkpoint_every
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        if self.progress is not None:
            self.progress.total = total_steps
            self.progress.start(completed=step)

    def save_checkpoint(self, agent: Agent) -> None:
        def write(path: Path) -> None:
            agent.save(path, include_replay=True)  # a resume continues from the same replay

        self.run.save_checkpoint(agent.num_timesteps, write, keep=self.keep_checkpoints)

    def on_log(self, agent: Agent, metrics: Mapping[str, Any]) -> bool:
        bad = non_finite_losses(metrics)
        step = int(metrics.get("global_step", agent.num_timesteps))
        if bad:
            latest = self.run.latest_checkpoint()
            where = (
                f"the last good checkpoint is {latest}" if latest else "no checkpoint was written"
            )
            raise NonFiniteLossError(
                f"{', '.join(bad)} became non-finite at step {step}; training stopped and "
                f"{where} (try a lower learning rate)"
            )
        self.run.log_metrics({"time": time.time(), **metrics})
        if self.progress is not None:
            self.progress.update(metrics)
        if self.interrupted:
            self.save_checkpoint(agent)
            return False
        if step >= self._next_checkpoint:
            self.save_checkpoint(agent)
            self._next_checkpoint = (step // self.checkpoint_every + 1) * self.checkpoint_every
        return True

    def on_training_end(self, agent: Agent) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
        if self.progress is not None:
            self.progress.stop()
        self.run.flush()
