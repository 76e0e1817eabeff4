"""Observation spaces by kind, without TensorFlow: what an algorithm accepts, checked
before it builds anything.

The kinds are the ones :func:`rl_core.networks.encoder_for_space` has an encoder for:
``"flat"`` (a Box that is not an image, MultiBinary), ``"image"`` (an ``H x W x C`` Box
of uint8 or bool), ``"discrete"`` and ``"dict"`` (a Dict of the others). An algorithm
states the kinds it takes (``AlgorithmSpec.observations``, shown by ``rl list``) and calls
:func:`check_observation_space` so that anything else is one line, not a silent flatten.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from gymnasium import spaces

from rl_core.errors import ConfigError
from rl_core.observation_kinds import KIND_NAMES, describe_kinds, kind_name

__all__ = [
    "ACCEPTED",
    "KIND_NAMES",
    "UnsupportedObservationError",
    "check_observation_space",
    "describe_kinds",
    "image_scale",
    "is_image_space",
    "kind_name",
    "observation_kind",
]

ACCEPTED = (
    "flat Box, image Box (H x W x C, uint8 or bool), Discrete, MultiBinary, and a Dict of these"
)


class UnsupportedObservationError(ConfigError):
    """An observation space no encoder handles."""


def is_image_space(space: spaces.Space) -> bool:
    """An ``H x W x C`` Box of uint8 or bool: pixels, or a grid of channels as in MinAtar."""
    return (
        isinstance(space, spaces.Box)
        and len(space.shape) == 3
        and (space.dtype == np.uint8 or space.dtype == np.bool_)
    )


def image_scale(space: spaces.Box) -> np.ndarray:
    """Per-channel divisors that map the image's values to [0, 1]: the space's upper bound
    for uint8 (255 for pixels; an env whose channels hold small codes, such as MiniGrid's
    object/colour/state ids, declares their true maxima), 1 for bool."""
    channels = space.shape[-1]
    if space.dtype == np.bool_:
        return np.ones(channels, np.float32)
    high = np.asarray(space.high, np.float32).reshape(-1, channels).max(axis=0)
    return np.maximum(high, 1.0)


def observation_kind(space: spaces.Space) -> str:
    """``"image"``, ``"flat"``, ``"discrete"`` or ``"dict"``; anything else raises the
    one-line :class:`UnsupportedObservationError`."""
    if is_image_space(space):
        return "image"
    if isinstance(space, spaces.Box | spaces.MultiBinary):
        return "flat"
    if isinstance(space, spaces.Discrete):
        return "discrete"
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            if isinstance(sub, spaces.Dict) or observation_kind(sub) == "dict":
                raise UnsupportedObservationError(
                    f"observation key {key!r} is itself a Dict; accepted: {ACCEPTED}"
                )
        return "dict"
    raise UnsupportedObservationError(
        f"{type(space).__name__} observations are not supported; accepted: {ACCEPTED}"
    )


def check_observation_space(
    space: spaces.Space, accepted: Iterable[str], algorithm: str, env: str | None = None
) -> str:
    """The space's kind, if ``algorithm`` accepts it; else the one-line
    :class:`UnsupportedObservationError` naming what it does accept."""
    accepted = tuple(accepted)
    kind = observation_kind(space)
    if kind not in accepted:
        where = f" of {env}" if env else ""
        what = ", ".join(KIND_NAMES[k] for k in accepted)
        raise UnsupportedObservationError(
            f"{algorithm} does not take {kind_name(kind)} observations"
            f"{where} ({_shape(space)}); it takes: {what}"
        )
    return kind


def _shape(space: spaces.Space) -> str:
    if isinstance(space, spaces.Dict):
        return "keys " + ", ".join(space.spaces)
    shape = "x".join(str(n) for n in space.shape) if space.shape else "scalar"
    return f"{shape} {space.dtype}"
