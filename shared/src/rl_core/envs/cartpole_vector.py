"""CartPole-v1 for ``num_envs`` copies at once in NumPy, with SAME_STEP autoreset.

A drop-in for ``gym.make_vec("CartPole-v1", n, vectorization_mode="sync",
vector_kwargs={"autoreset_mode": SAME_STEP})``: the same dynamics, rewards, 500-step time
limit, per-copy seeding (copy i reset with ``seed + i`` draws the same initial state as
Gymnasium's CartPoleEnv) and ``info["final_obs"]`` for finished episodes; tests pin it
step for step to the Gymnasium envs. One array update replaces ``num_envs`` Python env
steps, which is most of an on-policy learner's env time on CartPole. (Gymnasium's own
CartPoleVectorEnv autoresets on the next step and shares one RNG across copies, so it
is not a drop-in.)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

# Gymnasium's CartPoleEnv constants.
GRAVITY, MASSCART, MASSPOLE, LENGTH, FORCE_MAG, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
TOTAL_MASS = MASSCART + MASSPOLE
POLEMASS_LENGTH = MASSPOLE * LENGTH
THETA_THRESHOLD = 12 * 2 * np.pi / 360
X_THRESHOLD = 2.4
MAX_EPISODE_STEPS = 500


class CartPoleSameStepVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` CartPole-v1 copies stepped as arrays; an episode's end resets that copy
    in the same step, and its last observation goes to ``info["final_obs"]``."""

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, max_episode_steps: int = MAX_EPISODE_STEPS) -> None:
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        high = np.array([X_THRESHOLD * 2, np.inf, THETA_THRESHOLD * 2, np.inf], dtype=np.float32)
        self.single_observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.state = np.zeros((num_envs, 4))
        self.elapsed = np.zeros(num_envs, dtype=np.int64)
        self._rngs = [seeding.np_random()[0] for _ in range(num_envs)]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._rngs = [seeding.np_random(seed + i)[0] for i in range(self.num_envs)]
        for i in range(self.num_envs):
            self._reset_copy(i)
        return self.state.astype(np.float32), {}

    def _reset_copy(self, i: int) -> None:
        self.state[i] = self._rngs[i].uniform(low=-0.05, high=0.05, size=(4,))
        self.elapsed[i] = 0

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(np.asarray(actions) == 1, FORCE_MAG, -FORCE_MAG)
        costheta, sintheta = np.cos(theta), np.sin(theta)
        temp = (force + POLEMASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
        thetaacc = (GRAVITY * sintheta - costheta * temp) / (
            LENGTH * (4.0 / 3.0 - MASSPOLE * np.square(costheta) / TOTAL_MASS)
        )
        xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
        # Euler integration, as CartPole-v1's default kinematics_integrator.
        x, x_dot = x + TAU * x_dot, x_dot + TAU * xacc
        theta, theta_dot = theta + TAU * theta_dot, theta_dot + TAU * thetaacc
        self.state = np.stack([x, x_dot, theta, theta_dot], axis=1)
        self.elapsed += 1
        terminated = (np.abs(x) > X_THRESHOLD) | (np.abs(theta) > THETA_THRESHOLD)
        truncated = self.elapsed >= self.max_episode_steps
        rewards = np.ones(self.num_envs)
        obs = self.state.astype(np.float32)
        info: dict[str, Any] = {}
        done = terminated | truncated
        if done.any():
            info["final_obs"] = np.where(done[:, None], obs, 0.0).astype(np.float32)
            info["_final_obs"] = done
            for i in np.flatnonzero(done):
                self._reset_copy(i)
            obs = self.state.astype(np.float32)
        return obs, rewards, terminated, truncated, info
