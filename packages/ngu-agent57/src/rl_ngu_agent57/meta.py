"""Agent57's meta-controller: a sliding-window UCB bandit over the N policies (Appendix D)."""

from __future__ import annotations

from collections import deque

import numpy as np


class SlidingWindowUCB:
    r"""Picks the policy index j for each new episode.

    The first N episodes try each arm once; afterwards, with probability
    :math:`\epsilon_{UCB}` an arm is drawn uniformly, otherwise
    :math:`\arg\max_a \hat\mu(a, \tau) + \beta \sqrt{1 / N(a, \tau)}` over the last
    :math:`\tau` episodes (an arm absent from the window has an infinite bonus).
    The bandit's reward is the undiscounted extrinsic return of the episode.
    """

    def __init__(
        self, num_arms: int, window: int = 160, beta: float = 1.0, epsilon: float = 0.5
    ) -> None:
        self.num_arms = num_arms
        self.beta = beta
        self.epsilon = epsilon
        self.history: deque[tuple[int, float]] = deque(maxlen=window)
        self.pulls = 0

    def _window_stats(self) -> tuple[np.ndarray, np.ndarray]:
        counts = np.zeros(self.num_arms)
        sums = np.zeros(self.num_arms)
        for arm, reward in self.history:
            counts[arm] += 1
            sums[arm] += reward
        return counts, sums

    def scores(self) -> np.ndarray:
        """mean + beta * sqrt(1 / count) per arm over the window (inf for unseen arms)."""
        counts, sums = self._window_stats()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(counts > 0, sums / counts + self.beta * np.sqrt(1.0 / counts), np.inf)

    def select(self, rng: np.random.Generator) -> int:
        """The arm for the next episode."""
        pulls, self.pulls = self.pulls, self.pulls + 1
        if pulls < self.num_arms:
            return pulls
        if rng.random() < self.epsilon:
            return int(rng.integers(self.num_arms))
        return int(np.argmax(self.scores()))

    def update(self, arm: int, episode_return: float) -> None:
        self.history.append((int(arm), float(episode_return)))

    def best_arm(self) -> int:
        """The arm with the highest mean return in the window (for greedy evaluation)."""
        counts, sums = self._window_stats()
        if not counts.any():
            return 0
        means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
        return int(np.argmax(means))

    def state_dict(self) -> dict:
        return {"history": [list(x) for x in self.history], "pulls": self.pulls}

    def load_state_dict(self, state: dict) -> None:
        self.history.clear()
        for arm, reward in state["history"]:
            self.update(arm, reward)
        self.pulls = int(state["pulls"])
