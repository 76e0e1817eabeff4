"""The bit-flipping toy of Hindsight Experience Replay (Andrychowicz et al., 2017, sec. 3.1)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


def goal_dict_space(low: float, high: float, dim: int) -> spaces.Dict:
    """The gymnasium-robotics GoalEnv observation: observation, achieved and desired goal."""
    box = spaces.Box(low, high, shape=(dim,), dtype=np.float32)
    return spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})


class BitFlippingEnv(gym.Env):
    """n bits; each action flips one; reward 0 on reaching the goal, else -1.

    Start and goal are drawn uniformly at random each episode (the goal is redrawn
    while it equals the start, so every episode needs at least one flip). The
    episode is truncated after ``max_steps`` (default ``n_bits``) and, with
    ``terminate_on_success``, terminated on reaching the goal.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        n_bits: int = 10,
        max_steps: int | None = None,
        terminate_on_success: bool = True,
        render_mode: str | None = None,
    ) -> None:
        if n_bits < 1:
            raise ValueError("n_bits must be >= 1")
        self.n_bits = n_bits
        self.max_steps = n_bits if max_steps is None else max_steps
        self.terminate_on_success = terminate_on_success
        self.render_mode = render_mode
        self.observation_space = goal_dict_space(0.0, 1.0, n_bits)
        self.action_space = spaces.Discrete(n_bits)
        self._state = np.zeros(n_bits, dtype=np.float32)
        self._goal = np.zeros(n_bits, dtype=np.float32)
        self._steps = 0

    def compute_reward(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        """0 where the achieved goal equals the desired one, else -1; works on batches."""
        different = np.any(np.asarray(achieved_goal) != np.asarray(desired_goal), axis=-1)
        return -different.astype(np.float32)

    def compute_terminated(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        reached = np.all(np.asarray(achieved_goal) == np.asarray(desired_goal), axis=-1)
        return reached & self.terminate_on_success

    def compute_truncated(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            "observation": self._state.copy(),
            "achieved_goal": self._state.copy(),
            "desired_goal": self._goal.copy(),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state = self.np_random.integers(0, 2, self.n_bits).astype(np.float32)
        self._goal = self._state
        while np.array_equal(self._goal, self._state):
            self._goal = self.np_random.integers(0, 2, self.n_bits).astype(np.float32)
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(self, action):
        action = int(action)
        if not 0 <= action < self.n_bits:
            raise ValueError(f"action {action} out of range [0, {self.n_bits})")
        self._state[action] = 1.0 - self._state[action]
        self._steps += 1
        success = bool(np.array_equal(self._state, self._goal))
        reward = float(self.compute_reward(self._state, self._goal))
        terminated = success and self.terminate_on_success
        truncated = not terminated and self._steps >= self.max_steps
        return self._obs(), reward, terminated, truncated, {"is_success": success}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        cell = 16
        image = np.full((2 * cell, self.n_bits * cell, 3), 255, dtype=np.uint8)
        for row, bits in enumerate((self._state, self._goal)):
            for i, bit in enumerate(bits):
                color = (40, 40, 40) if bit else (220, 220, 220)
                image[row * cell + 1 : (row + 1) * cell - 1, i * cell + 1 : (i + 1) * cell - 1] = (
                    color
                )
        return image
