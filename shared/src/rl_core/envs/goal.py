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


def never_truncated(achieved_goal: Any) -> np.ndarray:
    """``compute_truncated`` for envs whose time limit is their own step counter."""
    return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)


def is_goal_env(space: spaces.Space) -> bool:
    """Whether ``space`` is a goal-env observation space (a Dict with the three goal keys)."""
    return isinstance(space, spaces.Dict) and all(key in space.spaces for key in GOAL_KEYS)
