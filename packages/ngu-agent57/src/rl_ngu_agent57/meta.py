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

    def window_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """(episodes, summed returns) per arm over the window."""
        counts = np.zeros(self.num_arms)
        sums = np.zeros(self.num_arms)
        for arm, reward in self.history:
            counts[arm] += 1
            sums[arm] += reward
        return counts, sums

    def scores(self) -> np.ndarray:
        """mean + beta * sqrt(1 / count) per arm over the window (inf for unseen arms)."""
        counts, sums = self.window_stats()
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
        return _highest_mean(*self.window_stats())

    def state_dict(self) -> dict:
        return {"history": [list(x) for x in self.history], "pulls": self.pulls}

    def load_state_dict(self, state: dict) -> None:
        self.history.clear()
        for arm, reward in state["history"]:
            self.update(arm, reward)
        self.pulls = int(state["pulls"])


def _highest_mean(counts: np.ndarray, sums: np.ndarray) -> int:
    if not counts.any():
        return 0
    means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    return int(np.argmax(means))


class SlotBandits:
    """One :class:`SlidingWindowUCB` per actor slot, each over its own slot's episodes
    (Agent57 App. D: every actor runs its own meta-controller), or one shared by every
    slot (``shared``, this package's behaviour before 2026-12-03).

    Slot ``s`` uses bandit ``s mod len(bandits)``, so a learner that hears about the
    episodes of several Ray actors (whose slot indices repeat) keeps them all. Greedy
    evaluation acts with :meth:`best_arm`, the highest mean return over every window.
    """

    def __init__(
        self,
        num_slots: int,
        num_arms: int,
        window: int = 160,
        beta: float = 1.0,
        epsilon: float = 0.5,
        shared: bool = False,
    ) -> None:
        self.bandits = [
            SlidingWindowUCB(num_arms, window, beta, epsilon)
            for _ in range(1 if shared else num_slots)
        ]

    def _bandit(self, slot: int) -> SlidingWindowUCB:
        return self.bandits[int(slot) % len(self.bandits)]

    def select(self, slot: int, rng: np.random.Generator) -> int:
        """The arm for the next episode of ``slot``."""
        return self._bandit(slot).select(rng)

    def update(self, slot: int, arm: int, episode_return: float) -> None:
        self._bandit(slot).update(arm, episode_return)

    @property
    def history(self) -> list[tuple[int, float]]:
        """Every window's (arm, return) pairs, bandit by bandit."""
        return [pair for bandit in self.bandits for pair in bandit.history]

    def best_arm(self) -> int:
        """The arm with the highest mean return over every slot's window."""
        stats = [bandit.window_stats() for bandit in self.bandits]
        return _highest_mean(sum(c for c, _ in stats), sum(s for _, s in stats))

    def state_dict(self) -> dict:
        return {"bandits": [bandit.state_dict() for bandit in self.bandits]}

    def load_state_dict(self, state: dict) -> None:
        # A checkpoint from before per-slot bandits holds one bandit's state: every slot
        # starts from it.
        states = state.get("bandits", [state])
        for i, bandit in enumerate(self.bandits):
            bandit.load_state_dict(states[i % len(states)])
