"""The bit-flipping toy of Hindsight Experience Replay (Andrychowicz et al., 2017, sec. 3.1).

The state is a vector of ``n`` bits, the goal another one; action ``i`` flips bit
``i``; the reward is 0 when the state equals the goal and -1 otherwise. With more
than a few bits a random policy practically never sees a reward of 0, which is
what HER's goal relabelling fixes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rl_core.envs.goal import GoalEnv, goal_dict_space, goal_observation


class BitFlippingEnv(GoalEnv):
    """n bits; each action flips one; reward 0 on reaching the goal, else -1.

    Start and goal are drawn uniformly at random each episode from
    ``self.np_random``; the goal is redrawn while it equals the start, so every
    episode needs at least one flip (the paper does not say; an episode that is
    solved before the first action would carry no learning signal). The
    episode is *truncated* (a time limit, not a terminal state) after
    ``max_steps`` (default ``n_bits``) and, with ``terminate_on_success``,
    *terminated* on reaching the goal. ``info["is_success"]`` is given on every
    step and on reset.

    Observations follow gymnasium-robotics' GoalEnv: a Dict of ``observation``,
    ``achieved_goal`` and ``desired_goal``, each ``Box(0, 1, (n,), float32)``;
    here ``observation == achieved_goal``. :meth:`compute_reward` and friends
    take one goal (shape ``(n,)``) or a batch (``(B, n)``).
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
            raise ValueError(f"n_bits must be >= 1, got {n_bits}")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.n_bits = n_bits
        self.max_steps = n_bits if max_steps is None else max_steps
        self.terminate_on_success = terminate_on_success
        self.render_mode = render_mode
        self.observation_space = goal_dict_space(0.0, 1.0, n_bits)
        self.action_space = spaces.Discrete(n_bits)
        self._state = np.zeros(n_bits, dtype=np.float32)
        self._goal = np.ones(n_bits, dtype=np.float32)
        self._steps = 0

    # ---------------------------------------------------------------- GoalEnv API

    def reached(self, achieved_goal: Any, desired_goal: Any) -> np.ndarray:
        """All bits equal the goal's; ``(n,)`` inputs give a scalar, ``(B, n)`` a ``(B,)`` array."""
        return np.all(np.asarray(achieved_goal) == np.asarray(desired_goal), axis=-1)

    # ---------------------------------------------------------------- gym.Env API

    def _obs(self) -> dict[str, np.ndarray]:
        return goal_observation(self._state, self._goal)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._state = self.np_random.integers(0, 2, self.n_bits).astype(np.float32)
        self._goal = self._state.copy()
        while np.array_equal(self._goal, self._state):  # at least one flip needed
            self._goal = self.np_random.integers(0, 2, self.n_bits).astype(np.float32)
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(self, action: Any):
        index = int(action)
        if not 0 <= index < self.n_bits:
            raise ValueError(f"action {action!r} is out of range [0, {self.n_bits})")
        self._state[index] = 1.0 - self._state[index]
        self._steps += 1
        success = bool(np.array_equal(self._state, self._goal))
        reward = float(self.compute_reward(self._state, self._goal, None))
        terminated = success and self.terminate_on_success
        truncated = not terminated and self._steps >= self.max_steps
        return self._obs(), reward, terminated, truncated, {"is_success": success}

    def render(self) -> np.ndarray | None:
        """Top row the bits, middle row the goal (dark = 1), bottom strip green/red per match."""
        if self.render_mode != "rgb_array":
            return None
        cell = 16
        image = np.full((2 * cell + cell // 2, self.n_bits * cell, 3), 255, dtype=np.uint8)
        for row, bits in enumerate((self._state, self._goal)):
            for i, bit in enumerate(bits):
                color = (40, 40, 40) if bit else (215, 215, 215)
                image[row * cell + 1 : (row + 1) * cell - 1, i * cell + 1 : (i + 1) * cell - 1] = (
                    color
                )
        match = self._state == self._goal
        for i, same in enumerate(match):
            color = (60, 170, 60) if same else (200, 50, 50)
            image[2 * cell + 2 :, i * cell + 1 : (i + 1) * cell - 1] = color
        return image
