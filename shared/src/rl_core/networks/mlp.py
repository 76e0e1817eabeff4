"""Dense layers and MLPs as ``tf.Module``s, initialized from a NumPy generator."""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf

# Straight-line tensor code: autograph has nothing to convert in it, and converting it
# anyway was a large part of the first-call tracing time of the graphs that call it.
_graph_code = tf.autograph.experimental.do_not_convert

ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu}


def orthogonal(shape: tuple[int, int], gain: float, rng: np.random.Generator) -> np.ndarray:
    """An orthogonal matrix scaled by ``gain`` (Saxe et al., 2014), as PPO implementations use."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a uniform draw, not one biased by QR's sign convention
    if rows < cols:
        q = q.T
    return (gain * q).astype(np.float32)


class Dense(tf.Module):
    """``x @ w + b`` with ``w`` orthogonal times ``gain`` and ``b`` zero."""

    def __init__(self, n_in: int, n_out: int, gain: float, rng: np.random.Generator, name: str):
        super().__init__(name=name)
        self.w = tf.Variable(orthogonal((n_in, n_out), gain, rng), name="w")
        self.b = tf.Variable(tf.zeros([n_out]), name="b")

    @_graph_code
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return x @ self.w + self.b


class MLP(tf.Module):
    """Hidden ``Dense`` layers (gain sqrt 2), each followed by the activation."""

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        activation: str,
        rng: np.random.Generator,
        name: str,
    ) -> None:
        super().__init__(name=name)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        sizes = (n_in, *hidden)
        self.layers = [
            Dense(a, b, np.sqrt(2.0), rng, name=f"{name}_{i}")
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.activation = ACTIVATIONS[activation]
        self.out_size = sizes[-1]

    @_graph_code
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.layers:
            x = self.activation(layer(x))
        return x
