"""NGU's intrinsic reward (Badia et al., 2020, Section 2 and Algorithm 1), NumPy, batched.

r_i = r_episodic * min(max(alpha, 1), L): an episodic novelty from k nearest neighbours in
a per-episode memory of controllable-state embeddings, modulated by a lifelong novelty
alpha from Random Network Distillation (Burda et al., 2019).
"""

from __future__ import annotations

import numpy as np


class ExponentialMeanStd:
    r"""Exponentially weighted running mean and variance, bias-corrected as in Adam:
    :math:`m_1 \leftarrow d\,m_1 + (1-d)\,\overline{x}`,
    :math:`m_2 \leftarrow d\,m_2 + (1-d)\,\overline{x^2}`, mean = m_1 / (1 - d^t),
    var = m_2 / (1 - d^t) - mean^2 after t batches.

    The quantities NGU normalises (RND errors, k-NN distances of a learned embedding)
    drift as their networks train; a cumulative mean would stay dominated by the first,
    untrained values (then alpha < 1 everywhere and the modulator is stuck at 1).
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.m1 = 0.0
        self.m2 = 0.0
        self.t = 0

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, np.float64).reshape(-1)
        if batch.size == 0:
            return
        self.m1 = self.decay * self.m1 + (1 - self.decay) * float(batch.mean())
        self.m2 = self.decay * self.m2 + (1 - self.decay) * float((batch**2).mean())
        self.t += 1

    @property
    def mean(self) -> float:
        return self.m1 / (1 - self.decay**self.t) if self.t else 0.0

    @property
    def std(self) -> float:
        if not self.t:
            return 1.0
        return float(np.sqrt(max(self.m2 / (1 - self.decay**self.t) - self.mean**2, 0.0)))

    def state_dict(self) -> dict:
        return {"m1": self.m1, "m2": self.m2, "t": self.t}

    @staticmethod
    def merged(states: list[dict], decay: float) -> dict:
        """One state from several (actors that each averaged their own stream): the mean of
        their bias-corrected moments, stored as a state of ``t = max t``."""
        started = [s for s in states if s["t"] > 0]
        if not started:
            return dict(states[0])
        means = [s["m1"] / (1 - decay ** s["t"]) for s in started]
        squares = [s["m2"] / (1 - decay ** s["t"]) for s in started]
        t = max(s["t"] for s in started)
        scale = 1 - decay**t
        return {"m1": float(np.mean(means)) * scale, "m2": float(np.mean(squares)) * scale, "t": t}

    def load_state_dict(self, state: dict) -> None:
        self.m1, self.m2, self.t = float(state["m1"]), float(state["m2"]), int(state["t"])


def episodic_rewards(
    sq_distances: np.ndarray,
    valid: np.ndarray,
    mean_sq_distance: float,
    kernel_epsilon: float = 1e-4,
    cluster_distance: float = 0.008,
    pseudo_count: float = 1e-3,
    max_similarity: float = 8.0,
) -> np.ndarray:
    r"""Algorithm 1 of NGU for a batch of queries.

    ``sq_distances[b, i]`` are the squared Euclidean distances d_i^2 from query b to its
    k nearest neighbours (``valid`` marks real neighbours when the memory holds fewer
    than k). With d_m^2 the running mean of k-NN squared distances:

    * normalise :math:`d_n = d_i^2 / d_m^2`, cluster :math:`d_n = \max(d_n - \xi, 0)`;
    * kernel :math:`K_v = \epsilon / (d_n + \epsilon)`;
    * similarity :math:`s = \sqrt{\sum_i K_v} + c`;
    * :math:`r = 0` if :math:`s > s_m` else :math:`1 / s`.
    """
    d_m2 = max(float(mean_sq_distance), 1e-12)  # an all-equal start would divide by zero
    d_n = np.maximum(sq_distances / d_m2 - cluster_distance, 0.0)
    kernel = np.where(valid, kernel_epsilon / (d_n + kernel_epsilon), 0.0)
    similarity = np.sqrt(kernel.sum(axis=-1)) + pseudo_count
    return np.where(similarity > max_similarity, 0.0, 1.0 / similarity)


class EpisodicMemory:
    """One embedding memory per actor slot, emptied at the start of each of its episodes.

    ``query_and_add`` computes the episodic reward of a batch of embeddings (one per slot)
    against their slots' memories, then stores them; the running mean d_m^2 of k-NN
    squared distances is shared by all slots and lives for the whole training run.
    """

    def __init__(
        self,
        num_slots: int,
        capacity: int,
        embedding_size: int,
        num_neighbors: int = 10,
        kernel_epsilon: float = 1e-4,
        cluster_distance: float = 0.008,
        pseudo_count: float = 1e-3,
        max_similarity: float = 8.0,
        stats_decay: float = 0.995,
    ) -> None:
        self.memory = np.zeros((num_slots, capacity, embedding_size), np.float32)
        self.count = np.zeros(num_slots, np.int64)  # items stored this episode (may exceed cap)
        self.capacity = capacity
        self.k = num_neighbors
        self.kernel_epsilon = kernel_epsilon
        self.cluster_distance = cluster_distance
        self.pseudo_count = pseudo_count
        self.max_similarity = max_similarity
        self.sq_distance_stats = ExponentialMeanStd(stats_decay)

    def reset(self, slots: np.ndarray) -> None:
        """Empty the memories of ``slots`` (their episodes start over)."""
        self.count[slots] = 0

    def add(self, slots: np.ndarray, embeddings: np.ndarray) -> None:
        """Store one embedding per slot (oldest overwritten once a memory is full)."""
        self.memory[slots, self.count[slots] % self.capacity] = embeddings
        self.count[slots] += 1

    def query_and_add(
        self, slots: np.ndarray, embeddings: np.ndarray, update_stats: bool = True
    ) -> np.ndarray:
        """Episodic rewards of ``embeddings[b]`` against slot ``slots[b]``'s memory, then add.

        ``update_stats=False`` leaves the running mean d_m^2 as it is (evaluation)."""
        filled = np.minimum(self.count[slots], self.capacity)
        width = max(int(filled.max(initial=0)), 1)
        stored = self.memory[slots, :width]  # [B, width, E]
        sq = ((stored - embeddings[:, None, :]) ** 2).sum(-1)  # [B, width]
        present = np.arange(width)[None, :] < filled[:, None]
        sq = np.where(present, sq, np.inf)
        k = min(self.k, width)
        nearest = np.partition(sq, k - 1, axis=1)[:, :k] if k < width else sq
        valid = np.isfinite(nearest)
        if update_stats and valid.any():
            self.sq_distance_stats.update(nearest[valid])
        rewards = episodic_rewards(
            np.where(valid, nearest, 0.0),
            valid,
            float(self.sq_distance_stats.mean),
            self.kernel_epsilon,
            self.cluster_distance,
            self.pseudo_count,
            self.max_similarity,
        )
        self.add(slots, embeddings)
        return rewards


class LifelongNovelty:
    r"""RND's modulator :math:`\alpha = 1 + (err - \mu_e) / \sigma_e` with running statistics
    of the predictor's error, and NGU's clipping :math:`\min(\max(\alpha, 1), L)`."""

    def __init__(self, max_scale: float = 5.0, stats_decay: float = 0.995) -> None:
        self.max_scale = max_scale
        self.error_stats = ExponentialMeanStd(stats_decay)

    def alpha(self, errors: np.ndarray) -> np.ndarray:
        """Update the running mean/std with ``errors``, then normalise them."""
        self.error_stats.update(np.asarray(errors, np.float64))
        sigma = max(float(self.error_stats.std), 1e-8)
        return 1.0 + (errors - float(self.error_stats.mean)) / sigma

    def modulator(self, errors: np.ndarray, update_stats: bool = True) -> np.ndarray:
        """min(max(alpha, 1), L); without ``update_stats`` the statistics stay fixed."""
        if update_stats:
            alpha = self.alpha(errors)
        else:
            sigma = max(float(self.error_stats.std), 1e-8)
            alpha = 1.0 + (errors - float(self.error_stats.mean)) / sigma
        return np.clip(alpha, 1.0, self.max_scale)


def intrinsic_rewards(episodic: np.ndarray, modulator: np.ndarray) -> np.ndarray:
    """r_i = r_episodic * min(max(alpha, 1), L) (``modulator`` already clipped)."""
    return (episodic * modulator).astype(np.float32)
