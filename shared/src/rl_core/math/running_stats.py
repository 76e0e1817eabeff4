"""Running mean and variance for observation / return normalisation (NumPy)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["RunningMeanStd"]

# Added to the variance before dividing in `normalize`, so a feature that has
# been constant so far does not blow up to inf.
_NORMALIZE_VAR_FLOOR = 1e-8


class RunningMeanStd:
    r"""Mean and (population) variance of every sample seen so far, per feature.

    Batches are merged with the parallel algorithm of Chan et al. (1979): for the
    stored statistics ``(mean_a, var_a, n_a)`` and a batch ``(mean_b, var_b, n_b)``
    with ``delta = mean_b - mean_a`` and ``n = n_a + n_b``,

    .. math::

        \mathrm{mean} = \mathrm{mean}_a + \delta \, n_b / n

        \mathrm{var} = \left(\mathrm{var}_a n_a + \mathrm{var}_b n_b
                       + \delta^2 n_a n_b / n\right) / n

    The statistics start at ``mean = 0, var = 1`` with pseudo-count ``epsilon``,
    which keeps ``normalize`` defined before the first update; its weight fades as
    data arrives. Use ``epsilon = 0`` for the exact statistics of the data.
    Kept in float64 so that long runs do not drift.
    """

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-4) -> None:
        if not epsilon >= 0.0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon}")
        self.shape = tuple(int(d) for d in shape)
        self._mean = np.zeros(self.shape, dtype=np.float64)
        self._var = np.ones(self.shape, dtype=np.float64)
        self._count = float(epsilon)

    @property
    def mean(self) -> np.ndarray:
        return self._mean

    @property
    def var(self) -> np.ndarray:
        return self._var

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self._var)

    @property
    def count(self) -> float:
        return self._count

    def update(self, batch: ArrayLike) -> None:
        """Add a batch shaped ``[B, *shape]`` (``B`` may be 0)."""
        batch = np.asarray(batch, dtype=np.float64)
        if batch.shape[1:] != self.shape or batch.ndim != len(self.shape) + 1:
            raise ValueError(
                f"batch must have shape [B, *{self.shape}], got {batch.shape}"
                " (add a leading batch axis for a single sample)"
            )
        batch_count = batch.shape[0]
        if batch_count == 0:
            return
        self._merge(batch.mean(axis=0), batch.var(axis=0), float(batch_count))

    def _merge(self, batch_mean: np.ndarray, batch_var: np.ndarray, batch_count: float) -> None:
        total = self._count + batch_count
        delta = batch_mean - self._mean
        # Combining sums of squared deviations (not variances) is what makes the
        # merge exact for any split of the data into batches.
        m2 = self._var * self._count + batch_var * batch_count
        m2 = m2 + delta**2 * self._count * batch_count / total
        self._mean = self._mean + delta * (batch_count / total)
        self._var = m2 / total
        self._count = total

    def normalize(self, x: ArrayLike, clip: float | None = None) -> np.ndarray:
        """``(x - mean) / sqrt(var + 1e-8)``, optionally clipped to ``[-clip, clip]``.

        Floating inputs keep their dtype; others become float32.
        """
        x = np.asarray(x)
        out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        out = (x - self._mean) / np.sqrt(self._var + _NORMALIZE_VAR_FLOOR)
        if clip is not None:
            if not clip > 0:
                raise ValueError(f"clip must be > 0, got {clip}")
            out = np.clip(out, -clip, clip)
        return out.astype(out_dtype)

    def state_dict(self) -> dict[str, Any]:
        """Copies of ``mean``, ``var`` (arrays) and ``count`` (float) for a checkpoint."""
        return {"mean": self._mean.copy(), "var": self._var.copy(), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; the shapes must match ``self.shape``."""
        mean = np.asarray(state["mean"], dtype=np.float64)
        var = np.asarray(state["var"], dtype=np.float64)
        if mean.shape != self.shape or var.shape != self.shape:
            raise ValueError(
                f"state has mean {mean.shape} / var {var.shape}, expected shape {self.shape}"
            )
        count = float(state["count"])
        if not count >= 0.0:
            raise ValueError(f"state count must be >= 0, got {count}")
        self._mean = mean.copy()
        self._var = var.copy()
        self._count = count

    def __repr__(self) -> str:
        return f"RunningMeanStd(shape={self.shape}, count={self._count:g})"
