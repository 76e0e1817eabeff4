"""An LSTM cell for sequence models (R2D2, NGU, Agent57)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.networks.mlp import glorot


class LSTM(tf.Module):
    """A plain LSTM cell (Hochreiter & Schmidhuber, 1997) with forget-gate bias 1
    (Jozefowicz et al., 2015), whose input projection is applied to whole sequences at
    once, so the time loop only does the recurrent matmul.

    Gates are ordered input, forget, cell, output in the ``4 * units`` columns.
    """

    def __init__(self, n_in: int, units: int, rng: np.random.Generator, name: str) -> None:
        super().__init__(name=name)
        self.units = units
        self.w_x = tf.Variable(glorot((n_in, 4 * units), rng), name="w_x")
        self.w_h = tf.Variable(glorot((units, 4 * units), rng), name="w_h")
        bias = np.zeros(4 * units, np.float32)
        bias[units : 2 * units] = 1.0
        self.b = tf.Variable(bias, name="b")

    def project(self, x: tf.Tensor) -> tf.Tensor:
        """The input's contribution to the gates, ``x @ w_x + b``, for any leading shape."""
        return x @ self.w_x + self.b

    def step(self, projected: tf.Tensor, h: tf.Tensor, c: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One time step from the projected input and the state ``(h, c)``; returns ``(h, c)``."""
        z = projected + h @ self.w_h
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c
