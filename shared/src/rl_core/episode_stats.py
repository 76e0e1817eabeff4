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
        self.record(
            self._returns[finished],
            self._lengths[finished],
            None if successes is None else np.asarray(successes)[finished],
        )
        self._returns[finished] = 0.0
        self._lengths[finished] = 0

    def record(
        self,
        returns: np.ndarray,
        lengths: np.ndarray,
        successes: np.ndarray | None = None,
    ) -> None:
        """Episodes that finished elsewhere (a distributed actor's envs)."""
        self.recent_returns.extend(float(r) for r in returns)
        self.recent_lengths.extend(int(n) for n in lengths)
        self._new.extend(float(r) for r in returns)
        if successes is not None:
            self.recent_successes.extend(float(s) for s in successes)
        self.episodes += len(returns)

    def new_episodes(self, since: int) -> dict[str, np.ndarray | None]:
        """The episodes finished after the first ``since`` (as far as the window reaches),
        in the form :meth:`record` takes."""
        n = min(self.episodes - since, len(self.recent_returns))
        recent = {
            "returns": self.recent_returns,
            "lengths": self.recent_lengths,
            "successes": self.recent_successes,
        }
        out = {key: np.array(list(values)[len(values) - n :]) for key, values in recent.items()}
        if len(self.recent_successes) < len(self.recent_returns):  # the env reports none
            out["successes"] = None
        return out

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
