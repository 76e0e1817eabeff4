"""Policy and critic networks (acme's LayerNormMLP torso) and a NumPy copy of the policy.

Actions of a Box space live in [-1, 1] inside the agent; the agent rescales them to the
environment's bounds. The critic sees clipped actions (acme's ``ClipToSpec``), so the
action penalty is what keeps the policy's mean inside the bounds.
"""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from rl_core.networks import Dense

tfd = tfp.distributions
LAYER_NORM_EPS = 1e-5
LOG_2PI = float(np.log(2.0 * np.pi))


class LayerNormMLP(tf.Module):
    """Dense -> LayerNorm -> tanh, then Dense -> ELU per further layer (acme's LayerNormMLP).

    The normalised, squashed first layer keeps the torso's scale fixed whatever the
    observation scale, which is why acme uses it for MPO without observation normalisation.
    """

    def __init__(self, n_in: int, hidden: tuple[int, ...], rng: np.random.Generator, name: str):
        super().__init__(name=name)
        sizes = (n_in, *hidden)
        self.layers = [
            Dense(a, b, 1.0, rng, f"{name}_{i}", init="glorot")
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.ln_scale = tf.Variable(tf.ones([hidden[0]]), name="ln_scale")
        self.ln_offset = tf.Variable(tf.zeros([hidden[0]]), name="ln_offset")
        self.out_size = sizes[-1]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        x = self.layers[0](x)
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        x = (x - mean) * tf.math.rsqrt(var + LAYER_NORM_EPS) * self.ln_scale + self.ln_offset
        x = tf.tanh(x)
        for layer in self.layers[1:]:
            x = tf.nn.elu(layer(x))
        return x

    def named(self) -> dict[str, tf.Variable]:
        out = {f"{self.name}/ln_scale": self.ln_scale, f"{self.name}/ln_offset": self.ln_offset}
        for i, layer in enumerate(self.layers):
            out[f"{self.name}/{i}/w"], out[f"{self.name}/{i}/b"] = layer.w, layer.b
        return out


def tril_layout(d: int) -> tuple[np.ndarray, np.ndarray]:
    """(scatter matrix [K, D*D], diagonal mask [K]) mapping K = D(D+1)/2 entries to a tril."""
    rows, cols = np.tril_indices(d)
    scatter = np.zeros((len(rows), d * d), np.float32)
    scatter[np.arange(len(rows)), rows * d + cols] = 1.0
    return scatter, rows == cols


class Policy(tf.Module):
    """pi(a|s): diagonal or full-covariance Gaussian on [-1, 1]^D, or categorical logits.

    Gaussian scales are ``softplus(x) * init_scale / softplus(0) + min_scale`` (acme's
    ``MultivariateNormalDiagHead``), so an untrained policy has std ``init_scale``; the full
    covariance uses the same map on the Cholesky diagonal and raw off-diagonal entries.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        kind: str,
        hidden: tuple[int, ...],
        init_scale: float,
        min_scale: float,
        rng: np.random.Generator,
        name: str = "policy",
    ) -> None:
        super().__init__(name=name)
        self.kind = kind  # "categorical", "diagonal" or "full"
        self.action_dim = action_dim
        self.torso = LayerNormMLP(obs_dim, hidden, rng, f"{name}_torso")
        width = self.torso.out_size
        # A small mean layer starts the policy near the centre of the action space.
        self.head = Dense(width, action_dim, 1e-2, rng, f"{name}_head", init="glorot")
        self.scale_factor = init_scale / np.log(2.0)  # softplus(0) = log 2
        self.min_scale = min_scale
        if kind == "diagonal":
            self.scale_head = Dense(width, action_dim, 1e-2, rng, f"{name}_scale", init="glorot")
        elif kind == "full":
            k = action_dim * (action_dim + 1) // 2
            self.scale_head = Dense(width, k, 1e-2, rng, f"{name}_scale", init="glorot")
            scatter, diag = tril_layout(action_dim)
            self.tril_scatter = tf.constant(scatter)
            self.tril_diag = tf.constant(diag)

    def __call__(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor | None]:
        """(logits, None) or (mean [B, D], std [B, D] or Cholesky factor [B, D, D])."""
        x = self.torso(obs)
        out = self.head(x)
        if self.kind == "categorical":
            return out, None
        raw = self.scale_head(x)
        positive = tf.nn.softplus(raw) * self.scale_factor + self.min_scale
        if self.kind == "diagonal":
            return out, positive
        entries = tf.where(self.tril_diag, positive, raw)
        d = self.action_dim
        return out, tf.reshape(entries @ self.tril_scatter, [-1, d, d])

    def named(self) -> dict[str, tf.Variable]:
        out = self.torso.named()
        heads = [self.head] + ([] if self.kind == "categorical" else [self.scale_head])
        for head in heads:
            out[f"{head.name}/w"], out[f"{head.name}/b"] = head.w, head.b
        return out


class Critic(tf.Module):
    """Q(s, a) for Box actions (clipped to [-1, 1]), or Q(s, .) over every discrete action."""

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        discrete: bool,
        hidden: tuple[int, ...],
        rng: np.random.Generator,
        name: str = "critic",
    ) -> None:
        super().__init__(name=name)
        self.discrete = discrete
        n_in = obs_dim if discrete else obs_dim + action_dim
        self.torso = LayerNormMLP(n_in, hidden, rng, f"{name}_torso")
        self.head = Dense(
            self.torso.out_size,
            action_dim if discrete else 1,
            1.0,
            rng,
            f"{name}_head",
            init="glorot",
        )

    def __call__(self, obs: tf.Tensor, actions: tf.Tensor | None = None) -> tf.Tensor:
        """[B, A] for discrete actions; [...] for Box ``actions`` [..., D] and ``obs`` [..., O]."""
        if self.discrete:
            return self.head(self.torso(obs))
        x = tf.concat([obs, tf.clip_by_value(actions, -1.0, 1.0)], axis=-1)
        return tf.squeeze(self.head(self.torso(x)), -1)

    def named(self) -> dict[str, tf.Variable]:
        out = self.torso.named()
        out[f"{self.head.name}/w"], out[f"{self.head.name}/b"] = self.head.w, self.head.b
        return out


class NumpyPolicy:
    """:class:`Policy` evaluated in NumPy, for acting one vector step at a time.

    A TensorFlow call costs ~0.4 ms of dispatch whatever the batch, far more than this
    small MLP in NumPy; a test pins this forward pass to the TensorFlow one.
    """

    def __init__(self, policy: Policy) -> None:
        self.kind = policy.kind
        self.action_dim = policy.action_dim
        self.scale_factor, self.min_scale = policy.scale_factor, policy.min_scale
        if policy.kind == "full":
            self.tril_scatter = policy.tril_scatter.numpy()
            self.tril_diag = policy.tril_diag.numpy()
        self.n_layers = len(policy.torso.layers)
        self.source = policy
        self.load()

    def load(self) -> None:
        """Copy the current weights out of the TensorFlow policy."""
        p = self.source
        self.layers = [(layer.w.numpy(), layer.b.numpy()) for layer in p.torso.layers]
        self.ln = (p.torso.ln_scale.numpy(), p.torso.ln_offset.numpy())
        self.head = (p.head.w.numpy(), p.head.b.numpy())
        if p.kind != "categorical":
            self.scale_head = (p.scale_head.w.numpy(), p.scale_head.b.numpy())

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        w, b = self.layers[0]
        x = obs @ w + b
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        x = np.tanh((x - mean) / np.sqrt(var + LAYER_NORM_EPS) * self.ln[0] + self.ln[1])
        for w, b in self.layers[1:]:
            z = x @ w + b
            x = np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
        out = x @ self.head[0] + self.head[1]
        if self.kind == "categorical":
            return out, None
        raw = x @ self.scale_head[0] + self.scale_head[1]
        positive = np.logaddexp(0.0, raw) * self.scale_factor + self.min_scale
        if self.kind == "diagonal":
            return out, positive
        entries = np.where(self.tril_diag, positive, raw)
        d = self.action_dim
        return out, (entries @ self.tril_scatter).reshape(-1, d, d)

    def act(self, obs: np.ndarray, rng: np.random.Generator, deterministic: bool) -> np.ndarray:
        """Greedy actions (argmax or the Gaussian mean), or draws from the policy."""
        if not deterministic:
            return self.sample(obs, rng)[0]
        out, _ = self.forward(obs)
        return out.argmax(-1) if self.kind == "categorical" else out.astype(np.float32)

    def sample(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(actions, log pi(actions|obs)) drawn from the policy: the behaviour log-probabilities
        Retrace needs. Gaussian actions are the unclipped draws in [-1, 1] units."""
        out, scale = self.forward(obs)
        if self.kind == "categorical":
            # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits).
            uniform = np.maximum(rng.random(out.shape), 1e-12)
            actions = (out - np.log(-np.log(uniform))).argmax(-1)
            shifted = out - out.max(-1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
            return actions, np.take_along_axis(log_probs, actions[:, None], -1)[:, 0]
        noise = rng.standard_normal(out.shape)
        if self.kind == "diagonal":
            actions, log_det = out + scale * noise, np.log(scale).sum(-1)
        else:
            actions = out + np.einsum("bij,bj->bi", scale, noise)
            log_det = np.log(np.diagonal(scale, axis1=-2, axis2=-1)).sum(-1)
        # a = mean + L z with z standard normal: log N(a) = log N(z; 0, I) - log|det L|.
        log_probs = -0.5 * np.square(noise).sum(-1) - log_det - 0.5 * self.action_dim * LOG_2PI
        return actions.astype(np.float32), log_probs.astype(np.float32)
