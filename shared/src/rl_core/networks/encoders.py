"""Encoders chosen from the observation space.

=============================================  ==========================================
observation space                              encoder
=============================================  ==========================================
``Box`` that is not an image (any shape)       flattened, then the MLP
image ``Box``: ``H x W x C``, uint8 or bool     scaled to [0, 1], then a CNN (Nature or
                                               MinAtar, :mod:`rl_core.networks.conv`)
``Discrete(n, start)``                         one-hot of ``obs - start``, then the MLP
``MultiBinary``                                flattened as 0/1 floats, then the MLP
``Dict`` of the above                          one encoder per key (images: their CNN;
                                               the rest as they are), concatenated in
                                               key order, then the MLP
=============================================  ==========================================

Anything else (``Text``, ``Graph``, ``Tuple``, ``Sequence``, ``MultiDiscrete``, nested
``Dict``) is a one-line :class:`UnsupportedObservationError`: it is never flattened
silently. :func:`describe_space` says in words what an encoder does with a space, for
``rl`` to print.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.errors import ConfigError
from rl_core.networks.conv import CNNS
from rl_core.networks.mlp import MLP
from rl_core.spaces import (
    ACCEPTED,
    UnsupportedObservationError,
    image_scale,
    is_image_space,
    observation_kind,
)

__all__ = [
    "ACCEPTED",
    "Encoder",
    "UnsupportedObservationError",
    "choose_cnn",
    "describe_space",
    "encoder_for_space",
    "image_scale",
    "is_image_space",
    "observation_kind",
]


def choose_cnn(space: spaces.Box, cnn: str) -> str:
    """``"nature"`` or ``"minatar"``: ``"auto"`` takes the Nature CNN from 36x36 up (the
    smallest image its three layers fit) and MinAtar's below."""
    if cnn == "auto":
        return "nature" if min(space.shape[:2]) >= 36 else "minatar"
    if cnn not in CNNS:
        raise ConfigError(f"cnn must be auto, {' or '.join(CNNS)}, not {cnn!r}")
    return cnn


def describe_space(space: spaces.Space, cnn: str = "auto") -> str:
    """What the encoder does with ``space``, in a few words (for ``rl`` to show)."""
    kind = observation_kind(space)
    if kind == "image":
        h, w, c = space.shape
        return f"{h}x{w}x{c} {space.dtype} image -> {choose_cnn(space, cnn)} CNN"
    if kind == "discrete":
        return f"Discrete({space.n}) -> one-hot"
    if kind == "flat":
        return f"{int(np.prod(space.shape))} floats"
    parts = ", ".join(f"{k}: {describe_space(s, cnn)}" for k, s in space.spaces.items())
    return f"Dict({parts})"


class _Part(tf.Module):
    """One key's (or the whole observation's) features before the shared MLP."""

    def __init__(self, space: spaces.Space, rng: np.random.Generator, cnn: str, init: str, name):
        super().__init__(name=name)
        self.kind = observation_kind(space)
        self.cnn = None
        if self.kind == "image":
            self.scale = tf.constant(image_scale(space))
            self.cnn = CNNS[choose_cnn(space, cnn)](space.shape, rng, name=f"{name}_cnn", init=init)
            self.out_size = self.cnn.out_size
        elif self.kind == "discrete":
            self.n, self.start = int(space.n), int(space.start)
            self.out_size = self.n
        else:
            self.out_size = int(np.prod(space.shape))

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        if self.kind == "image":
            return self.cnn(tf.cast(x, tf.float32) / self.scale)
        if self.kind == "discrete":
            index = tf.cast(tf.reshape(x, [-1]), tf.int32) - self.start
            return tf.one_hot(index, self.n)
        return tf.reshape(tf.cast(x, tf.float32), [-1, self.out_size])


class Encoder(tf.Module):
    """Features of a batch of observations (a tensor, or a dict of tensors for a ``Dict``
    space); ``out_size`` features per observation.

    ``hidden`` is the MLP applied after the flat, one-hot or concatenated parts; a lone
    image goes through its CNN only (the CNN ends in its own dense layer), as in the papers.
    """

    def __init__(
        self,
        space: spaces.Space,
        rng: np.random.Generator,
        *,
        hidden: tuple[int, ...] = (64, 64),
        activation: str = "tanh",
        cnn: str = "auto",
        init: str = "orthogonal",
        name: str = "encoder",
    ) -> None:
        super().__init__(name=name)
        self.kind = observation_kind(space)
        if self.kind == "dict":
            self.keys = tuple(space.spaces)
            self.parts = [_Part(space[k], rng, cnn, init, f"{name}_{k}") for k in self.keys]
        else:
            self.keys = None
            self.parts = [_Part(space, rng, cnn, init, f"{name}_obs")]
        width = sum(part.out_size for part in self.parts)
        self.mlp = None
        if self.kind != "image" and hidden:
            self.mlp = MLP(width, tuple(hidden), activation, rng, f"{name}_mlp", init)
            width = self.mlp.out_size
        self.out_size = width

    def __call__(self, observations) -> tf.Tensor:
        if self.keys is None:
            features = self.parts[0](observations)
        else:
            features = tf.concat(
                [part(observations[k]) for k, part in zip(self.keys, self.parts, strict=True)],
                axis=-1,
            )
        return self.mlp(features) if self.mlp is not None else features


def encoder_for_space(space: spaces.Space, rng: np.random.Generator, **options) -> Encoder:
    """The encoder for ``space`` (see the module's table; ``options`` are :class:`Encoder`'s
    keywords); raises the one-line :class:`UnsupportedObservationError` for a space it does
    not handle."""
    return Encoder(space, rng, **options)
