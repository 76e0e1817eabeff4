"""Networks: the R2D2 recurrent dueling Q-network (UVFA inputs), the inverse-dynamics
embedding of NGU's episodic novelty, and RND's target/predictor pair."""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf


def glorot(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


class Dense(tf.Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, name: str) -> None:
        super().__init__(name=name)
        self.w = tf.Variable(glorot((n_in, n_out), rng), name="w")
        self.b = tf.Variable(tf.zeros([n_out]), name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return x @ self.w + self.b


class MLP(tf.Module):
    """ReLU hidden layers; ``linear_out`` adds a final linear layer of that width."""

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        rng: np.random.Generator,
        name: str,
        linear_out: int | None = None,
    ) -> None:
        super().__init__(name=name)
        sizes = (n_in, *hidden)
        self.layers = [
            Dense(a, b, rng, f"{name}_{i}") for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.out = Dense(sizes[-1], linear_out, rng, f"{name}_out") if linear_out else None
        self.out_size = linear_out or sizes[-1]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.layers:
            x = tf.nn.relu(layer(x))
        return self.out(x) if self.out is not None else x


class LSTM(tf.Module):
    """A plain LSTM cell (forget-gate bias 1) whose input projection is applied to whole
    sequences at once, so the time loop only does the recurrent matmul."""

    def __init__(self, n_in: int, units: int, rng: np.random.Generator, name: str) -> None:
        super().__init__(name=name)
        self.units = units
        self.w_x = tf.Variable(glorot((n_in, 4 * units), rng), name="w_x")
        self.w_h = tf.Variable(glorot((units, 4 * units), rng), name="w_h")
        bias = np.zeros(4 * units, np.float32)
        bias[units : 2 * units] = 1.0
        self.b = tf.Variable(bias, name="b")

    def project(self, x: tf.Tensor) -> tf.Tensor:
        return x @ self.w_x + self.b

    def step(self, projected: tf.Tensor, h: tf.Tensor, c: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        z = projected + h @ self.w_h
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c


class RecurrentQNetwork(tf.Module):
    """R2D2's Q-network as NGU conditions it: an MLP torso of the observation, concatenated
    with one-hot j, the one-hot previous action and the previous extrinsic and intrinsic
    rewards, into an LSTM, then a dueling head Q = V + A - mean_a A.

    The previous intrinsic reward enters multiplied by ``intrinsic_input_scale``: NGU's
    episodic reward is about 1 / sqrt(k * kernel_epsilon) ~ 30 for a state unlike its k
    neighbours (every state of a DeepSea episode), up to 5x that with the lifelong
    modulator, and an input of 30-150 saturates the LSTM gates exactly at the novel
    states exploration is after; the agents pass sqrt(k * kernel_epsilon)."""

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        num_policies: int,
        hidden: tuple[int, ...],
        lstm_units: int,
        rng: np.random.Generator,
        name: str,
        intrinsic_input_scale: float = 1.0,
    ) -> None:
        super().__init__(name=name)
        self.num_actions = num_actions
        self.num_policies = num_policies
        self.intrinsic_input_scale = intrinsic_input_scale
        self.torso = MLP(obs_dim, hidden, rng, f"{name}_torso")
        n_in = self.torso.out_size + num_policies + num_actions + 2
        self.lstm = LSTM(n_in, lstm_units, rng, f"{name}_lstm")
        self.value = Dense(lstm_units, 1, rng, f"{name}_value")
        self.advantage = Dense(lstm_units, num_actions, rng, f"{name}_advantage")

    def _features(self, obs, policy, prev_action, prev_re, prev_ri) -> tf.Tensor:
        return tf.concat(
            [
                self.torso(obs),
                tf.one_hot(policy, self.num_policies),
                tf.one_hot(prev_action, self.num_actions),
                prev_re[..., None],
                self.intrinsic_input_scale * prev_ri[..., None],
            ],
            axis=-1,
        )

    def _head(self, h: tf.Tensor) -> tf.Tensor:
        adv = self.advantage(h)
        return self.value(h) + adv - tf.reduce_mean(adv, axis=-1, keepdims=True)

    def step(self, obs, policy, prev_action, prev_re, prev_ri, h, c):
        """One batched step: Q [B, A] and the next state."""
        x = self.lstm.project(self._features(obs, policy, prev_action, prev_re, prev_ri))
        h, c = self.lstm.step(x, h, c)
        return self._head(h), h, c

    def unroll(self, obs, policy, prev_action, prev_re, prev_ri, first, h, c, burn_in: int = 0):
        """Q [T, B, A] over time-major sequences from the stored state (h, c).

        The state is reset to zero where ``first`` is 1 (an episode starts there), so front
        padding before an episode start never leaks into it. The state after the first
        ``burn_in`` steps is detached: burn-in only warms the state up (R2D2, Section 3).
        """
        steps = obs.shape[0]
        policy_t = tf.broadcast_to(policy[None], tf.shape(prev_action))
        x = self.lstm.project(self._features(obs, policy_t, prev_action, prev_re, prev_ri))
        outputs = []
        for t in range(steps):
            if t == burn_in and burn_in > 0:
                h, c = tf.stop_gradient(h), tf.stop_gradient(c)
            keep = 1.0 - first[t][:, None]
            h, c = self.lstm.step(x[t], h * keep, c * keep)
            outputs.append(h)
        return self._head(tf.stack(outputs))


class EmbeddingNetwork(tf.Module):
    """f(x) of NGU, trained through an inverse-dynamics classifier p(a | f(x_t), f(x_t+1))."""

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden: tuple[int, ...],
        embedding_size: int,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(name="embedding")
        self.embed = MLP(obs_dim, hidden, rng, "embed", linear_out=embedding_size)
        self.classifier = MLP(
            2 * embedding_size, hidden, rng, "inverse_dynamics", linear_out=num_actions
        )

    def __call__(self, obs: tf.Tensor) -> tf.Tensor:
        return self.embed(obs)

    def classifier_weights(self) -> list[tf.Variable]:
        """The action predictor's weight matrices (NGU's L2 penalty; biases excluded)."""
        layers = [*self.classifier.layers, self.classifier.out]
        return [layer.w for layer in layers if layer is not None]

    def action_logits(self, obs: tf.Tensor, next_obs: tf.Tensor) -> tf.Tensor:
        return self.classifier(tf.concat([self.embed(obs), self.embed(next_obs)], axis=-1))


class RNDNetworks(tf.Module):
    """Random Network Distillation: a fixed random target g* and a trained predictor g."""

    def __init__(
        self, obs_dim: int, hidden: tuple[int, ...], out: int, rng: np.random.Generator
    ) -> None:
        super().__init__(name="rnd")
        self.target = MLP(obs_dim, hidden, rng, "rnd_target", linear_out=out)
        self.predictor = MLP(obs_dim, hidden, rng, "rnd_predictor", linear_out=out)

    def error(
        self, obs: tf.Tensor, mean: tf.Tensor | None = None, std: tf.Tensor | None = None
    ) -> tf.Tensor:
        """||g(x) - g*(x)||^2 per observation; with ``mean``/``std`` the input is the
        normalized observation clipped to [-5, 5] (Burda et al., 2019, section 2.4)."""
        if mean is not None:
            obs = tf.clip_by_value((obs - mean) / std, -5.0, 5.0)
        target = tf.stop_gradient(self.target(obs))
        return tf.reduce_sum(tf.square(self.predictor(obs) - target), axis=-1)
