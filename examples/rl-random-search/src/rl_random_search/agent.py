"""Basic random search: perturb a linear policy in random directions, step along the better ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gymnasium import spaces

from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.envs import make_env
from rl_core.errors import ConfigError
from rl_random_search.config import RandomSearchConfig


class RandomSearch(Agent[RandomSearchConfig]):
    """theta <- theta + alpha / N * sum_k [r(theta + nu d_k) - r(theta - nu d_k)] d_k."""

    algorithm = "random-search"
    distribution = "rl-random-search"
    config_class = RandomSearchConfig

    def __init__(self, config: RandomSearchConfig) -> None:
        super().__init__(config)
        self.env = make_env(config.env, **config.env_kwargs)
        obs_space, action_space = self.env.observation_space, self.env.action_space
        if not isinstance(obs_space, spaces.Box):
            raise ConfigError(f"random-search needs Box observations; {config.env} has {obs_space}")
        self.discrete = isinstance(action_space, spaces.Discrete)
        n_out = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        self.theta = np.zeros((int(np.prod(obs_space.shape)), n_out))
        self.rng = np.random.default_rng(config.seed)

    def _act(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        out = obs.reshape(len(obs), -1) @ theta
        if self.discrete:
            return out.argmax(axis=-1)
        space = self.env.action_space
        return np.clip(out, space.low.reshape(-1), space.high.reshape(-1)).reshape(
            len(obs), *space.shape
        )

    def predict(self, obs, deterministic: bool = True) -> np.ndarray:
        return self._act(self.theta, np.asarray(obs, dtype=np.float64))

    def _rollout(self, theta: np.ndarray) -> float:
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        total = 0.0
        for _ in range(self.config.max_episode_steps):
            action = self._act(theta, np.asarray(obs, dtype=np.float64)[None])[0]
            obs, reward, terminated, truncated, _ = self.env.step(action)
            total += float(reward)
            self.num_timesteps += 1
            if terminated or truncated:
                break
        self.num_episodes += 1
        return total

    def _learn(self, target_steps: int, callback: Callback) -> None:
        cfg = self.config
        while self.num_timesteps < target_steps:
            deltas = self.rng.standard_normal((cfg.directions, *self.theta.shape))
            plus = np.array([self._rollout(self.theta + cfg.noise * d) for d in deltas])
            minus = np.array([self._rollout(self.theta - cfg.noise * d) for d in deltas])
            step = np.tensordot(plus - minus, deltas, axes=1) / cfg.directions
            self.theta = self.theta + cfg.step_size * step
            returns = np.concatenate([plus, minus])
            metrics = {
                "charts/episodic_return": float(returns.mean()),
                "losses/return_spread": float(returns.std()),
            }
            if not self._emit(callback, metrics):
                return

    def _save_state(self, path: Path) -> None:
        np.save(path / "theta.npy", self.theta)

    def _load_state(self, path: Path) -> None:
        self.theta = np.load(path / "theta.npy")
