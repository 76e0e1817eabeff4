"""Deep Sea, bsuite's hard-exploration grid.

Osband et al., "Behaviour Suite for Reinforcement Learning" (ICLR 2020) and
"Deep Exploration via Randomized Value Functions" (JMLR 2019).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class DeepSeaEnv(gym.Env):
    """An N x N grid: start top-left, every step goes one row down and one column left or right.

    Which of the two actions means "right" is fixed per cell by a random binary
    matrix drawn from ``np.random.default_rng(mapping_seed)`` at construction
    (:attr:`action_mapping`), so every copy of the env, e.g. in a vector env,
    is the same MDP. With ``randomize_actions=False`` action 1 is always right.

    Going right costs ``unscaled_move_cost / N``; going right in the last column
    pays the treasure, +1 (only reachable on the last row, by N rights in a
    row, which dithering finds with probability 2^-N). Left from column 0 stays
    in column 0. The episode *terminates* (not truncates) after N steps, with
    bsuite's all-zero observation. The optimal return is
    ``1 - unscaled_move_cost`` (0.99 by default).

    ``deterministic=False`` is bsuite's stochastic variant: a right move fails
    with probability 1/N (the agent stays in its column and still pays the
    move cost), and the last step adds N(0, 1) noise to the reward when taken
    from column 0 or N-1 (bsuite's noise on the ends of the chain); the noise
    comes from ``self.np_random``, seeded by ``reset(seed=...)``.

    ``info["is_success"]`` is True on the final step iff the treasure was
    collected; the final info also has bsuite's ``bad_episode`` (the agent left
    the optimal diagonal by going left).
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
            raise ValueError(f"size must be >= 1, got {size}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.size = size
        self.deterministic = deterministic
        self.unscaled_move_cost = unscaled_move_cost
        self.randomize_actions = randomize_actions
        self.mapping_seed = mapping_seed
        self.render_mode = render_mode
        if randomize_actions:
            mapping = np.random.default_rng(mapping_seed).integers(0, 2, (size, size))
        else:
            mapping = np.ones((size, size))
        mapping = mapping.astype(np.int64)
        mapping.setflags(write=False)
        self.action_mapping: np.ndarray = mapping
        """``action_mapping[row, col]`` is the action that moves right in that cell (read-only)."""
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size, size), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._row = 0
        self._column = 0
        self._treasure = False
        self._bad_episode = False

    @property
    def optimal_return(self) -> float:
        """Expected return of the optimal policy, as bsuite computes it."""
        reach = 1.0 if self.deterministic else (1.0 - 1.0 / self.size) ** (self.size - 1)
        return reach - self.unscaled_move_cost

    def right_action(self, row: int, column: int) -> int:
        """The action that moves right in cell (row, column)."""
        return int(self.action_mapping[row, column])

    def _obs(self) -> np.ndarray:
        obs = np.zeros((self.size, self.size), dtype=np.float32)
        if self._row < self.size:  # bsuite's all-zero observation after the last step
            obs[self._row, self._column] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._row, self._column = 0, 0
        self._treasure, self._bad_episode = False, False
        return self._obs(), {"is_success": False}

    def step(self, action: Any):
        if self._row >= self.size:
            raise RuntimeError("step() called after the episode terminated; call reset() first")
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
            if self._row == self._column:  # was on the optimal diagonal and left it
                self._bad_episode = True
            self._column = max(self._column - 1, 0)
        self._row += 1
        terminated = self._row == self.size
        info: dict[str, Any] = {"is_success": terminated and self._treasure}
        if terminated:
            info["bad_episode"] = self._bad_episode
        return self._obs(), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        """The grid: treasure cell gold, agent white (absent after the last step)."""
        if self.render_mode != "rgb_array":
            return None
        cell = max(4, 160 // self.size)
        image = np.full((self.size * cell, self.size * cell, 3), 20, dtype=np.uint8)
        image[::cell, :] = 60  # grid lines
        image[:, ::cell] = 60
        corner = (self.size - 1) * cell
        image[corner + 1 :, corner + 1 :] = (230, 190, 40)  # the treasure
        if self._row < self.size:
            r, c = self._row * cell, self._column * cell
            image[r + 1 : r + cell, c + 1 : c + cell] = (240, 240, 240)
        return image
