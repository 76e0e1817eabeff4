"""SAC, HER's third learner for Box actions (Haarnoja et al., 2018): formulas by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from rl_her import HER, HERConfig
from rl_her.sac import (
    GaussianActor,
    SACLearner,
    sac_actor_numpy,
    soft_critic_target,
    squashed_gaussian_log_prob,
)

from rl_core.config import apply_overrides


def small(**overrides) -> HERConfig:
    base = {
        "env": "rl/PointMassGoal-v0",
        "learner": "sac",
        "num_envs": 2,
        "batch_size": 16,
        "learning_starts": 32,
        "hidden_sizes": [16],
        "device": "cpu",
        "log_every": 32,
        "xla": False,
    }
    return apply_overrides(HERConfig(), {**base, **overrides})


# ------------------------------------------------------------------ the squashed Gaussian


def test_squashed_log_prob_matches_the_change_of_variables_by_hand():
    # Dim 1: u = 1, mean 0.5, std 2: log N = -0.5 (0.25)^2 - ln 2 - 0.5 ln 2pi = -1.643336;
    #   log(1 - tanh(1)^2) = ln 0.419974 = -0.867562; contribution -0.775774.
    # Dim 2: u = -3, mean 0, std 1: log N = -4.5 - 0.918939 = -5.418939;
    #   log(1 - tanh(3)^2) = ln 0.0098660 = -4.618657; contribution -0.800282.
    log_prob = squashed_gaussian_log_prob(
        tf.constant([[0.5, 0.0]]), tf.constant([[math.log(2.0), 0.0]]), tf.constant([[1.0, -3.0]])
    )
    np.testing.assert_allclose(log_prob, [-0.775774 - 0.800282], atol=1e-5)


def test_squashed_log_prob_stays_finite_where_tanh_rounds_to_one():
    # Naively log(1 - tanh(20)^2) = log(0) in float32; the exact value is
    # 2 (ln 2 - 20 - softplus(-40)) = -38.6137, so log pi = log N(20; 20, 1) + 38.6137.
    log_prob = squashed_gaussian_log_prob(
        tf.constant([[20.0]]), tf.constant([[0.0]]), tf.constant([[20.0]])
    )
    np.testing.assert_allclose(log_prob, [-0.918939 + 38.613706], rtol=1e-5)


def test_squashed_density_integrates_to_one_over_the_action_interval():
    # Without the tanh correction the density of a = tanh(u) would not integrate to 1.
    a = np.linspace(-1.0 + 1e-7, 1.0 - 1e-7, 400_001)
    u = np.arctanh(a)
    mean, log_std = np.full((len(a), 1), 0.3), np.full((len(a), 1), math.log(0.8))
    log_prob = squashed_gaussian_log_prob(tf.constant(mean), tf.constant(log_std), u[:, None])
    total = np.trapezoid(np.exp(log_prob.numpy()), a)
    assert abs(total - 1.0) < 1e-3


def test_actor_samples_are_reparameterized_and_the_numpy_twin_agrees():
    actor = GaussianActor(3, 2, (8,), seed=0, name="actor")
    x = tf.random.stateless_normal([5, 3], [0, 1])
    noise = tf.random.stateless_normal([5, 2], [0, 2])
    action, log_prob = actor.sample(x, noise)
    mean, log_std = actor.mean_and_log_std(x)
    u = mean + tf.exp(log_std) * noise
    np.testing.assert_allclose(action, np.tanh(u), rtol=1e-5)
    np.testing.assert_allclose(log_prob, squashed_gaussian_log_prob(mean, log_std, u), rtol=1e-5)
    weights = actor.mlp.numpy_weights()
    np.testing.assert_allclose(
        sac_actor_numpy(weights, x.numpy(), noise.numpy()), action, atol=1e-5
    )
    np.testing.assert_allclose(sac_actor_numpy(weights, x.numpy()), np.tanh(mean), atol=1e-5)


def test_log_std_is_clipped_to_the_papers_range():
    actor = GaussianActor(1, 1, (), seed=0, name="actor")
    actor.mlp.layers[0].w.assign([[0.0, 1.0]])  # log std = 100 x
    _, high = actor.mean_and_log_std(tf.constant([[100.0]]))
    _, low = actor.mean_and_log_std(tf.constant([[-100.0]]))
    assert (float(high[0, 0]), float(low[0, 0])) == (2.0, -20.0)


# ------------------------------------------------------------------ targets and losses


def test_soft_target_subtracts_the_entropy_term_and_clips():
    # y = r + d (min Q' - alpha log pi): (-1 + 0.5 (-2 - 0.2 (-1)), 0.5 + 0, -60 + (-1 - 0.1)).
    args = [tf.constant(v) for v in ([-1.0, 0.5, -60.0], [0.5, 0.0, 1.0], [-2.0, -3.0, -1.0])]
    log_prob = tf.constant([-1.0, 2.0, 0.5])
    y = soft_critic_target(*args, log_prob, 0.2, -np.inf, np.inf)
    np.testing.assert_allclose(y, [-1.9, 0.5, -61.1], rtol=1e-6)
    y = soft_critic_target(*args, log_prob, 0.2, -20.0, 0.0)
    np.testing.assert_allclose(y, [-1.9, 0.0, -20.0], rtol=1e-6)


class FixedPolicy:
    """A policy whose samples are given: actions and their log-probabilities."""

    def __init__(self, actions, log_probs):
        self.actions, self.log_probs = tf.constant(actions), tf.constant(log_probs)

    def sample(self, x, noise):
        return self.actions, self.log_probs


def hand_made(**overrides) -> SACLearner:
    learner = SACLearner(4, 1, small(gamma=0.98, **overrides))
    learner.critic_targets = [lambda s, a: 2.0 * a[:, 0] - 3.0, lambda s, a: -a[:, 0] - 1.0]
    return learner


def test_critic_target_uses_the_twin_minimum_of_the_target_critics_at_a_policy_sample():
    learner = hand_made()
    learner.actor = FixedPolicy([[0.8]] * 3, [-1.0, 2.0, 0.5])
    # a' = 0.8: Q1' = -1.4, Q2' = -1.8, min -1.8; alpha 0.2:
    # y = r + d (-1.8 - 0.2 log pi) = (-1 + 0.5 (-1.6), 0.5 + 0, -60 + (-1.9)) = (-1.8, 0.5, -61.9)
    args = (tf.constant([-1.0, 0.5, -60.0]), tf.zeros([3, 4]), tf.constant([0.5, 0.0, 1.0]))
    noise = tf.zeros([3, 1])
    y = learner.critic_target(*args, 0.2, noise)
    np.testing.assert_allclose(y, [-1.8, 0.0, -50.0], rtol=1e-6)  # clipped to [-50, 0]
    y = hand_made(clip_target=False)
    y.actor = learner.actor
    np.testing.assert_allclose(y.critic_target(*args, 0.2, noise), [-1.8, 0.5, -61.9], rtol=1e-6)


def test_actor_loss_is_alpha_log_pi_minus_the_twin_minimum_plus_the_action_penalty():
    learner = hand_made(action_l2=1.0)
    learner.actor = FixedPolicy([[0.0], [0.5]], [-1.0, 0.4])
    # Q1 = 3a + 1 = (1, 2.5), Q2 = a + 2 = (2, 2.5): min (1, 2.5); alpha 0.5:
    # mean(0.5 (-1) - 1, 0.5 (0.4) - 2.5) + mean(0, 0.25) = -1.9 + 0.125 = -1.775
    learner.critics = [lambda s, a: 3.0 * a[:, 0] + 1.0, lambda s, a: a[:, 0] + 2.0]
    loss, log_prob = learner.actor_loss(tf.zeros([2, 4]), 0.5, tf.zeros([2, 1]))
    np.testing.assert_allclose(loss, -1.775, rtol=1e-6)
    np.testing.assert_allclose(log_prob, [-1.0, 0.4])


def test_temperature_falls_when_the_entropy_is_above_its_target():
    learner = SACLearner(4, 1, small(alpha_init=0.5))
    assert learner.target_entropy == -1.0  # -dim(A)
    log_prob = tf.constant([-1.0, -3.0])  # entropy 2 > target -(-1)... i.e. -log pi above -1
    # loss = -log(alpha) mean(log pi + target) = -ln 0.5 * (-3) = 3 ln 0.5
    np.testing.assert_allclose(learner.alpha_loss(log_prob), 3.0 * math.log(0.5), rtol=1e-6)
    with tf.GradientTape() as tape:
        loss = learner.alpha_loss(log_prob)
    (grad,) = tape.gradient(loss, [learner.log_alpha])
    assert float(grad) == pytest.approx(3.0)  # descent lowers alpha
    assert SACLearner(4, 3, small(target_entropy=-0.5)).target_entropy == -0.5


def test_one_update_moves_critics_actor_and_temperature_and_targets_per_interval():
    learner = SACLearner(4, 1, small(tau=0.5, target_update_interval=2))
    before = [v.numpy() for v in learner.critic_target_vars]
    actor_before = [v.numpy() for v in learner.actor.trainable_variables]
    k, b = 1, 8
    z = tf.zeros([k, b])
    batch = (tf.random.normal([k, b, 4]), tf.random.uniform([k, b, 1], -1, 1), z - 1.0,
             tf.random.normal([k, b, 4]), z + 0.9, z + 1.0)  # fmt: skip
    learner.update(*batch, tf.constant([0, 0], tf.int32))
    for old, var in zip(before, learner.critic_target_vars, strict=True):
        np.testing.assert_array_equal(var.numpy(), old)  # 1 step < interval 2
    assert float(learner.log_alpha.numpy()) != 0.0
    assert any(
        not np.array_equal(v.numpy(), o)
        for o, v in zip(actor_before, learner.actor.trainable_variables, strict=True)
    )
    _, metrics, _ = learner.update(*batch, tf.constant([0, 1], tf.int32))
    assert any(
        not np.array_equal(var.numpy(), old)
        for old, var in zip(before, learner.critic_target_vars, strict=True)
    )
    assert {"critic_loss", "actor_loss", "q_values", "entropy", "alpha"} <= set(metrics)
    assert learner.gradient_steps.numpy() == 2


# ------------------------------------------------------------------ the agent


def test_her_with_sac_learns_acts_within_bounds_and_round_trips(tmp_path):
    agent = HER(small(n_step=2)).learn(160)
    assert agent.kind == "sac" and len(agent.learner.critics) == 2
    assert int(agent.learner.gradient_steps.numpy()) > 0
    keys = ("observation", "achieved_goal", "desired_goal")
    obs = {k: np.full((3, 2), 0.3, np.float32) for k in keys}
    greedy = agent.predict(obs)
    assert greedy.shape == (3, 2) and np.all(np.abs(greedy) <= 1.0)
    np.testing.assert_array_equal(greedy, agent.predict(obs))  # deterministic
    sampled = agent.predict(obs, deterministic=False)
    assert np.all(np.abs(sampled) <= 1.0) and not np.allclose(sampled, greedy)
    agent.save(tmp_path / "sac")
    again = HER.load(tmp_path / "sac")
    np.testing.assert_array_equal(again.predict(obs), greedy)
    assert float(again.learner.log_alpha.numpy()) == float(agent.learner.log_alpha.numpy())
