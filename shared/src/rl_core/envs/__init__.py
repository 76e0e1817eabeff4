"""Environments under the ``rl/`` namespace, and the env factories every algorithm uses.

Importing this module registers ``rl/BitFlipping-v0``, ``rl/PointMassGoal-v0``,
``rl/CartPole-v1`` and ``rl/DeepSea-v0`` with Gymnasium. Plain Gymnasium code can
reach them as ``gym.make("rl_core.envs:rl/DeepSea-v0")``, which imports this
module first.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from rl_core.envs.bit_flipping import BitFlippingEnv
from rl_core.envs.cartpole import CartPoleWrapper
from rl_core.envs.deep_sea import DeepSeaEnv
from rl_core.envs.point_mass import PointMassGoalEnv
from rl_core.errors import ConfigError

__all__ = [
    "BitFlippingEnv",
    "CartPoleWrapper",
    "DeepSeaEnv",
    "PointMassGoalEnv",
    "UnknownEnvironmentError",
    "is_goal_env",
    "make_env",
    "make_vector_env",
    "register_envs",
]

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")
_ENVS = {
    "rl/BitFlipping-v0": "rl_core.envs.bit_flipping:BitFlippingEnv",
    "rl/PointMassGoal-v0": "rl_core.envs.point_mass:PointMassGoalEnv",
    "rl/CartPole-v1": "rl_core.envs.cartpole:make_cartpole",
    "rl/DeepSea-v0": "rl_core.envs.deep_sea:DeepSeaEnv",
}


class UnknownEnvironmentError(ConfigError):
    """No environment of this id is registered with Gymnasium."""


def register_envs() -> None:
    """Register the ``rl/`` environments (safe to call more than once)."""
    for env_id, entry_point in _ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)


def check_env_id(env_id: str) -> None:
    """Raise :class:`UnknownEnvironmentError`, naming the closest ids, for an unknown id."""
    if ":" in env_id:  # "module:EnvId": gymnasium imports the module, then looks it up
        return
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownEnvironmentError(f"unknown environment {env_id!r}{hint}")


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with a clear error for an unknown id."""
    check_env_id(env_id)
    return gym.make(env_id, **kwargs)


def make_vector_env(
    env_id: str,
    num_envs: int,
    seed: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    vectorization: str = "sync",
    **vector_kwargs: Any,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id`` stepped together, seeded ``seed, seed+1, ...``.

    ``vector_kwargs`` go to the vector env (e.g. ``autoreset_mode``). Sync
    vectorization is the default: for small envs it beats subprocesses.
    """
    check_env_id(env_id)
    if vectorization not in ("sync", "async"):
        raise ConfigError(f"vectorization must be 'sync' or 'async', got {vectorization!r}")
    envs = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode=vectorization,
        vector_kwargs=vector_kwargs or None,
        **dict(env_kwargs or {}),
    )
    if seed is not None:
        envs.reset(seed=seed)
        envs.action_space.seed(seed)
        envs.single_action_space.seed(seed)
    return envs


def is_goal_env(space: gym.Space) -> bool:
    """Whether ``space`` is a GoalEnv observation (Dict with observation/achieved/desired goal)."""
    return isinstance(space, spaces.Dict) and all(key in space.spaces for key in GOAL_KEYS)


register_envs()
