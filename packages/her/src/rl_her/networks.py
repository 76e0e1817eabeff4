"""Goal-conditioned networks: a Q-network (optionally dueling), a deterministic actor, critics.

Every network reads ``[observation, desired_goal]`` concatenated (the universal
value function approximator of Schaul et al., 2015, that HER trains). Each has a
NumPy twin of its forward pass for acting: a ``tf.function`` call costs ~0.4 ms
of dispatch on a 2-core CPU, more than these small MLPs, and acting happens once
per vector step.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.networks import MLP as HiddenLayers
from rl_core.networks import Dense


class MLP(tf.Module):
    """ReLU hidden layers and a linear output layer: rl_core's layers with Glorot init (the
    Keras default of the baselines HER reference), named and ordered as the NumPy twins and
    checkpoints read them (``{name}/{i}/w``, ``{name}/{i}/b``)."""

    def __init__(
        self, n_in: int, hidden: tuple[int, ...], n_out: int, rng: np.random.Generator, name: str
    ):
        super().__init__(name=name)
        self.hidden = HiddenLayers(n_in, tuple(hidden), "relu", rng, name, init="glorot")
        self.out = Dense(self.hidden.out_size, n_out, 1.0, rng, f"{name}_{len(hidden)}", "glorot")

    @property
    def layers(self) -> list[Dense]:
        return [*self.hidden.layers, self.out]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return self.out(self.hidden(x))

    def named(self) -> dict[str, tf.Variable]:
        out = {}
        for i, layer in enumerate(self.layers):
            out[f"{self.name}/{i}/w"], out[f"{self.name}/{i}/b"] = layer.w, layer.b
        return out

    def ordered_variables(self) -> list[tf.Variable]:
        """w0, b0, w1, b1, ...: the order :func:`mlp_numpy` reads."""
        return [p for layer in self.layers for p in (layer.w, layer.b)]

    def numpy_weights(self) -> list[np.ndarray]:
        return [p.numpy() for p in self.ordered_variables()]


def mlp_numpy(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """:class:`MLP`'s forward pass in NumPy (weights as from ``numpy_weights``)."""
    n = len(weights) // 2
    for i in range(n):
        x = x @ weights[2 * i] + weights[2 * i + 1]
        if i < n - 1:
            x = np.maximum(x, 0.0)
    return x


def dueling_combine(value, advantage):
    """Q = V + A - mean_a A (Wang et al., 2016, eq. 9); works on tensors and arrays."""
    mean = (
        np.mean(advantage, axis=-1, keepdims=True)
        if isinstance(advantage, np.ndarray)
        else tf.reduce_mean(advantage, axis=-1, keepdims=True)
    )
    return value + advantage - mean


class QNetwork(tf.Module):
    """Q(s, g, .) for every discrete action; with ``dueling`` the output is V + A - mean(A)."""

    def __init__(
        self, n_in: int, n_actions: int, hidden: tuple[int, ...], dueling: bool, seed: int, name
    ):
        super().__init__(name=name)
        rng = np.random.default_rng(seed)
        self.dueling = dueling
        # The dueling net has one extra output unit: V(s) in column 0, A(s, .) after it.
        self.mlp = MLP(n_in, hidden, n_actions + int(dueling), rng, name)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        out = self.mlp(x)
        if self.dueling:
            return dueling_combine(out[:, :1], out[:, 1:])
        return out

    def named(self) -> dict[str, tf.Variable]:
        return self.mlp.named()


def q_numpy(weights: list[np.ndarray], x: np.ndarray, dueling: bool) -> np.ndarray:
    out = mlp_numpy(weights, x)
    return dueling_combine(out[:, :1], out[:, 1:]) if dueling else out


class Actor(tf.Module):
    """mu(s, g) in [-1, 1]^d (tanh); the agent scales it to the action bounds."""

    def __init__(self, n_in: int, action_dim: int, hidden: tuple[int, ...], seed: int, name):
        super().__init__(name=name)
        self.mlp = MLP(n_in, hidden, action_dim, np.random.default_rng(seed), name)

    def preactivation(self, x: tf.Tensor) -> tf.Tensor:
        return self.mlp(x)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.tanh(self.mlp(x))

    def named(self) -> dict[str, tf.Variable]:
        return self.mlp.named()


def actor_numpy(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    return np.tanh(mlp_numpy(weights, x))


class Critic(tf.Module):
    """Q(s, g, a) for normalized actions a in [-1, 1]^d."""

    def __init__(self, n_in: int, action_dim: int, hidden: tuple[int, ...], seed: int, name):
        super().__init__(name=name)
        self.mlp = MLP(n_in + action_dim, hidden, 1, np.random.default_rng(seed), name)

    def __call__(self, x: tf.Tensor, action: tf.Tensor) -> tf.Tensor:
        return tf.squeeze(self.mlp(tf.concat([x, action], axis=-1)), -1)

    def named(self) -> dict[str, tf.Variable]:
        return self.mlp.named()
