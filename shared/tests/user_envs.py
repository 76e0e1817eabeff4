"""Envs a user might bring as ``package.module:factory`` (imported by id in the tests)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Corridor(gym.Env):
    """Walk right along a corridor of ``length`` cells; reward 1 at the end."""

    def __init__(self, length: int = 4) -> None:
        self.length = length
        self.observation_space = spaces.Box(0.0, float(length), (1,), np.float32)
        self.action_space = spaces.Discrete(2)
        self._pos = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._pos = 0
        return np.array([self._pos], np.float32), {}

    def step(self, action):
        self._pos = max(0, self._pos + (1 if action == 1 else -1))
        done = self._pos >= self.length
        return np.array([self._pos], np.float32), float(done), done, False, {}


def make_corridor(length: int = 4) -> gym.Env:
    """A factory function, with a time limit as a registered env would have."""
    return gym.wrappers.TimeLimit(Corridor(length), max_episode_steps=20)


def broken_factory(**kwargs):
    raise RuntimeError("the simulator is not running")


not_a_factory = 42
