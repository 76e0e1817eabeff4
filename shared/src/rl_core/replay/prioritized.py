"""Proportional prioritized experience replay (Schaul et al., 2016)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from rl_core.replay.sum_tree import SumTree
from rl_core.replay.uniform import FieldSpecs, ReplayBuffer, _check_count

_STATE_KEYS = ("priorities", "max_priority", "alpha", "beta")


class PrioritizedReplayBuffer:
    """Replay buffer sampling transition ``i`` with probability ``P(i) = p_i / sum_k p_k``.

    Stored priorities are ``p_i = (|x_i| + eps) ** alpha`` for a raw priority ``x_i``
    (usually a TD error). New transitions get the largest raw priority seen so far
    (initially 1.0) so each one is likely to be replayed at least once. Storage is a
    :class:`ReplayBuffer`; the priorities live in a :class:`SumTree` over the same slots.
    """

    def __init__(
        self,
        capacity: int,
        specs: FieldSpecs,
        alpha: float = 0.6,
        beta: float = 0.4,
        eps: float = 1e-6,
    ) -> None:
        self._storage = ReplayBuffer(capacity, specs)
        self._tree = SumTree(capacity)
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        # eps > 0 keeps every stored priority positive, so P(i) > 0 and weights stay finite.
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self._alpha = float(alpha)
        self._eps = float(eps)
        self.beta = beta
        self._max_priority = 1.0  # raw (before eps and alpha): running max for new items

    # -- properties ----------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._storage.capacity

    @property
    def specs(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        return self._storage.specs

    @property
    def is_full(self) -> bool:
        return self._storage.is_full

    def __len__(self) -> int:
        return len(self._storage)

    @property
    def alpha(self) -> float:
        return self._alpha

    @property
    def eps(self) -> float:
        return self._eps

    @property
    def beta(self) -> float:
        """Importance-sampling exponent used by :meth:`sample`; set it to anneal."""
        return self._beta

    @beta.setter
    def beta(self, value: float) -> None:
        if not 0 <= value <= 1:
            raise ValueError(f"beta must be in [0, 1], got {value}")
        self._beta = float(value)

    @property
    def max_priority(self) -> float:
        """Largest raw priority seen so far (never decreases); new items get it."""
        return self._max_priority

    # -- writing -------------------------------------------------------------------

    def add(self, *, priority: float | None = None, **fields: Any) -> int:
        """Store one transition; without ``priority`` (raw) it gets :attr:`max_priority`."""
        raw = None if priority is None else self._check_raw([priority], 1)
        index = self._storage.add(**fields)
        self._set_priorities(np.array([index]), raw)
        return index

    def add_batch(self, *, priorities: npt.ArrayLike | None = None, **fields: Any) -> np.ndarray:
        """Store ``B`` transitions and return their slots (see :meth:`ReplayBuffer.add_batch`).

        ``priorities`` (raw, shape ``(B,)``) default to :attr:`max_priority` for all.
        """
        arrays, n = self._storage.check_batch(fields)
        raw = None
        if priorities is not None:
            raw = self._check_raw(priorities, n)
        indices = self._storage.add_batch(**arrays)
        if raw is not None:
            # When B > capacity only the newest rows were kept; keep their priorities too.
            raw = raw[n - len(indices) :]
        self._set_priorities(indices, raw)
        return indices

    def update_priorities(self, indices: npt.ArrayLike, priorities: npt.ArrayLike) -> None:
        """Set raw priorities (e.g. TD errors) of sampled slots; stores ``(|x| + eps) ** alpha``.

        For repeated indices the last value wins.
        """
        if np.ndim(indices) != 1:
            raise ValueError(f"indices must be 1-D, got shape {np.shape(indices)}")
        idx = self._storage.check_indices(indices)
        self._set_priorities(idx, self._check_raw(priorities, len(idx)))

    def _check_raw(self, priorities: npt.ArrayLike, n: int) -> np.ndarray:
        raw = np.asarray(priorities, np.float64)
        if raw.shape != (n,):
            raise ValueError(f"priorities must have shape ({n},), got {raw.shape}")
        if not np.all(np.isfinite(raw)):
            raise ValueError("priorities must be finite")
        return raw

    def _set_priorities(self, indices: np.ndarray, raw: np.ndarray | None) -> None:
        """Store ``(|raw| + eps) ** alpha`` at ``indices``, or the max priority for None."""
        if raw is None:
            self._tree.update(indices, self._max_priority**self._alpha)
            return
        raw = np.abs(raw) + self._eps
        if raw.size:
            self._max_priority = max(self._max_priority, float(raw.max()))
        self._tree.update(indices, raw**self._alpha)

    # -- reading -------------------------------------------------------------------

    def get(self, indices: npt.ArrayLike) -> dict[str, np.ndarray]:
        """Return copies of the fields at ``indices`` (filled slots only)."""
        return self._storage.get(indices)

    def get_priorities(self, indices: npt.ArrayLike) -> np.ndarray:
        """Stored priorities ``p_i = (|x_i| + eps) ** alpha`` at ``indices`` (1-D)."""
        return self._tree.get(self._storage.check_indices(indices))

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float | None = None
    ) -> dict[str, np.ndarray]:
        """Draw ``batch_size`` transitions with probability proportional to priority.

        Stratified: ``[0, total)`` is cut into ``batch_size`` equal segments and one
        value is drawn uniformly in each. Returns the fields plus ``"indices"`` and
        ``"weights"`` (float32 importance weights ``(N * P(i)) ** -beta``, divided by
        their largest possible value over the whole buffer so they are <= 1).
        """
        batch_size = _check_count(batch_size, "batch_size")
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if beta is None:
            beta = self._beta
        elif not 0 <= beta <= 1:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        total = self._tree.total
        segment = total / batch_size
        values = (np.arange(batch_size) + rng.random(batch_size)) * segment
        indices = self._tree.find_prefix_sum(values)
        # max_j w_j belongs to the least likely slot: w_i / w_max = (p_min / p_i) ** beta,
        # where p_min is over every filled slot (the tree's min), not just this batch.
        weights = (self._tree.min / self._tree.get(indices)) ** beta
        batch = self._storage.get(indices)
        batch["indices"] = indices
        batch["weights"] = weights.astype(np.float32)
        return batch

    # -- checkpointing -------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The storage's flat state plus ``priorities`` (stored values), ``max_priority``,
        ``alpha`` and ``beta``."""
        state = self._storage.state_dict()
        state["priorities"] = self._tree.get(np.arange(len(self)))
        state["max_priority"] = self._max_priority
        state["alpha"] = self._alpha
        state["beta"] = self._beta
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; ``alpha`` must match this buffer's."""
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"state is missing {missing}")
        alpha, beta = float(state["alpha"]), float(state["beta"])
        max_priority = float(state["max_priority"])
        priorities = np.asarray(state["priorities"], np.float64)
        # Stored priorities already carry the exponent, so another alpha would mix scales.
        if alpha != self._alpha:
            raise ValueError(f"state has alpha {alpha}, buffer has {self._alpha}")
        if not 0 <= beta <= 1:
            raise ValueError(f"state beta {beta} is outside [0, 1]")
        if not (np.isfinite(max_priority) and max_priority > 0):
            raise ValueError(f"state max_priority must be finite and > 0, got {max_priority}")
        size = int(state["size"]) if "size" in state else -1
        if priorities.shape != (size,) or not np.all(np.isfinite(priorities) & (priorities > 0)):
            raise ValueError(
                f"state priorities must be {size} finite positive values, got {priorities.shape}"
            )
        self._storage.load_state_dict({k: v for k, v in state.items() if k not in _STATE_KEYS})
        self._tree = SumTree(self.capacity)
        self._tree.update(np.arange(size), priorities)
        self._max_priority = max_priority
        self._beta = beta
