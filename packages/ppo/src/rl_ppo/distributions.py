"""The two policy distributions PPO needs, written out in TensorFlow.

Importing TensorFlow Probability costs 2-8 s of start-up on these machines (it pulls in
tf_keras and its bayesopt modules), more than a CartPole run's tracing; the policy needs
only log-probabilities and entropies, which are a few lines each. The tests pin both
against the closed forms.
"""

from __future__ import annotations

import math

import tensorflow as tf

_LOG_2PI = math.log(2.0 * math.pi)


class Categorical:
    """pi(a|s) = softmax(logits)[a] over actions 0 .. n-1."""

    def __init__(self, logits: tf.Tensor) -> None:
        self.logits = logits
        self._log_probs = tf.nn.log_softmax(logits, axis=-1)

    def log_prob(self, actions: tf.Tensor) -> tf.Tensor:
        return tf.gather(self._log_probs, tf.cast(actions, tf.int32), batch_dims=1)

    def entropy(self) -> tf.Tensor:
        return -tf.reduce_sum(tf.exp(self._log_probs) * self._log_probs, axis=-1)


class DiagGaussian:
    """N(loc, diag(scale^2)) over action vectors; log-probability and entropy summed over
    the action dimensions (an independent Normal per dimension)."""

    def __init__(self, loc: tf.Tensor, log_scale: tf.Tensor) -> None:
        self.loc = loc
        self.log_scale = log_scale + tf.zeros_like(loc)
        self.scale = tf.exp(self.log_scale)

    def log_prob(self, actions: tf.Tensor) -> tf.Tensor:
        z = (actions - self.loc) / self.scale
        return tf.reduce_sum(-0.5 * tf.square(z) - self.log_scale - 0.5 * _LOG_2PI, axis=-1)

    def entropy(self) -> tf.Tensor:
        return tf.reduce_sum(self.log_scale + 0.5 * (1.0 + _LOG_2PI), axis=-1)
