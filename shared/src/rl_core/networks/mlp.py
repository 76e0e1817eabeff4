"""Dense layers and MLPs as ``tf.Module``s, initialized from a NumPy generator.

Two initializations, because the papers behind the packages use two: orthogonal
(Saxe et al., 2014), which the PPO implementation studies use (Engstrom et al., 2020;
Huang et al., 2022), and Glorot uniform (Glorot & Bengio, 2010), the Keras/Sonnet default
that the HER, MPO (acme) and R2D2/NGU reference implementations inherit.
"""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf

# Straight-line tensor code: autograph has nothing to convert in it, and converting it
# anyway was a large part of the first-call tracing time of the graphs that call it.
_graph_code = tf.autograph.experimental.do_not_convert

ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu, "elu": tf.nn.elu}
INITIALIZERS = ("orthogonal", "glorot")


def orthogonal(shape: tuple[int, int], gain: float, rng: np.random.Generator) -> np.ndarray:
    """An orthogonal matrix scaled by ``gain`` (Saxe et al., 2014), as PPO implementations use."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a uniform draw, not one biased by QR's sign convention
    if rows < cols:
        q = q.T
    return (gain * q).astype(np.float32)


def glorot(shape: tuple[int, int], rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Glorot-uniform weights: U(-l, l) with l = scale * sqrt(6 / (fan_in + fan_out))."""
    limit = scale * np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def initial_weights(
    shape: tuple[int, int], gain: float, rng: np.random.Generator, init: str
) -> np.ndarray:
    """A ``(fan_in, fan_out)`` matrix: orthogonal times ``gain``, or Glorot scaled by it."""
    if init == "orthogonal":
        return orthogonal(shape, gain, rng)
    if init == "glorot":
        return glorot(shape, rng, gain)
    raise ValueError(f"init must be one of {', '.join(INITIALIZERS)}, not {init!r}")


class Dense(tf.Module):
    """``x @ w + b``: ``w`` orthogonal times ``gain`` (or Glorot scaled by it), ``b`` zero."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        gain: float,
        rng: np.random.Generator,
        name: str,
        init: str = "orthogonal",
    ):
        super().__init__(name=name)
        self.w = tf.Variable(initial_weights((n_in, n_out), gain, rng, init), name="w")
        self.b = tf.Variable(tf.zeros([n_out]), name="b")
        self.out_size = n_out

    @_graph_code
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return x @ self.w + self.b


class MLP(tf.Module):
    """Hidden ``Dense`` layers, each followed by the activation.

    ``gain`` defaults to sqrt 2 for orthogonal layers (the ReLU/tanh gain the PPO studies
    use) and to 1 for Glorot ones.
    """

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        activation: str,
        rng: np.random.Generator,
        name: str,
        init: str = "orthogonal",
        gain: float | None = None,
    ) -> None:
        super().__init__(name=name)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if gain is None:
            gain = np.sqrt(2.0) if init == "orthogonal" else 1.0
        sizes = (n_in, *hidden)
        self.layers = [
            Dense(a, b, gain, rng, name=f"{name}_{i}", init=init)
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.activation = ACTIVATIONS[activation]
        self.out_size = sizes[-1]

    @_graph_code
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.layers:
            x = self.activation(layer(x))
        return x
