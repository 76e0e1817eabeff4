"""Discretized actions for Box action spaces, so Q-learning agents can act in Pendulum-v1."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
from gymnasium import spaces


def action_grid(space: spaces.Box, bins: int) -> np.ndarray:
    """All ``bins ** d`` joint actions of an evenly spaced grid over a bounded Box, [n, *shape]."""
    low, high = space.low.reshape(-1), space.high.reshape(-1)
    axes = [np.linspace(lo, hi, bins) for lo, hi in zip(low, high, strict=True)]
    grid = np.array(list(itertools.product(*axes)), dtype=space.dtype)
    return grid.reshape(-1, *space.shape)


class DiscretizeActions(gym.ActionWrapper):
    """Exposes ``Discrete(bins ** d)``; index i plays ``action_grid(space, bins)[i]``."""

    def __init__(self, env: gym.Env, bins: int) -> None:
        super().__init__(env)
        self.grid = action_grid(env.action_space, bins)
        self.action_space = spaces.Discrete(len(self.grid))

    def action(self, action):
        return self.grid[int(action)]
