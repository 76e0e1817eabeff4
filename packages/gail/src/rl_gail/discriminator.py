"""The discriminator D(s, a) = P(expert | s, a), its loss, and the generator's reward.

Convention: D is the probability that a pair comes from the expert (Ho & Ermon write
D for the policy's side; their cost log D_pi(s, a) is our -log(1 - D)). With
``l = logit D``: -log D = softplus(-l) and -log(1 - D) = softplus(l).

D also scores the absorbing state s_a that follows a true termination (Kostrikov et al.,
2019, "Discriminator-Actor-Critic", section 4.2): its input carries an indicator
feature that is 1 there and 0 elsewhere, and s_a's observation and action are zeros.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.networks import MLP, Dense
from rl_core.optim import Adam
from rl_gail.config import GAILConfig


def discriminator_loss(
    expert_logits: tf.Tensor,
    agent_logits: tf.Tensor,
    expert_weights: tf.Tensor | None = None,
    agent_weights: tf.Tensor | None = None,
) -> tf.Tensor:
    """Binary cross-entropy with the expert labelled 1: E_E[-log D] + E_pi[-log(1 - D)],
    each term the mean over its batch of a per-pair weight (1 when not given) times the
    pair's loss."""
    expert_terms = tf.nn.softplus(-expert_logits)
    agent_terms = tf.nn.softplus(agent_logits)
    if expert_weights is not None:
        expert_terms *= expert_weights
    if agent_weights is not None:
        agent_terms *= agent_weights
    return tf.reduce_mean(expert_terms) + tf.reduce_mean(agent_terms)


def absorbing_weights(x: tf.Tensor, weight: float) -> tf.Tensor:
    """Per-pair loss weights for D's inputs ``x``: ``weight`` for the absorbing state (its
    indicator, the last input, is 1) and 1 for every other pair."""
    return 1.0 + (weight - 1.0) * x[:, -1]


def bernoulli_entropy(logits: tf.Tensor) -> tf.Tensor:
    """Mean entropy of Bernoulli(sigmoid(l)): p softplus(-l) + (1 - p) softplus(l)."""
    p = tf.sigmoid(logits)
    return tf.reduce_mean(p * tf.nn.softplus(-logits) + (1.0 - p) * tf.nn.softplus(logits))


def reward_from_logits(logits: tf.Tensor, kind: str) -> tf.Tensor:
    """The generator's reward for D = sigmoid(logits).

    positive: -log(1 - D) > 0; negative: log D < 0; logit: log D - log(1 - D) (Fu et al.,
    2018; DAC's reference implementation), either sign. Without absorbing states a
    positive reward is a bonus per step survived and a negative one a cost, whatever D
    says; with them, ending an episode is scored by D like any other step. constant: 1
    for every pair, absorbing state included; it ignores D (a control for benchmarks).
    """
    if kind == "positive":
        return tf.nn.softplus(logits)
    if kind == "negative":
        return -tf.nn.softplus(-logits)
    if kind == "logit":
        return logits
    if kind == "constant":
        return tf.ones_like(logits)
    raise ValueError(f"unknown reward {kind!r}")


def resolve_reward(kind: str, expert_terminated: np.ndarray) -> str:
    """The reward form ``auto`` stands for, given which expert episodes terminated.

    Absorbing states remove the sign bias of ``positive`` (a bonus per step lived) and
    ``logit`` only once D has learned to score the absorbing state, from one transition
    per termination; until then each keeps a pull in its sign's direction (package
    README, measured on CartPole-v1 and Acrobot-v1). ``auto`` picks the form whose pull
    agrees with the expert: ``logit`` if any expert episode ended in a true termination,
    ``positive`` if every one lasted to its time limit. Other kinds are returned as given.
    """
    if kind != "auto":
        return kind
    return "logit" if bool(np.any(expert_terminated)) else "positive"


def absorbing_return(absorbing_reward: float, gamma: float) -> float:
    """The discounted return of the absorbing state from the step after termination on:
    sum_{k>=1} gamma^k r(s_a, .) = gamma r(s_a, .) / (1 - gamma).

    DAC's TD3 critic learns this value by bootstrapping through the absorbing self-loop
    (s_a -> s_a with reward r(s_a, .)); an on-policy generator has no transitions out of
    s_a to learn it from, but it is known in closed form, so the terminal step's reward
    carries it."""
    return gamma * absorbing_reward / (1.0 - gamma)


class Discriminator(tf.Module):
    """An MLP on (standardized s, a, 1{absorbing}): one-hot a for Discrete spaces.
    Returns logit D."""

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        discrete: bool,
        hidden: tuple[int, ...],
        normalize: bool,
        seed: int,
        head_scale: float = 1.0,
    ) -> None:
        super().__init__(name="discriminator")
        rng = np.random.default_rng([seed, 1])  # its own stream: the policy's init is unchanged
        self.action_dim, self.discrete, self.normalize = action_dim, discrete, normalize
        self.torso = MLP(obs_dim + action_dim + 1, hidden, "tanh", rng, "disc_torso")
        self.head = Dense(self.torso.out_size, 1, head_scale, rng, "disc_head")
        # Input statistics, assigned from a NumPy RunningMeanStd between updates.
        self.obs_mean = tf.Variable(tf.zeros([obs_dim]), trainable=False, name="obs_mean")
        self.obs_var = tf.Variable(tf.ones([obs_dim]), trainable=False, name="obs_var")

    def inputs(self, obs: tf.Tensor, actions: tf.Tensor, absorbing: tf.Tensor) -> tf.Tensor:
        """The vector D reads: standardized observations, the action encoding and the
        absorbing indicator (float, 1 for s_a); absorbing rows are zero but for it."""
        if self.normalize:
            obs = tf.clip_by_value(
                (obs - self.obs_mean) / tf.sqrt(self.obs_var + 1e-8), -10.0, 10.0
            )
        if self.discrete:
            actions = tf.one_hot(actions, self.action_dim)
        flag = absorbing[:, None]
        live = 1.0 - flag
        return tf.concat([obs * live, tf.cast(actions, tf.float32) * live, flag], axis=-1)

    def logits_of_inputs(self, x: tf.Tensor) -> tf.Tensor:
        return self.head(self.torso(x))[:, 0]

    def __call__(
        self, obs: tf.Tensor, actions: tf.Tensor, absorbing: tf.Tensor | None = None
    ) -> tf.Tensor:
        if absorbing is None:
            absorbing = tf.zeros([tf.shape(obs)[0]])
        return self.logits_of_inputs(self.inputs(obs, actions, absorbing))

    def named_variables(self) -> dict[str, tf.Variable]:
        layers = [*self.torso.layers, self.head]
        named = {f"disc/{layer.name}/{p}": getattr(layer, p) for layer in layers for p in "wb"}
        named["disc/obs_mean"], named["disc/obs_var"] = self.obs_mean, self.obs_var
        return named


