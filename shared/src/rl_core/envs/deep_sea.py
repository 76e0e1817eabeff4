"""Deep Sea, bsuite's hard-exploration grid (Osband et al., 2020, "Behaviour Suite for RL")."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class DeepSeaEnv(gym.Env):
    """An N x N grid: start top-left, every step goes one row down and left or right.

    Which of the two actions means "right" is fixed per cell by a random binary
    mapping drawn from ``mapping_seed`` at construction, so every copy of the
    env (e.g. in a vector env) is the same MDP. Going right costs
    ``unscaled_move_cost / N``; going right from the bottom-right column pays the
    treasure, 1. The episode terminates after N steps. The only path to the
    treasure is N rights in a row, found by dithering with probability 2^-N;
    the optimal return is ``1 - unscaled_move_cost`` (0.99).

    ``deterministic=False`` is bsuite's stochastic variant: a right move fails
    with probability 1/N and the end-of-chain rewards get N(0, 1) noise.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        size: int = 10,
        deterministic: bool = True,
        unscaled_move_cost: float = 0.01,
        randomize_actions: bool = True,
        mapping_seed: int = 0,
        render_mode: str | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self.deterministic = deterministic
        self.unscaled_move_cost = unscaled_move_cost
        self.render_mode = render_mode
        if randomize_actions:
            mapping = np.random.default_rng(mapping_seed).integers(0, 2, (size, size))
        else:
            mapping = np.ones((size, size), dtype=np.int64)
        self.action_mapping = mapping
        """``action_mapping[row, col]`` is the action that moves right in that cell."""
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size, size), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._row = 0
        self._column = 0
        self._treasure = False

    def _obs(self) -> np.ndarray:
        obs = np.zeros((self.size, self.size), dtype=np.float32)
        if self._row < self.size:  # bsuite's all-zero observation after the last step
            obs[self._row, self._column] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._row, self._column, self._treasure = 0, 0, False
        return self._obs(), {"is_success": False}

    def step(self, action):
        if self._row >= self.size:
            raise RuntimeError("step() after the episode ended; call reset()")
        right = int(action) == self.action_mapping[self._row, self._column]
        reward = 0.0
        if self._column == self.size - 1 and right:
            reward += 1.0
            self._treasure = True
        if (
            not self.deterministic
            and self._row == self.size - 1
            and self._column in (0, self.size - 1)
        ):
            reward += float(self.np_random.standard_normal())
        if right:
            if self.deterministic or self.np_random.random() > 1.0 / self.size:
                self._column = min(self._column + 1, self.size - 1)
            reward -= self.unscaled_move_cost / self.size
        else:
            self._column = max(self._column - 1, 0)
        self._row += 1
        terminated = self._row == self.size
        return self._obs(), reward, terminated, False, {"is_success": terminated and self._treasure}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        cell = max(4, 160 // self.size)
        image = np.full((self.size * cell, self.size * cell, 3), 20, dtype=np.uint8)
        image[(self.size - 1) * cell :, (self.size - 1) * cell :] = (230, 190, 40)  # treasure
        if self._row < self.size:
            r, c = self._row * cell, self._column * cell
            image[r : r + cell, c : c + cell] = (240, 240, 240)
        return image
