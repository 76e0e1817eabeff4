"""Running normalization of observations and goals, as in the HER paper and OpenAI baselines.

baselines' ``Normalizer``: raw values are clipped to ``+-obs_clip`` (``clip_obs = 200``),
then ``(x - mean) / max(std, 0.01)`` is clipped to ``+-norm_clip`` (``norm_clip = 5``),
with one running mean/std over observations and one over goals. The statistics are part
of the policy: they are saved with it and used by acting and learning alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rl_core.math import RunningMeanStd

STD_FLOOR = 0.01  # baselines' eps: a feature that barely varies is not blown up


class InputNormalizer:
    """Normalizes ``[observation, goal]`` rows (``obs_dim + goal_dim`` wide); identity if off."""

    def __init__(
        self, obs_dim: int, goal_dim: int, obs_clip: float, norm_clip: float, enabled: bool
    ) -> None:
        self.obs_dim, self.enabled = obs_dim, enabled
        self.obs_clip, self.norm_clip = obs_clip, norm_clip
        # epsilon 0: the exact statistics of the data (mean 0, std 1 before any).
        self.obs = RunningMeanStd((obs_dim,), epsilon=0.0)
        self.goal = RunningMeanStd((goal_dim,), epsilon=0.0)

    def update(self, observations: np.ndarray, goals: np.ndarray) -> None:
        """Add a batch of observations ``[B, obs_dim]`` and of goals ``[B', goal_dim]``."""
        if self.enabled:
            self.obs.update(np.clip(observations, -self.obs_clip, self.obs_clip))
            self.goal.update(np.clip(goals, -self.obs_clip, self.obs_clip))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Normalized float32 copy of ``x`` (``[..., obs_dim + goal_dim]``)."""
        if not self.enabled:
            return x
        x = np.clip(x, -self.obs_clip, self.obs_clip)
        mean = np.concatenate([self.obs.mean, self.goal.mean])
        std = np.maximum(np.concatenate([self.obs.std, self.goal.std]), STD_FLOOR)
        return np.clip((x - mean) / std, -self.norm_clip, self.norm_clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready statistics (lists)."""
        return {
            name: {"mean": s.mean.tolist(), "var": s.var.tolist(), "count": s.count}
            for name, s in (("obs", self.obs), ("goal", self.goal))
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.obs.load_state_dict(state["obs"])
        self.goal.load_state_dict(state["goal"])
