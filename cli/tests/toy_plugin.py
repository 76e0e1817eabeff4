"""A tiny NumPy agent registered in-process, to test the plugin contract and the CLI.

It hill-climbs a linear CartPole policy: enough to produce returns, checkpoints
and metrics in seconds, with knobs to slow it down or make its loss NaN.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gymnasium.spaces import Box

from rl_core import AlgorithmSpec, hookimpl
from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.config import BaseConfig
from rl_core.episode_stats import EpisodeStats
from rl_core.errors import ConfigError


@dataclass
class ToyConfig(BaseConfig):
    env: str = "CartPole-v1"
    total_steps: int = 2_000
    checkpoint_every: int = 500
    eval_episodes: int = 3
    num_envs: int = 2
    """Parallel environments."""
    log_every: int = 100
    """Environment steps between log records."""
    noise: float = 0.5
    """Scale of the hill-climbing perturbation."""
    step_delay: float = 0.0
    """Seconds to sleep per vector step (lets tests kill a run mid-way)."""
    nan_at_step: int = -1
    """Report a NaN loss from this step on; -1 never."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_envs < 1:
            raise ValueError("num_envs must be >= 1")


class ToyAgent(Agent[ToyConfig]):
    algorithm = "toy"
    distribution = "rl-core"
    config_class = ToyConfig

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        from rl_core.envs import make_vector_env

        self.envs = make_vector_env(config.env, config.num_envs, config.seed, config.env_kwargs)
        if not isinstance(self.envs.single_observation_space, Box):
            raise ConfigError(f"toy needs Box observations; {config.env} has another space")
        self.rng = np.random.default_rng(config.seed)
        dim = int(np.prod(self.envs.single_observation_space.shape))
        self.weights = np.zeros(dim)
        self.best_return = -np.inf
        self.stats = EpisodeStats(config.num_envs)

    def predict(self, obs, deterministic: bool = True) -> np.ndarray:
        return (np.asarray(obs).reshape(len(obs), -1) @ self.weights > 0).astype(np.int64)

    def _learn(self, target_steps: int, callback: Callback) -> None:
        obs, _ = self.envs.reset(seed=self.config.seed + self.num_timesteps)
        candidate = self.weights + self.config.noise * self.rng.standard_normal(self.weights.shape)
        next_log = self.num_timesteps + self.config.log_every
        while self.num_timesteps < target_steps:
            actions = (obs.reshape(len(obs), -1) @ candidate > 0).astype(np.int64)
            obs, rewards, terminated, truncated, _ = self.envs.step(actions)
            done = terminated | truncated
            self.stats.update(rewards, done)
            self.num_timesteps += self.config.num_envs
            self.num_episodes = self.stats.episodes
            if self.config.step_delay:
                time.sleep(self.config.step_delay)
            if self.num_timesteps >= next_log:
                next_log += self.config.log_every
                new = self.stats.pop_new_returns()
                if new and np.mean(new) >= self.best_return:
                    self.best_return, self.weights = float(np.mean(new)), candidate
                candidate = self.weights + self.config.noise * self.rng.standard_normal(
                    self.weights.shape
                )
                broken = 0 <= self.config.nan_at_step <= self.num_timesteps
                loss = float("nan") if broken else float(np.linalg.norm(self.weights))
                if not self._emit(callback, {**self.stats.summary(), "losses/toy": loss}):
                    return

    def _save_state(self, path: Path) -> None:
        np.savez(path / "toy.npz", weights=self.weights, best=self.best_return)

    def _load_state(self, path: Path) -> None:
        data = np.load(path / "toy.npz")
        self.weights, self.best_return = data["weights"], float(data["best"])


@hookimpl
def register_algorithms(register):
    # Registered as the algorithm packages register theirs, so the CLI's tests go
    # through the same train/load_policy wrappers.
    spec = AlgorithmSpec.for_agent(
        "toy_plugin:ToyAgent",
        name="toy",
        summary="Hill-climbing linear policy (test plugin).",
        config_cls=ToyConfig,
    )
    register(dataclasses.replace(spec, distributed=DISTRIBUTED))


# Distributed runners by backend; tests patch one in.
DISTRIBUTED: dict = {}
