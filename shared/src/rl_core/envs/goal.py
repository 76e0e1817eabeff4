"""The goal-conditioned observation convention of gymnasium-robotics' ``GoalEnv``.

A goal env observes a :class:`~gymnasium.spaces.Dict` with the keys
``observation``, ``achieved_goal`` and ``desired_goal`` and exposes
``compute_reward(achieved_goal, desired_goal, info)`` (plus
``compute_terminated``/``compute_truncated``) that work on a single goal or on a
batch, so that Hindsight Experience Replay can recompute rewards for relabelled
goals. Only NumPy and Gymnasium are needed here (no gymnasium-robotics).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def goal_dict_space(low: float, high: float, dim: int) -> spaces.Dict:
    """Dict of three ``Box(low, high, (dim,), float32)``: observation, achieved and desired goal."""
    return spaces.Dict(
        {key: spaces.Box(low, high, shape=(dim,), dtype=np.float32) for key in GOAL_KEYS}
    )


def goal_observation(position: np.ndarray, goal: np.ndarray) -> dict[str, np.ndarray]:
    """The Dict observation of an env whose state is its achieved goal (copies, not views)."""
    return {
        "observation": position.copy(),
        "achieved_goal": position.copy(),
        "desired_goal": goal.copy(),
    }


def is_goal_env(space: spaces.Space) -> bool:
    """Whether ``space`` is a goal-env observation space (a Dict with the three goal keys)."""
    return isinstance(space, spaces.Dict) and all(key in space.spaces for key in GOAL_KEYS)


class GoalEnv(gym.Env):
    """Base of the sparse-reward goal envs: subclasses define :meth:`reached`.

    Reward 0 where the goal is reached, else -1; terminated where it is reached
    and ``self.terminate_on_success``; never truncated by the goals alone (the
    time limit is the env's own step counter). All vectorized over leading
    dimensions, so relabelled goals are scored in one call.
    """

    terminate_on_success: bool = False

    def reached(self, achieved_goal: Any, desired_goal: Any) -> np.ndarray:
        """Whether each achieved goal counts as the desired one (vectorized)."""
        raise NotImplementedError

    def compute_reward(self, achieved_goal: Any, desired_goal: Any, info: Any = None) -> Any:
        """0 where the goal is reached, else -1 (float32); ``info`` is ignored."""
        return self.reached(achieved_goal, desired_goal).astype(np.float32) - np.float32(1.0)

    def compute_terminated(self, achieved_goal: Any, desired_goal: Any, info: Any = None) -> Any:
        """Goal reached, if ``terminate_on_success``; vectorized like the reward."""
        return np.logical_and(self.reached(achieved_goal, desired_goal), self.terminate_on_success)

    def compute_truncated(self, achieved_goal: Any, desired_goal: Any, info: Any = None) -> Any:
        """Never from the goals alone."""
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)