METRICS = ("loss", "expert_accuracy", "agent_accuracy", "expert_d", "agent_d", "grad_penalty")


class DiscriminatorLearner(tf.Module):
    """Every discriminator step on one rollout inside a single ``tf.function`` call."""

    def __init__(self, disc: Discriminator, config: GAILConfig) -> None:
        super().__init__(name="discriminator_learner")
        self.disc = disc
        self.config = config
        # The form the rewards use: config.reward, with "auto" resolved by the agent once
        # it has read the demonstrations (resolve_reward).
        self.reward_kind = config.reward
        self.variables_ = [
            v for layer in [*disc.torso.layers, disc.head] for v in (layer.w, layer.b)
        ]
        self.optimizer = Adam(self.variables_, name="disc_adam")
        # reduce_retracing: a rollout's number of absorbing transitions varies.
        self.update = tf.function(self._update, reduce_retracing=True)
        self.rewards = tf.function(self._rewards)

    def _rewards(self, obs, actions, absorbing):
        return reward_from_logits(self.disc(obs, actions, absorbing), self.reward_kind)

    def _losses(self, agent_x, expert_x, seed):
        cfg = self.config
        agent_logits = self.disc.logits_of_inputs(agent_x)
        expert_logits = self.disc.logits_of_inputs(expert_x)
        loss = discriminator_loss(
            expert_logits,
            agent_logits,
            absorbing_weights(expert_x, cfg.absorbing_weight),
            absorbing_weights(agent_x, cfg.absorbing_weight),
        )
        all_logits = tf.concat([expert_logits, agent_logits], 0)
        loss -= cfg.disc_ent_coef * bernoulli_entropy(all_logits)
        penalty = tf.constant(0.0)
        if cfg.grad_penalty > 0:
            penalty = gradient_penalty(self.disc.logits_of_inputs, expert_x, agent_x, seed)
            loss += cfg.grad_penalty * penalty
        return {
            "loss": loss,
            "expert_accuracy": tf.reduce_mean(tf.cast(expert_logits > 0, tf.float32)),
            "agent_accuracy": tf.reduce_mean(tf.cast(agent_logits < 0, tf.float32)),
            "expert_d": tf.reduce_mean(tf.sigmoid(expert_logits)),
            "agent_d": tf.reduce_mean(tf.sigmoid(agent_logits)),
            "grad_penalty": penalty,
        }

    def _update(self, agent, expert, lr, seed):
        """disc_epochs passes over the agent's transitions in minibatches, each paired with
        as many expert transitions drawn uniformly with replacement. ``agent`` and
        ``expert`` are (observations, actions, absorbing indicators)."""
        cfg = self.config
        agent_x = self.disc.inputs(*agent)
        expert_x = self.disc.inputs(*expert)
        n = tf.shape(agent_x)[0]
        n_expert = tf.shape(expert_x)[0]
        mb = tf.minimum(cfg.disc_minibatch_size, n)
        sums = {k: tf.constant(0.0) for k in METRICS}
        steps = tf.constant(0.0)
        for epoch in tf.range(cfg.disc_epochs):
            order = tf.argsort(tf.random.stateless_uniform([n], seed=seed + tf.stack([0, epoch])))
            for i in tf.range(n // mb):
                step_seed = seed + tf.stack([1 + epoch, i])
                idx = order[i * mb : (i + 1) * mb]
                expert_idx = tf.random.stateless_uniform(
                    [mb], seed=step_seed, maxval=n_expert, dtype=tf.int32
                )
                with tf.GradientTape() as tape:
                    out = self._losses(
                        tf.gather(agent_x, idx), tf.gather(expert_x, expert_idx), step_seed
                    )
                grads = tape.gradient(out["loss"], self.variables_)
                self.optimizer.apply(grads, lr)
                sums = {k: sums[k] + out[k] for k in METRICS}
                steps += 1.0
        return {k: v / tf.maximum(steps, 1.0) for k, v in sums.items()}


def gradient_penalty(logits_fn, expert_x: tf.Tensor, agent_x: tf.Tensor, seed) -> tf.Tensor:
    """E[(||grad_x logit D(x)|| - 1)^2] at random interpolates of expert and agent inputs
    (Gulrajani et al., 2017), which keeps D smooth between the two distributions."""
    u = tf.random.stateless_uniform([tf.shape(expert_x)[0], 1], seed=seed + tf.stack([7, 7]))
    x = u * expert_x + (1.0 - u) * agent_x
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = logits_fn(x)
    grad = tape.gradient(logits, x)
    norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=-1) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))
