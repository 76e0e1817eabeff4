"""How PPO holds observations: as the policy reads them, batched, stored per rollout step.

========================  =====================================  =========================
observation space         a batch (and a rollout buffer entry)   normalize_observations
========================  =====================================  =========================
flat ``Box``,             float32 ``[B, obs_dim]``, flattened    yes (running mean/std)
``MultiBinary``
image ``Box``             uint8 ``[B, H, W, C]`` (bool -> 0/1):   rejected
(H x W x C, uint8/bool)   the CNN scales it to [0, 1] itself
``Discrete``              int64 ``[B]``: the encoder one-hots it  rejected
``Dict`` of the above     a dict of the above, key by key        rejected
========================  =====================================  =========================

Images stay uint8 in the rollout buffer (an Atari rollout of 8 x 128 steps of 84x84x4 is
29 MB; as float32 it would be 116 MB), and nothing is flattened unless the encoder
flattens it (:mod:`rl_core.networks.encoders`). Observation normalization is for flat
vectors only: an image is already in a known range that the encoder maps to [0, 1],
and normalizing pixels per position is not what the image papers do; rather than skip
some keys silently, any other space with ``normalize_observations`` is a one-line
:class:`~rl_core.errors.ConfigError`. Any space the encoders do not take is the one-line
:class:`~rl_core.spaces.UnsupportedObservationError` before anything is built.

Imports no TensorFlow (the Ray runner uses :func:`map_arrays` to join workers' batches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from rl_core.errors import ConfigError
from rl_core.spaces import observation_kind


def map_arrays(fn: Callable[..., Any], *trees: Any) -> Any:
    """``fn`` applied to arrays, or key by key to dicts of arrays (``Dict`` observations)."""
    if isinstance(trees[0], dict):
        return {key: fn(*(tree[key] for tree in trees)) for key in trees[0]}
    return fn(*trees)


class ObservationFormat:
    """The arrays one observation space's observations are kept in (see the module's table).

    Constructing it checks the space: an unsupported one raises the one-line
    :class:`~rl_core.spaces.UnsupportedObservationError`, and ``normalize`` on anything
    but a flat ``Box`` a one-line :class:`~rl_core.errors.ConfigError`.
    """

    def __init__(self, space: spaces.Space, env_id: str, normalize: bool = False) -> None:
        self.space = space
        self.kind = observation_kind(space)
        if normalize and self.kind != "flat":
            raise ConfigError(
                f"normalize_observations applies to flat Box observations only; {env_id} has "
                f"{self.kind} observations (images are scaled to [0, 1] by the encoder): "
                "set normalize_observations = false"
            )
        self.obs_dim = int(np.prod(space.shape)) if self.kind == "flat" else None

    def _dtype_and_shape(self, space: spaces.Space) -> tuple[np.dtype, tuple[int, ...]]:
        kind = observation_kind(space)
        if kind == "image":
            return np.dtype(np.uint8), tuple(space.shape)
        if kind == "discrete":
            return np.dtype(np.int64), ()
        return np.dtype(np.float32), (int(np.prod(space.shape)),)

    def _batch_one(self, space: spaces.Space, obs: Any) -> np.ndarray:
        dtype, shape = self._dtype_and_shape(space)
        return np.asarray(obs).astype(dtype, copy=False).reshape(-1, *shape)

    def batch(self, obs: Any) -> Any:
        """``obs`` (a batch from a vector env, or one observation) as the policy reads it,
        without normalization: float32 ``[B, obs_dim]``, uint8 images, int64 indices, or a
        dict of these."""
        if self.kind == "dict":
            return {key: self._batch_one(sub, obs[key]) for key, sub in self.space.spaces.items()}
        return self._batch_one(self.space, obs)

    def empty(self, *leading: int) -> Any:
        """Zeroed storage for ``leading`` (e.g. ``n_steps, num_envs``) observations."""

        def zeros(space: spaces.Space) -> np.ndarray:
            dtype, shape = self._dtype_and_shape(space)
            return np.zeros((*leading, *shape), dtype)

        if self.kind == "dict":
            return {key: zeros(sub) for key, sub in self.space.spaces.items()}
        return zeros(self.space)

    def nbytes(self, *leading: int) -> int:
        """Bytes of storage for ``leading`` observations (the rollout buffer's obs)."""

        def size(space: spaces.Space) -> int:
            dtype, shape = self._dtype_and_shape(space)
            return int(np.prod((*leading, *shape))) * dtype.itemsize

        if self.kind == "dict":
            return sum(size(sub) for sub in self.space.spaces.values())
        return size(self.space)


def write(storage: Any, index: Any, batch: Any) -> None:
    """``storage[index] = batch``, key by key for dicts."""
    if isinstance(storage, dict):
        for key, array in storage.items():
            array[index] = batch[key]
    else:
        storage[index] = batch


def merge_leading(batch: Any, leading: int = 2) -> Any:
    """Merge the first ``leading`` axes (``[T, N, ...]`` -> ``[T * N, ...]``)."""
    return map_arrays(lambda a: a.reshape(-1, *a.shape[leading:]), batch)
