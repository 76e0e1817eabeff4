"""How NGU and Agent57 take an observation space: what they store per step and feed their
networks.

=======================================  ==============================================
observation space                        stored and fed as
=======================================  ==============================================
image ``Box`` (H x W x C, uint8 or bool)  uint8 ``[H, W, C]`` (bool as 0/1): the CNN
                                         torsos (:mod:`rl_ngu_agent57.networks`); the
                                         replay keeps the bytes
other ``Box`` (any shape and dtype),     float32 ``[D]``: flattened, as
``MultiBinary``                          :func:`rl_core.networks.encoder_for_space` does
``Discrete(n, start)``                   float32 one-hot of ``obs - start``
``Dict`` of the flat kinds above         their float32 vectors concatenated in key order
=======================================  ==============================================

Anything else (a ``Dict`` holding an image, ``Tuple``, ``Text``, ``Graph``,
``MultiDiscrete``, ...) is a one-line
:class:`~rl_core.networks.UnsupportedObservationError` when the agent is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rl_core.spaces import (
    UnsupportedObservationError,
    check_observation_space,
    is_image_space,
)
from rl_ngu_agent57.plugin import OBSERVATIONS

# OBSERVATIONS: the kinds of rl_core.spaces NGU and Agent57 take, as rl list shows them
# (a Dict only without images: checked here).

ACCEPTED = (
    "image Box (H x W x C, uint8 or bool), flat Box, MultiBinary, Discrete, and a Dict of "
    "the non-image ones"
)


class ObservationFormat:
    """Converts batches of an env's observations to what the agent stores: ``shape`` and
    ``dtype`` per observation, ``image`` for the CNN path."""

    def __init__(self, space: spaces.Space, algorithm: str = "NGU/Agent57", env: str = "") -> None:
        try:
            kind = check_observation_space(space, OBSERVATIONS, algorithm, env or None)
        except UnsupportedObservationError as exc:
            # rl_core's reason, with what these agents accept (less than its encoders).
            reason = str(exc).split("; accepted:")[0]
            raise UnsupportedObservationError(f"{reason}; accepted: {ACCEPTED}") from None
        if kind == "dict":
            images = [k for k, s in space.spaces.items() if is_image_space(s)]
            if images:
                raise UnsupportedObservationError(
                    f"{algorithm} takes a Dict observation only of non-image parts (key "
                    f"{images[0]!r}{' of ' + env if env else ''} is an image); accepted: "
                    f"{ACCEPTED}"
                )
        self.space = space
        self.image = kind == "image"
        if self.image:
            self.shape: tuple[int, ...] = tuple(int(d) for d in space.shape)
            self.dtype = np.dtype(np.uint8)
        else:
            self.shape = (_flat_size(space),)
            self.dtype = np.dtype(np.float32)

    @property
    def size(self) -> int:
        """Numbers per observation (``D`` of the flat path, ``H * W * C`` of images)."""
        return int(np.prod(self.shape))

    @property
    def step_bytes(self) -> int:
        """Bytes one stored observation takes in the replay."""
        return self.size * self.dtype.itemsize

    def batch(self, obs: Any) -> np.ndarray:
        """A vector env's batch of observations (or one observation) as ``[B, *shape]``."""
        if self.image:
            return np.asarray(obs).astype(np.uint8, copy=False).reshape(-1, *self.shape)
        return _flatten(self.space, obs).reshape(-1, self.shape[0])

    def stack(self, items: list[Any]) -> np.ndarray:
        """Single observations (e.g. ``info["final_obs"]`` rows) as one ``[B, *shape]``."""
        if isinstance(self.space, spaces.Dict):
            return self.batch({k: np.stack([item[k] for item in items]) for k in self.space})
        return self.batch(np.stack(items))


def _flat_size(space: spaces.Space) -> int:
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Dict):
        return sum(_flat_size(s) for s in space.spaces.values())
    return int(np.prod(space.shape))


def _flatten(space: spaces.Space, obs: Any) -> np.ndarray:
    """Float32 ``[B, D]`` (or ``[D]`` for a single Box observation: callers reshape)."""
    if isinstance(space, spaces.Discrete):
        index = np.asarray(obs).reshape(-1).astype(np.int64) - int(space.start)
        return np.eye(int(space.n), dtype=np.float32)[index]
    if isinstance(space, spaces.Dict):
        parts = [_flatten(s, obs[k]).reshape(-1, _flat_size(s)) for k, s in space.spaces.items()]
        return np.concatenate(parts, axis=1)
    return np.asarray(obs, np.float32)
