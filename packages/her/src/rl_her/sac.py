"""SAC as HER's third learner for Box actions (Haarnoja et al., 2018, "Soft Actor-Critic
Algorithms and Applications", arXiv:1812.05905).

Entropy-regularized twin-Q learning with a tanh-squashed Gaussian policy and an
automatically tuned temperature alpha:

- critic target  y = R + discount * (min_i Q'_i(s', a') - alpha log pi(a'|s')),  a' ~ pi(s')
  (``discount`` is gamma^m, 0 at terminal states, as for the other learners), clipped to
  [-1/(1-gamma), 0] with ``clip_target`` like DDPG/TD3's;
- actor loss     mean(alpha log pi(a|s) - min_i Q_i(s, a)) + action_l2 * mean(a^2),  a ~ pi(s)
  (reparameterized);
- temperature    loss -log(alpha) * mean(log pi(a|s) + target_entropy), target entropy
  -dim(A) by default (the paper's heuristic), alpha starting at ``alpha_init``.

Actions live in [-1, 1]^d (the agent scales them to the env's bounds), as for DDPG/TD3.
The update order of one gradient step is Stable-Baselines3's: the critic and the actor
use the temperature from before this step's temperature update.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from rl_core.optim import Adam
from rl_her.config import HERConfig
from rl_her.learning import _clip, _compile, soft_update
from rl_her.networks import MLP, Critic, mlp_numpy

# log std is clipped to [-20, 2], as in the authors' code and Stable-Baselines3.
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def squashed_gaussian_log_prob(mean, log_std, u):
    """log pi(tanh(u)) of u ~ N(mean, exp(log_std)^2) pushed through tanh, summed over the
    action dimensions: sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2)]
    (Haarnoja et al., 2018, App. C, eq. 21). log(1 - tanh(u)^2) is computed as
    2 (log 2 - u - softplus(-2u)), which stays finite where tanh(u) rounds to +-1."""
    gaussian = -0.5 * tf.square((u - mean) * tf.exp(-log_std)) - log_std - _HALF_LOG_2PI
    log_det = 2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u))
    return tf.reduce_sum(gaussian - log_det, axis=-1)


def soft_critic_target(rewards, discounts, q_next_min, next_log_prob, alpha, low, high):
    """y = clip(R + discount * (min_i Q'_i(s', a') - alpha log pi(a'|s')), low, high)."""
    y = rewards + discounts * (q_next_min - alpha * next_log_prob)
    return tf.clip_by_value(y, low, high)


class GaussianActor(tf.Module):
    """pi(a | s, g): one MLP whose outputs are the mean and log std of u; a = tanh(u)."""

    def __init__(self, n_in: int, action_dim: int, hidden: tuple[int, ...], seed: int, name):
        super().__init__(name=name)
        self.action_dim = action_dim
        self.mlp = MLP(n_in, hidden, 2 * action_dim, np.random.default_rng(seed), name)

    def mean_and_log_std(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        out = self.mlp(x)
        mean, log_std = out[:, : self.action_dim], out[:, self.action_dim :]
        return mean, tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, x: tf.Tensor, noise: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Reparameterized a = tanh(mean + std * noise) and its log-probability."""
        mean, log_std = self.mean_and_log_std(x)
        u = mean + tf.exp(log_std) * noise
        return tf.tanh(u), squashed_gaussian_log_prob(mean, log_std, u)

    def named(self) -> dict[str, tf.Variable]:
        return self.mlp.named()


def sac_actor_numpy(
    weights: list[np.ndarray], x: np.ndarray, noise: np.ndarray | None = None
) -> np.ndarray:
    """:class:`GaussianActor`'s action in NumPy: tanh(mean) (greedy, ``noise`` None) or
    tanh(mean + std * noise)."""
    out = mlp_numpy(weights, x)
    d = out.shape[1] // 2
    mean = out[:, :d]
    if noise is None:
        return np.tanh(mean)
    std = np.exp(np.clip(out[:, d:], LOG_STD_MIN, LOG_STD_MAX))
    return np.tanh(mean + std * noise)


class SACLearner(tf.Module):
    """Soft actor-critic with twin critics and a learned temperature (see the module doc)."""

    def __init__(self, n_in: int, action_dim: int, config: HERConfig) -> None:
        super().__init__(name="sac_learner")
        self.config = config
        hidden, seed = config.hidden_sizes, config.seed
        self.actor = GaussianActor(n_in, action_dim, hidden, seed, "actor")
        self.critics = [
            Critic(n_in, action_dim, hidden, seed + 1 + i, f"critic{i}") for i in (0, 1)
        ]
        self.critic_targets = [
            Critic(n_in, action_dim, hidden, seed + 1 + i, f"critic{i}_target") for i in (0, 1)
        ]
        self.critic_vars = [v for c in self.critics for v in c.trainable_variables]
        self.critic_target_vars = [v for c in self.critic_targets for v in c.trainable_variables]
        self.log_alpha = tf.Variable(math.log(config.alpha_init), name="log_alpha")
        self.target_entropy = (
            -float(action_dim) if config.target_entropy is None else config.target_entropy
        )
        lr = config.learning_rate
        self.actor_optimizer = Adam(self.actor.trainable_variables, lr, name="actor_adam")
        self.critic_optimizer = Adam(self.critic_vars, lr, name="critic_adam")
        self.alpha_optimizer = Adam([self.log_alpha], lr, name="alpha_adam")
        self.gradient_steps = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.target_every = config.target_every("sac")
        self.target_low, self.target_high = config.target_range()
        action_spec = tf.TensorSpec([None, None, action_dim], tf.float32)
        self.update = _compile(self._update, n_in, action_spec, config.xla)

    def named_variables(self) -> dict[str, tf.Variable]:
        named = {**self.actor.named(), "log_alpha": self.log_alpha}
        for c in (*self.critics, *self.critic_targets):
            named.update(c.named())
        names = {id(v): k for k, v in named.items()}
        return {
            **named,
            **self.actor_optimizer.named(names),
            **self.critic_optimizer.named(names),
            **self.alpha_optimizer.named(names),
            "gradient_steps": self.gradient_steps,
        }

    def acting_weights(self):
        return self.actor.mlp.numpy_weights()

    def _min_q(self, critics, obs, action):
        q = critics[0](obs, action)
        for critic in critics[1:]:
            q = tf.minimum(q, critic(obs, action))
        return q

    def critic_target(self, rewards, next_obs, discounts, alpha, noise):
        """y with a' = tanh(mean(s') + std(s') * noise) drawn from the current policy."""
        next_action, next_log_prob = self.actor.sample(next_obs, noise)
        q_next = self._min_q(self.critic_targets, next_obs, next_action)
        y = soft_critic_target(
            rewards, discounts, q_next, next_log_prob, alpha, self.target_low, self.target_high
        )
        return tf.stop_gradient(y)

    def actor_loss(self, obs, alpha, noise):
        """(mean(alpha log pi(a|s) - min_i Q_i(s, a)) + action_l2 mean(a^2), log pi(a|s))."""
        action, log_prob = self.actor.sample(obs, noise)
        q = self._min_q(self.critics, obs, action)
        loss = tf.reduce_mean(alpha * log_prob - q)
        return loss + self.config.action_l2 * tf.reduce_mean(tf.square(action)), log_prob

    def alpha_loss(self, log_prob):
        """-log(alpha) * mean(log pi + target_entropy): alpha grows while the policy's
        entropy -E[log pi] is below the target, shrinks while above."""
        return -self.log_alpha * tf.reduce_mean(tf.stop_gradient(log_prob) + self.target_entropy)

    def _step(self, obs, actions, rewards, next_obs, discounts, weights, seed):
        cfg = self.config
        alpha = tf.exp(self.log_alpha)
        shape = tf.shape(actions)
        next_noise = tf.random.stateless_normal(shape, seed)
        noise = tf.random.stateless_normal(shape, seed + tf.constant([1, 0]))
        y = self.critic_target(rewards, next_obs, discounts, alpha, next_noise)
        with tf.GradientTape() as tape:
            qs = [critic(obs, actions) for critic in self.critics]
            critic_loss = tf.add_n([tf.reduce_mean(weights * tf.square(y - q)) for q in qs])
        grads = tape.gradient(critic_loss, self.critic_vars)
        self.critic_optimizer.apply(_clip(grads, cfg.max_grad_norm))

        actor_vars = self.actor.trainable_variables
        with tf.GradientTape() as tape:
            actor_loss, log_prob = self.actor_loss(obs, alpha, noise)
        grads = tape.gradient(actor_loss, actor_vars)
        self.actor_optimizer.apply(_clip(grads, cfg.max_grad_norm))
        if cfg.learn_alpha:
            with tf.GradientTape() as tape:
                alpha_loss = self.alpha_loss(log_prob)
            self.alpha_optimizer.apply(tape.gradient(alpha_loss, [self.log_alpha]))

        self.gradient_steps.assign_add(1)
        if self.gradient_steps % self.target_every == 0:
            soft_update(self.critic_target_vars, self.critic_vars, cfg.tau)
        return y - qs[0], critic_loss, actor_loss, tf.reduce_mean(qs[0]), -tf.reduce_mean(log_prob)

    def _update(self, obs, actions, rewards, next_obs, discounts, weights, seed):
        k = tf.shape(obs)[0]
        tds = tf.TensorArray(tf.float32, size=k)
        sums = [tf.constant(0.0)] * 4
        for i in tf.range(k):
            td, *values = self._step(
                obs[i],
                actions[i],
                rewards[i],
                next_obs[i],
                discounts[i],
                weights[i],
                seed + tf.stack([0, 2 * i]),
            )
            tds = tds.write(i, td)
            sums = [s + v for s, v in zip(sums, values, strict=True)]
        n = tf.cast(k, tf.float32)
        names = ("critic_loss", "actor_loss", "q_values", "entropy")
        metrics = {name: s / n for name, s in zip(names, sums, strict=True)}
        metrics["alpha"] = tf.exp(self.log_alpha)
        return tds.stack(), metrics, self.actor.mlp.ordered_variables()
