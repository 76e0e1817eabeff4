"""Evaluation during training: episodes every ``eval_every`` env steps, the best policy
kept.

:class:`EvalCallback` is what ``eval_every`` switches on in a CLI run
(:func:`rl_core.training.train_agent`), and a user of the Python API can pass it to
``agent.learn`` directly, with or without a run directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rl_core.callbacks import Callback
from rl_core.run import atomic_write_text

if TYPE_CHECKING:
    from rl_core.agent import Agent
    from rl_core.run import RunDirectory

EVAL_SEED = 2_000_000
"""Seed of the envs evaluated during training: the same episodes at every evaluation (so
they compare), different ones from the final evaluation's (seed 1,000,000), so that the
policy picked as best is not also the one scored on the episodes it was picked on."""
BEST_DIR = "best"
BEST_FILE = "best.json"


class EvalCallback(Callback):
    """Every ``every`` env steps (at the first log record past each multiple), run
    ``episodes`` episodes on separate envs (greedy unless ``deterministic`` is false) and
    log ``eval/episodic_return``, ``eval/episodic_return_std``, ``eval/episodic_length``
    and, where the env reports ``is_success``, ``eval/success_rate``. With a run
    directory, the records go to its metrics and TensorBoard and the best policy so far
    to ``best/`` (``best.json`` says at which step and with what return); ``history``
    keeps every result either way.
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: Mapping[str, Any] | None = None,
        *,
        every: int,
        episodes: int = 5,
        run: RunDirectory | None = None,
        seed: int = EVAL_SEED,
        deterministic: bool = True,
    ) -> None:
        if every <= 0:
            raise ValueError("every must be > 0")
        if episodes <= 0:
            raise ValueError("episodes must be > 0")
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.every = every
        self.episodes = episodes
        self.run = run
        self.seed = seed
        self.deterministic = deterministic
        self.history: list[dict[str, Any]] = []
        self.best_return = float("-inf")
        self._next = every

    def on_training_start(self, agent: Agent, total_steps: int) -> None:
        self._next = (agent.num_timesteps // self.every + 1) * self.every
        best = self.best_record()
        if best is not None:  # a resumed run keeps the best it already had
            self.best_return = float(best["eval/episodic_return"])

    def best_record(self) -> dict[str, Any] | None:
        """The evaluation that made ``best/`` (from the run directory), if any."""
        if self.run is None or not (self.run.path / BEST_FILE).is_file():
            return None
        return json.loads((self.run.path / BEST_FILE).read_text(encoding="utf-8"))

    def on_log(self, agent: Agent, metrics: Mapping[str, Any]) -> bool:
        step = int(metrics.get("global_step", agent.num_timesteps))
        if step < self._next:
            return True
        self._next = (step // self.every + 1) * self.every
        record = self.evaluate(agent, step)
        listeners = self.run.evaluation_listeners if self.run is not None else []
        return all([listener(record) is not False for listener in listeners])

    def evaluate(self, agent: Agent, step: int) -> dict[str, Any]:
        """Evaluate now; log, and keep the policy if it is the best so far."""
        from rl_core.evaluation import evaluate_policy

        result = evaluate_policy(
            agent,
            self.env_id,
            self.env_kwargs,
            episodes=self.episodes,
            seed=self.seed,
            deterministic=self.deterministic,
        )
        record = {
            "global_step": step,
            "eval/episodic_return": result.return_mean,
            "eval/episodic_return_std": result.return_std,
            "eval/episodic_length": sum(result.lengths) / len(result.lengths),
        }
        if result.success_rate is not None:
            record["eval/success_rate"] = result.success_rate
        self.history.append(record)
        if self.run is not None:
            self.run.log_metrics(record)
        if result.return_mean > self.best_return:
            self.best_return = result.return_mean
            if self.run is not None:
                self.run.publish_dir(BEST_DIR, agent.save)
                atomic_write_text(self.run.path / BEST_FILE, json.dumps(record, indent=2) + "\n")
        return record


def best_policy_dir(run_path: str | Path) -> Path:
    """``best/`` of a run trained with ``eval_every``; a clear error if there is none."""
    from rl_core.errors import RunDirectoryError

    best = Path(run_path) / BEST_DIR
    if not best.is_dir():
        raise RunDirectoryError(
            f"{run_path} has no {BEST_DIR}/ (it is written when training with eval_every > 0)"
        )
    return best
