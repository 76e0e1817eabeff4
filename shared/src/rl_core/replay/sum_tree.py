"""Array-backed sum tree (with a parallel min tree) for proportional sampling."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class SumTree:
    """Binary tree over ``capacity`` non-negative priorities, updated and searched in batches.

    Node ``i`` has children ``2i`` and ``2i + 1``; the root is node 1 and leaf ``j`` is
    node ``P + j``, where ``P`` is the next power of two >= ``capacity``. Every leaf sits
    at the same depth, so batched updates and searches move one level per NumPy call.

    A parallel min tree holds the smallest priority among the leaves written so far
    (unwritten leaves count as +inf), which prioritized replay needs to normalise its
    importance weights.
    """

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int | np.integer):
            raise ValueError(f"capacity must be an int, got {capacity!r}")
        if capacity <= 0:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._capacity = int(capacity)
        self._depth = (self._capacity - 1).bit_length()  # log2(P)
        self._leaf0 = 1 << self._depth  # P: node index of leaf 0
        self._sum = np.zeros(2 * self._leaf0, np.float64)
        self._min = np.full(2 * self._leaf0, np.inf, np.float64)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self._sum[1])

    @property
    def min(self) -> float:
        """Smallest priority among leaves ever written (``inf`` if none)."""
        return float(self._min[1])

    def _check_indices(self, indices: npt.ArrayLike) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError(f"indices must be a 1-D int array, got {idx.dtype}{idx.shape}")
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= self._capacity):
            raise ValueError(f"indices must lie in [0, {self._capacity})")
        return idx

    def get(self, indices: npt.ArrayLike) -> np.ndarray:
        """Priorities of the leaves at ``indices``."""
        return self._sum[self._leaf0 + self._check_indices(indices)]

    def update(self, indices: npt.ArrayLike, priorities: npt.ArrayLike) -> None:
        """Set leaf priorities and refresh their ancestors.

        ``priorities`` is broadcast to ``indices``; for repeated indices the last write
        in the given order wins, as a loop over the pairs would do.
        """
        idx = self._check_indices(indices)
        prio = np.broadcast_to(np.asarray(priorities, np.float64), idx.shape)
        if not np.all(np.isfinite(prio)) or np.any(prio < 0):
            raise ValueError("priorities must be finite and >= 0")
        if idx.size == 0:
            return
        # np.unique keeps the first occurrence, so search the reversed order for the last.
        leaves, first_in_reversed = np.unique(idx[::-1], return_index=True)
        nodes = self._leaf0 + leaves
        self._sum[nodes] = self._min[nodes] = prio[::-1][first_in_reversed]
        # Recompute each touched parent from its children (exact, so no drift builds up
        # the way incremental np.add.at deltas would). Siblings share a parent, so
        # `nodes` may repeat; that only rewrites the same value.
        for _ in range(self._depth):
            nodes = nodes >> 1
            left = 2 * nodes
            self._sum[nodes] = self._sum[left] + self._sum[left + 1]
            self._min[nodes] = np.minimum(self._min[left], self._min[left + 1])

    def state_dict(self) -> dict[str, np.ndarray]:
        """The leaves of the sum and min trees (unwritten leaves are +inf in the min tree)."""
        leaves = slice(self._leaf0, self._leaf0 + self._capacity)
        return {"sum_leaves": self._sum[leaves].copy(), "min_leaves": self._min[leaves].copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state_dict`'s leaves and rebuild every parent from its children.

        Parents are always recomputed from their children, so the rebuilt tree equals the
        saved one bit for bit.
        """
        sums = np.asarray(state["sum_leaves"], np.float64)
        mins = np.asarray(state["min_leaves"], np.float64)
        if sums.shape != (self._capacity,) or mins.shape != (self._capacity,):
            raise ValueError(f"tree state must hold {self._capacity} leaves, got {sums.shape}")
        if not (np.all(np.isfinite(sums)) and np.all(sums >= 0) and np.all(mins >= 0)):
            raise ValueError("tree state priorities must be finite and >= 0")
        self._sum[:] = 0.0
        self._min[:] = np.inf
        self._sum[self._leaf0 : self._leaf0 + self._capacity] = sums
        self._min[self._leaf0 : self._leaf0 + self._capacity] = mins
        for level in range(self._depth - 1, -1, -1):
            nodes = np.arange(1 << level, 2 << level)
            self._sum[nodes] = self._sum[2 * nodes] + self._sum[2 * nodes + 1]
            self._min[nodes] = np.minimum(self._min[2 * nodes], self._min[2 * nodes + 1])

    def find_prefix_sum(self, values: npt.ArrayLike) -> np.ndarray:
        """For each value ``v`` return the leaf ``i`` with ``S(i) <= v < S(i + 1)``.

        ``S(i)`` is the sum of the priorities of leaves ``< i``, so zero-priority leaves
        are never returned; this is ``np.searchsorted(np.cumsum(p), v, side="right")``.
        Values at or beyond ``total`` (float round-off when scaling random draws) map
        to the last leaf with a nonzero priority.
        """
        v = np.array(values, np.float64)  # a copy: the descent subtracts from it
        if not np.all(v >= 0):  # also catches NaN
            raise ValueError("prefix-sum values must be >= 0 and not NaN")
        if self.total <= 0:
            raise ValueError("cannot search a sum tree whose total priority is 0")
        node = np.ones(v.shape, np.int64)
        for _ in range(self._depth):
            left = 2 * node
            left_sum = self._sum[left]
            go_right = v >= left_sum
            v -= np.where(go_right, left_sum, 0.0)
            node = left + go_right
        leaf = node - self._leaf0
        # Round-off can push the descent right of the last positive leaf, into a zero or
        # padding leaf; fall back to the nearest positive leaf on the left.
        bad = (leaf >= self._capacity) | (self._sum[node] <= 0)
        if np.any(bad):
            leaf[bad] = self._nearest_positive_at_or_before(leaf[bad])
        return leaf

    def _nearest_positive_at_or_before(self, leaf: np.ndarray) -> np.ndarray:
        prio = self._sum[self._leaf0 : self._leaf0 + self._capacity]
        positions = np.arange(self._capacity)
        last_positive = np.maximum.accumulate(np.where(prio > 0, positions, -1))
        found = last_positive[np.minimum(leaf, self._capacity - 1)]
        # Only reachable if every leaf left of it is zero; the first positive leaf is then
        # the closest valid answer.
        return np.where(found >= 0, found, np.flatnonzero(prio > 0)[0])
