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
``Dict`` of one image and ``Discrete`` /  one uint8 image ``[H, W, C + P]``: the image,
``MultiBinary`` / bool ``Box`` parts     then one constant 0/1 plane per one-hot or bit
                                         of the other parts (MiniGrid's ``image`` and
                                         ``direction``: 7 x 7 x (3 + 4))
=======================================  ==============================================

The last row is how a small symbolic state beside an image reaches every network of these
agents unchanged (the Q-network's torso, NGU's embedding, RND): as extra input planes,
which the CNN sees at every position (the way AlphaZero and MuZero feed side information
to a convolutional torso), and which the sequence replay keeps as bytes. A ``Dict`` with
an image and a part that is not binary once one-hot (a float ``Box``), or with two
images, is refused.

Anything else (``Tuple``, ``Text``, ``Graph``, ``MultiDiscrete``, ...) is a one-line
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
# (a Dict with an image only as checked here).

ACCEPTED = (
    "image Box (H x W x C, uint8 or bool), flat Box, MultiBinary, Discrete, a Dict of the "
    "non-image ones, and a Dict of one image with Discrete, MultiBinary or bool Box parts"
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
        self.space = space
        # The image key of a Dict whose other parts ride on it as planes (None otherwise).
        self.image_key: str | None = None
        if kind == "dict":
            self.image_key = _image_key(space, algorithm, env)
        self.image = kind == "image" or self.image_key is not None
        if self.image:
            self.image_space = _image_with_planes(space, self.image_key)
            self.shape: tuple[int, ...] = tuple(int(d) for d in self.image_space.shape)
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
        if self.image_key is not None:
            return _with_planes(self.space, self.image_key, obs)
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


def _image_key(space: spaces.Dict, algorithm: str, env: str) -> str | None:
    """The one image key of a Dict whose other parts can be planes; None without images."""
    images = [k for k, sub in space.spaces.items() if is_image_space(sub)]
    if not images:
        return None
    where = f" of {env}" if env else ""
    if len(images) > 1:
        raise UnsupportedObservationError(
            f"{algorithm} takes one image per Dict observation (keys {images[0]!r} and "
            f"{images[1]!r}{where} are both images); accepted: {ACCEPTED}"
        )
    for key, sub in space.spaces.items():
        if key != images[0] and not _is_binary_part(sub):
            raise UnsupportedObservationError(
                f"{algorithm} takes the non-image parts of a Dict with an image only as "
                f"Discrete, MultiBinary or bool Box (key {key!r}{where} is "
                f"{type(sub).__name__} {sub.dtype}); accepted: {ACCEPTED}"
            )
    return images[0]


def _is_binary_part(space: spaces.Space) -> bool:
    """Discrete (one-hot), MultiBinary or a bool Box: 0/1 values, exact as uint8 planes."""
    if isinstance(space, spaces.Discrete | spaces.MultiBinary):
        return True
    return isinstance(space, spaces.Box) and space.dtype == np.bool_


def _image_with_planes(space: spaces.Space, key: str | None) -> spaces.Box:
    """The image space the networks see: the image itself, or a Dict's image with one
    channel per plane of the other parts (upper bound 1, so that
    :func:`rl_core.spaces.image_scale` leaves the planes as 0/1)."""
    if key is None:
        return space
    image = space.spaces[key]
    planes = sum(_flat_size(sub) for k, sub in space.spaces.items() if k != key)
    high = np.concatenate(
        [
            np.broadcast_to(np.asarray(image.high, np.int64), image.shape),
            np.ones((*image.shape[:2], planes), np.int64),
        ],
        axis=-1,
    )
    if image.dtype == np.bool_:
        high = np.ones_like(high)
    return spaces.Box(0, high.astype(np.uint8), dtype=np.uint8)


def _with_planes(space: spaces.Dict, key: str, obs: Any) -> np.ndarray:
    """uint8 ``[B, H, W, C + P]``: the image, then each other part's one-hot or bits
    (in key order) broadcast over the image's height and width."""
    image = np.asarray(obs[key]).astype(np.uint8, copy=False)
    image = image.reshape(-1, *space.spaces[key].shape)
    batch, height, width = image.shape[:3]
    parts = [image]
    for k, sub in space.spaces.items():
        if k == key:
            continue
        values = _flatten(sub, obs[k]).reshape(batch, 1, 1, -1).astype(np.uint8)
        parts.append(np.broadcast_to(values, (batch, height, width, values.shape[-1])))
    return np.concatenate(parts, axis=-1)
