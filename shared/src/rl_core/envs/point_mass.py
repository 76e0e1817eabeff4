"""A 2-D point mass reaching a goal: the smallest continuous GoalEnv, for HER with DDPG/TD3."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rl_core.envs.goal import GoalEnv, goal_dict_space, goal_observation


class PointMassGoalEnv(GoalEnv):
    """Position in [-1, 1]^2; the action is a velocity in [-1, 1]^2 scaled by ``max_speed``.

    Each step moves ``position += max_speed * clip(action, -1, 1)``, clipped to
    the square. Start and goal are uniform in the square each episode (from
    ``self.np_random``); the goal is redrawn while it lies within
    ``goal_radius`` of the start, so no episode is solved before it starts.
    Sparse reward: 0 within ``goal_radius`` (euclidean, inclusive) of the goal,
    else -1. Truncated after ``max_steps``; never terminated unless
    ``terminate_on_success`` (the HER robotics tasks do not terminate).

    Observations follow gymnasium-robotics' GoalEnv (``observation`` ==
    ``achieved_goal`` == the position); :meth:`compute_reward` works on one
    goal ``(2,)`` or a batch ``(B, 2)``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        max_steps: int = 50,
        goal_radius: float = 0.05,
        max_speed: float = 0.1,
        terminate_on_success: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        if not 0.0 < goal_radius < 1.0:
            raise ValueError(f"goal_radius must be in (0, 1), got {goal_radius}")
        if max_speed <= 0.0:
            raise ValueError(f"max_speed must be > 0, got {max_speed}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.max_steps = max_steps
        self.goal_radius = goal_radius
        self.max_speed = max_speed
        self.terminate_on_success = terminate_on_success
        self.render_mode = render_mode
        self.observation_space = goal_dict_space(-1.0, 1.0, 2)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._pos = np.zeros(2, dtype=np.float32)
        self._goal = np.full(2, 0.5, dtype=np.float32)
        self._steps = 0

    # ---------------------------------------------------------------- GoalEnv API

    def reached(self, achieved_goal: Any, desired_goal: Any) -> np.ndarray:
        """Within ``goal_radius`` (euclidean) of the goal."""
        diff = np.asarray(achieved_goal, dtype=np.float64) - np.asarray(desired_goal)
        return np.linalg.norm(diff, axis=-1) <= self.goal_radius

    # ---------------------------------------------------------------- gym.Env API

    def _obs(self) -> dict[str, np.ndarray]:
        return goal_observation(self._pos, self._goal)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._pos = self.np_random.uniform(-1.0, 1.0, 2).astype(np.float32)
        self._goal = self._pos.copy()
        while self.reached(self._pos, self._goal):
            self._goal = self.np_random.uniform(-1.0, 1.0, 2).astype(np.float32)
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(self, action: Any):
        action = np.clip(np.asarray(action, dtype=np.float32).reshape(2), -1.0, 1.0)
        self._pos = np.clip(self._pos + self.max_speed * action, -1.0, 1.0).astype(np.float32)
        self._steps += 1
        success = bool(self.reached(self._pos, self._goal))
        reward = 0.0 if success else -1.0
        terminated = success and self.terminate_on_success
        truncated = not terminated and self._steps >= self.max_steps
        return self._obs(), reward, terminated, truncated, {"is_success": success}

    def render(self) -> np.ndarray | None:
        """128x128 image: the goal disc (green, to scale) and the point (red)."""
        if self.render_mode != "rgb_array":
            return None
        size = 128
        image = np.full((size, size, 3), 255, dtype=np.uint8)
        # pixel centres in world coordinates; image row 0 is y = +1
        coords = (np.arange(size) + 0.5) / size * 2.0 - 1.0
        xs, ys = np.meshgrid(coords, -coords)
        goal_radius = max(self.goal_radius, 2.0 / size)
        near_goal = (xs - self._goal[0]) ** 2 + (ys - self._goal[1]) ** 2 <= goal_radius**2
        image[near_goal] = (60, 170, 60)
        point_radius = 3.0 / size
        at_point = (xs - self._pos[0]) ** 2 + (ys - self._pos[1]) ** 2 <= point_radius**2
        image[at_point] = (200, 40, 40)
        return image
