"""Episode returns and lengths from vector-env steps, for logging."""

from __future__ import annotations

from collections import deque

import numpy as np


class EpisodeStats:
    """Accumulates per-env returns; finished episodes are kept in a recent window.

    Feed it the environment's own rewards (not a learned or shaped reward), so
    logged returns are comparable across algorithms.
    """

    def __init__(self, num_envs: int, window: int = 100) -> None:
        self._returns = np.zeros(num_envs, dtype=np.float64)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.recent_lengths: deque[int] = deque(maxlen=window)
        self.recent_successes: deque[float] = deque(maxlen=window)
        self.episodes = 0
        self._new: list[float] = []

    def update(
        self,
        rewards: np.ndarray,
        dones: np.ndarray,
        successes: np.ndarray | None = None,
        active: np.ndarray | None = None,
    ) -> None:
        """One vector step. ``active`` masks envs whose step was an autoreset no-op."""
        rewards = np.asarray(rewards, dtype=np.float64)
        dones = np.asarray(dones, dtype=bool)
        mask = np.ones_like(dones) if active is None else np.asarray(active, dtype=bool)
        self._returns += np.where(mask, rewards, 0.0)
        self._lengths += mask
        finished = np.flatnonzero(dones & mask)
        for i in finished:
            self.recent_returns.append(float(self._returns[i]))
            self.recent_lengths.append(int(self._lengths[i]))
            self._new.append(float(self._returns[i]))
            if successes is not None:
                self.recent_successes.append(float(successes[i]))
        self.episodes += len(finished)
        self._returns[finished] = 0.0
        self._lengths[finished] = 0

    def pop_new_returns(self) -> list[float]:
        """Returns of the episodes finished since the last call."""
        new, self._new = self._new, []
        return new

    def summary(self) -> dict[str, float | None]:
        """CleanRL-named means over the recent window (``None`` before any episode ends)."""

        def mean(values) -> float | None:
            return float(np.mean(values)) if values else None

        return {
            "charts/episodic_return": mean(self.recent_returns),
            "charts/episodic_length": mean(self.recent_lengths),
            "charts/success_rate": mean(self.recent_successes),
        }
