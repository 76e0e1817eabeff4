"""A 2-D point mass reaching a goal: the smallest continuous GoalEnv, for HER with DDPG/TD3."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_core.envs.bit_flipping import goal_dict_space


class PointMassGoalEnv(gym.Env):
    """Position in [-1, 1]^2, action a velocity in [-1, 1]^2 scaled by ``max_speed``.

    Sparse reward: 0 within ``goal_radius`` of the goal, else -1. Truncated after
    ``max_steps``; never terminated (as in the HER robotics tasks).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        max_steps: int = 50,
        goal_radius: float = 0.05,
        max_speed: float = 0.1,
        render_mode: str | None = None,
    ) -> None:
        self.max_steps = max_steps
        self.goal_radius = goal_radius
        self.max_speed = max_speed
        self.render_mode = render_mode
        self.observation_space = goal_dict_space(-1.0, 1.0, 2)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._pos = np.zeros(2, dtype=np.float32)
        self._goal = np.zeros(2, dtype=np.float32)
        self._steps = 0

    def compute_reward(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        distance = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
        return -(distance > self.goal_radius).astype(np.float32)

    def compute_terminated(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def compute_truncated(self, achieved_goal, desired_goal, info: Any = None) -> np.ndarray:
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            "observation": self._pos.copy(),
            "achieved_goal": self._pos.copy(),
            "desired_goal": self._goal.copy(),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._pos = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        self._goal = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
        self._pos = np.clip(self._pos + self.max_speed * action, -1.0, 1.0).astype(np.float32)
        self._steps += 1
        reward = float(self.compute_reward(self._pos, self._goal))
        truncated = self._steps >= self.max_steps
        return self._obs(), reward, False, truncated, {"is_success": reward == 0.0}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        size = 128
        image = np.full((size, size, 3), 255, dtype=np.uint8)

        def pixel(p):
            return np.clip(((p + 1) / 2 * (size - 1)).astype(int), 0, size - 1)

        gx, gy = pixel(self._goal)
        px, py = pixel(self._pos)
        image[max(gy - 3, 0) : gy + 4, max(gx - 3, 0) : gx + 4] = (40, 180, 40)
        image[max(py - 2, 0) : py + 3, max(px - 2, 0) : px + 3] = (200, 40, 40)
        return image
