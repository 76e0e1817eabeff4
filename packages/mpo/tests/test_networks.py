"""Networks: the NumPy acting path equals TensorFlow's; the Cholesky head; Adam by hand."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from rl_mpo.learning import Adam
from rl_mpo.losses import gaussian
from rl_mpo.networks import Critic, NumpyPolicy, Policy


@pytest.mark.parametrize("kind", ["diagonal", "full", "categorical"])
def test_numpy_policy_matches_tensorflow(kind):
    rng = np.random.default_rng(0)
    policy = Policy(5, 3, kind, (16, 8), 0.7, 1e-6, rng)
    # Perturb every weight so the check is not on a near-constant network.
    for v in policy.trainable_variables:
        v.assign(v + rng.normal(0, 0.3, v.shape).astype(np.float32))
    obs = rng.normal(size=(4, 5)).astype(np.float32)
    out, scale = policy(tf.constant(obs))
    np_out, np_scale = NumpyPolicy(policy).forward(obs)
    np.testing.assert_allclose(np_out, out.numpy(), rtol=1e-4, atol=1e-5)
    if kind != "categorical":
        np.testing.assert_allclose(np_scale, scale.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["diagonal", "full", "categorical"])
def test_behaviour_log_probs_match_tensorflow_probability(kind):
    # The log mu(a|s) stored for Retrace, against TFP's log_prob of the same actions.
    rng = np.random.default_rng(3)
    policy = Policy(5, 3, kind, (16,), 0.7, 1e-6, rng)
    for v in policy.trainable_variables:
        v.assign(v + rng.normal(0, 0.3, v.shape).astype(np.float32))
    obs = rng.normal(size=(6, 5)).astype(np.float32)
    actions, log_probs = NumpyPolicy(policy).sample(obs, np.random.default_rng(0))
    out, scale = policy(tf.constant(obs))
    if kind == "categorical":
        expected = tf.gather(tf.nn.log_softmax(out), actions, batch_dims=1)
    else:
        expected = gaussian(out, scale, kind == "full").log_prob(actions)
    np.testing.assert_allclose(log_probs, expected.numpy(), rtol=1e-4, atol=1e-4)


def test_full_covariance_head_is_a_cholesky_factor_starting_at_init_scale():
    policy = Policy(4, 3, "full", (16,), 0.7, 1e-6, np.random.default_rng(1))
    _, tril = policy(tf.zeros([2, 4]))
    tril = tril.numpy()
    np.testing.assert_array_equal(np.triu(tril, 1), 0.0)
    # softplus(~0) * 0.7 / log 2 = 0.7 on the diagonal (the raw outputs start near 0).
    np.testing.assert_allclose(np.diagonal(tril, axis1=1, axis2=2), 0.7, atol=0.02)


def test_numpy_sampling_follows_the_full_covariance():
    policy = Policy(2, 2, "full", (8,), 0.7, 1e-6, np.random.default_rng(2))
    policy.scale_head.b.assign([0.5, -1.0, 0.2])  # entries (0,0), (1,0), (1,1)
    acting = NumpyPolicy(policy)
    obs = np.zeros((20_000, 2), np.float32)
    samples = acting.act(obs, np.random.default_rng(0), deterministic=False)
    _, tril = acting.forward(obs[:1])
    np.testing.assert_allclose(np.cov(samples.T), tril[0] @ tril[0].T, atol=0.03)


def test_continuous_critic_clips_actions_and_discrete_critic_scores_every_action():
    rng = np.random.default_rng(0)
    critic = Critic(3, 2, False, (8,), rng)
    obs = tf.ones([1, 3])
    assert float(critic(obs, tf.constant([[5.0, -7.0]]))[0]) == pytest.approx(
        float(critic(obs, tf.constant([[1.0, -1.0]]))[0])
    )
    assert Critic(3, 4, True, (8,), rng)(obs).shape == (1, 4)


def test_adam_matches_the_textbook_update_by_hand():
    # g = 0.5, lr = 0.1: m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25;
    # step = 0.1 * 0.5 / (sqrt(0.25) + 1e-8) = 0.1, so 1.0 -> 0.9.
    var = tf.Variable([1.0])
    Adam([var], lr=0.1).apply([tf.constant([0.5])])
    np.testing.assert_allclose(var.numpy(), [0.9], atol=1e-6)
