"""The actor-critic: a shared torso with policy and value heads, or two separate MLPs."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.networks import MLP, Dense
from rl_ppo.distributions import Categorical, DiagGaussian

# Straight-line tensor code: autograph has nothing to convert in it, and converting it
# anyway (recursively, into TFP) was most of the update's first-call tracing time.
_graph_code = tf.autograph.experimental.do_not_convert


class ActorCritic(tf.Module):
    """pi(a|s) as a TFP distribution and V(s), with orthogonal initialization.

    Gains follow the PPO implementation study (Engstrom et al., 2020; Huang et al.,
    2022): sqrt(2) in hidden layers, 0.01 for the policy head so the initial
    policy is near uniform, 1 for the value head.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        discrete: bool,
        hidden: tuple[int, ...],
        activation: str,
        shared: bool,
        log_std_init: float,
        seed: int,
    ) -> None:
        super().__init__(name="actor_critic")
        rng = np.random.default_rng(seed)
        self.discrete = discrete
        self.shared = shared
        self.pi_torso = MLP(obs_dim, hidden, activation, rng, "pi_torso")
        self.v_torso = self.pi_torso if shared else MLP(obs_dim, hidden, activation, rng, "v_torso")
        width = self.pi_torso.out_size
        self.pi_head = Dense(width, action_dim, 0.01, rng, "pi_head")
        self.v_head = Dense(width, 1, 1.0, rng, "v_head")
        if not discrete:
            self.log_std = tf.Variable(tf.fill([action_dim], float(log_std_init)), name="log_std")

    def distribution(self, pi_features: tf.Tensor) -> Categorical | DiagGaussian:
        out = self.pi_head(pi_features)
        if self.discrete:
            return Categorical(out)
        return DiagGaussian(out, self.log_std)

    @_graph_code
    def __call__(self, obs: tf.Tensor) -> tuple[Categorical | DiagGaussian, tf.Tensor]:
        pi_features = self.pi_torso(obs)
        v_features = pi_features if self.shared else self.v_torso(obs)
        return self.distribution(pi_features), tf.squeeze(self.v_head(v_features), -1)

    @_graph_code
    def value(self, obs: tf.Tensor) -> tf.Tensor:
        return tf.squeeze(self.v_head(self.v_torso(obs)), -1)

    @_graph_code
    def evaluate(self, obs: tf.Tensor, actions: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """log pi(a|s) and V(s) for a batch: what the learner needs from a rollout."""
        dist, value = self(obs)
        return dist.log_prob(actions), value

    def named_variables(self) -> dict[str, tf.Variable]:
        """Every variable under a stable, readable name: the keys of the saved weights.

        Names (not ``tf.Module.variables``' order) tie a file to the network, so a file
        from a different architecture fails loudly on load instead of loading shuffled.
        """
        named: dict[str, tf.Variable] = {}
        torsos = [self.pi_torso] if self.shared else [self.pi_torso, self.v_torso]
        for torso in torsos:
            for i, layer in enumerate(torso.layers):
                named[f"{torso.name}/{i}/w"], named[f"{torso.name}/{i}/b"] = layer.w, layer.b
        for head in (self.pi_head, self.v_head):
            named[f"{head.name}/w"], named[f"{head.name}/b"] = head.w, head.b
        if not self.discrete:
            named["log_std"] = self.log_std
        return named

    def policy_weights(self) -> list[np.ndarray]:
        """The policy path's parameters as NumPy arrays, for :class:`NumpyPolicy`."""
        params = [p for layer in self.pi_torso.layers for p in (layer.w, layer.b)]
        params += [self.pi_head.w, self.pi_head.b]
        if not self.discrete:
            params.append(self.log_std)
        return [p.numpy() for p in params]


class NumpyPolicy:
    """The policy path of :class:`ActorCritic` evaluated in NumPy, for acting.

    A TensorFlow call costs ~0.3-0.6 ms of dispatch whatever the batch, far more
    than an 8 x 64 x 64 MLP; acting once per vector step in NumPy (a few
    microseconds) and evaluating log-probabilities and values for the whole
    rollout in one graph call is what makes rollouts fast. A test pins this
    forward pass to the TensorFlow one.
    """

    def __init__(self, discrete: bool, activation: str) -> None:
        self.discrete = discrete
        self.activation = np.tanh if activation == "tanh" else (lambda x: np.maximum(x, 0.0))
        self.weights: list[np.ndarray] = []

    def load(self, weights: list[np.ndarray]) -> None:
        self.weights = weights

    def head(self, obs: np.ndarray) -> np.ndarray:
        """Logits (discrete) or the Gaussian mean (continuous)."""
        w = self.weights
        n_hidden = (len(w) - (2 if self.discrete else 3)) // 2
        x = obs
        for i in range(n_hidden):
            x = self.activation(x @ w[2 * i] + w[2 * i + 1])
        return x @ w[2 * n_hidden] + w[2 * n_hidden + 1]

    def act(self, obs: np.ndarray, rng: np.random.Generator, deterministic: bool) -> np.ndarray:
        out = self.head(obs)
        if self.discrete:
            if deterministic:
                return out.argmax(axis=-1)
            # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits).
            uniform = np.maximum(rng.random(out.shape), 1e-12)
            return (out - np.log(-np.log(uniform))).argmax(axis=-1)
        if deterministic:
            return out
        std = np.exp(self.weights[-1])
        return (out + std * rng.standard_normal(out.shape)).astype(np.float32)
