"""Every MPO formula against numbers worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from rl_mpo import losses
from rl_mpo.buffer import NStepWriter


def test_multiplier_is_softplus_plus_epsilon():
    # softplus(0) = log 2; softplus(2) = log(1 + e^2) = 2.126928; at acme's floor -18,
    # softplus(-18) = log(1 + e^-18) = 1.522998e-8, plus the 1e-8 floor = 2.522998e-8.
    assert float(losses.multiplier(tf.constant(0.0))) == pytest.approx(math.log(2) + 1e-8)
    assert float(losses.multiplier(tf.constant(2.0))) == pytest.approx(2.126928, rel=1e-6)
    assert float(losses.multiplier(tf.constant(-18.0))) == pytest.approx(2.522998e-8, rel=1e-5)


def test_e_step_weights_and_temperature_dual_with_sampled_actions():
    # N = 2 samples in B = 1 state, Q = (1, 3), eta = 1, epsilon = 0.1.
    # w = softmax(1, 3) = (e, e^3) / (e + e^3) = (0.119203, 0.880797)
    # g = eta eps + eta log((e + e^3) / 2) = 0.1 + log(22.803867 / 2) = 0.1 + 2.433780 = 2.533780
    # dg/deta = eps + log mean exp(Q/eta) - E_w[Q]/eta = 2.533780 - (0.119203 + 3 * 0.880797)
    #         = 2.533780 - 2.761594 = -0.227814
    q = tf.constant([[1.0], [3.0]])
    eta = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        weights, loss = losses.weights_and_temperature_loss(q, 0.1, eta)
    np.testing.assert_allclose(weights.numpy()[:, 0], [0.119203, 0.880797], atol=1e-6)
    assert float(loss) == pytest.approx(2.533780, abs=1e-5)
    assert float(tape.gradient(loss, eta)) == pytest.approx(-0.227814, abs=1e-5)


def test_dual_is_stable_for_large_q_over_small_temperature():
    # Q/eta = 1e4 would overflow exp; logsumexp keeps g finite: g = eta (eps + max Q/eta + ...).
    q = tf.constant([[1000.0], [1000.0]])
    weights, loss = losses.weights_and_temperature_loss(q, 0.1, tf.constant(0.1))
    # Equal Q: w = (0.5, 0.5); g = 0.1 * (0.1 + log((2 e^10000) / 2)) = 0.01 + 1000 = 1000.01
    np.testing.assert_allclose(weights.numpy()[:, 0], [0.5, 0.5])
    assert float(loss) == pytest.approx(1000.01, rel=1e-6)


def test_e_step_over_all_discrete_actions_uses_the_prior():
    # A = 2 actions, Q = (0, 2), pi_target = (0.75, 0.25), eta = 2, epsilon = 0.1.
    # q(a) ∝ pi(a) exp(Q/eta) = (0.75, 0.25 e) = (0.75, 0.679570), sum 1.429570
    # w = (0.524633, 0.475367); g = 2 (0.1 + log 1.429570) = 2 (0.1 + 0.357374) = 0.914748
    q = tf.constant([[0.0], [2.0]])
    log_prior = tf.math.log(tf.constant([[0.75], [0.25]]))
    weights, loss = losses.weights_and_temperature_loss(q, 0.1, tf.constant(2.0), log_prior)
    np.testing.assert_allclose(weights.numpy()[:, 0], [0.524633, 0.475367], atol=1e-6)
    assert float(loss) == pytest.approx(0.914748, abs=1e-5)


def test_kl_penalty_and_dual_per_dimension():
    # KL over B = 2 states, D = 2 dims: batch mean (0.2, 0.2); alpha = (1, 2); eps = 0.05.
    # penalty = 1 * 0.2 + 2 * 0.2 = 0.6; dual = 1 (0.05 - 0.2) + 2 (0.05 - 0.2) = -0.45
    # d dual / d alpha = eps - mean KL = -0.15 each: dual descent raises both alphas.
    kl = tf.constant([[0.1, 0.3], [0.3, 0.1]])
    alpha = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        penalty, dual = losses.kl_penalty_and_dual_loss(kl, alpha, 0.05)
    assert float(penalty) == pytest.approx(0.6)
    assert float(dual) == pytest.approx(-0.45)
    np.testing.assert_allclose(tape.gradient(dual, alpha).numpy(), [-0.15, -0.15], atol=1e-6)


def test_action_penalty_is_the_distance_outside_the_bounds():
    # (1.5, -2) is (0.5, -1) outside: -sqrt(0.25 + 1) = -1.118034; inside costs nothing.
    costs = losses.action_penalty_costs(tf.constant([[1.5, -2.0], [0.3, 0.2]]))
    np.testing.assert_allclose(costs.numpy(), [-1.118034, 0.0], atol=1e-6)


def _decoupled(full: bool):
    # D = 1, B = 1: target N(0, 1), online N(0.5, 2); actions (0, 1) with weights (0.25, 0.75).
    online_mean = tf.Variable([[0.5]])
    online_std = tf.Variable([[2.0]])
    scale = (lambda s: s[..., None]) if full else (lambda s: s)
    with tf.GradientTape(persistent=True) as tape:
        out = losses.decoupled_gaussian_losses(
            online_mean,
            scale(online_std),
            tf.constant([[0.0]]),
            scale(tf.constant([[1.0]])),
            tf.constant([[[0.0]], [[1.0]]]),
            tf.constant([[0.25], [0.75]]),
            alpha_mean=tf.constant([2.0]),
            alpha_stddev=tf.constant([3.0]),
            epsilon_mean=0.1,
            epsilon_stddev=0.01,
            full=full,
            per_dim_constraining=True,
        )
    return out, tape.gradient(out["kl_penalty"], [online_mean, online_std])


@pytest.mark.parametrize("full", [False, True])
def test_decoupled_m_step_by_hand(full):
    # Mean fitted through N(mu_online, sigma_target) = N(0.5, 1):
    #   log p(0) = log p(1) = -0.918939 - 0.125 = -1.043939 -> loss 1.043939
    # Stddev fitted through N(mu_target, sigma_online) = N(0, 2):
    #   log p(0) = -0.918939 - log 2 = -1.612086, log p(1) = -1.612086 - 1/8 = -1.737086
    #   loss = 0.25 * 1.612086 + 0.75 * 1.737086 = 1.705836
    # KL(N(0,1) || N(0.5,1)) = 0.5^2 / 2 = 0.125
    # KL(N(0,1) || N(0,2)) = log 2 + 1/8 - 1/2 = 0.318147
    # penalty = 2 * 0.125 + 3 * 0.318147 = 1.204442
    # alpha loss = 2 (0.1 - 0.125) + 3 (0.01 - 0.318147) = -0.974442
    out, (d_mean, d_std) = _decoupled(full)
    assert float(out["policy_loss"]) == pytest.approx(1.043939 + 1.705836, abs=1e-5)
    assert float(out["kl_mean"]) == pytest.approx(0.125, abs=1e-6)
    assert float(out["kl_stddev"]) == pytest.approx(0.318147, abs=1e-6)
    assert float(out["kl_penalty"]) == pytest.approx(1.204442, abs=1e-5)
    assert float(out["alpha_loss"]) == pytest.approx(-0.974442, abs=1e-5)
    # Decoupling: the mean's KL sees the *target* std, the std's KL the *target* mean.
    # d/dmu [2 (mu - 0)^2 / (2 * 1^2)] = 2 * 0.5 = 1.0
    # d/dsigma [3 (log sigma + 1 / (2 sigma^2) - 1/2)] = 3 (1/2 - 1/8) = 1.125
    assert float(d_mean[0, 0]) == pytest.approx(1.0, abs=1e-5)
    assert float(d_std[0, 0]) == pytest.approx(1.125, abs=1e-5)


def test_categorical_m_step_by_hand():
    # Online uniform over 2 actions, target (0.75, 0.25), E-step weights (0.6, 0.4).
    # loss = -(0.6 log 0.5 + 0.4 log 0.5) = log 2 = 0.693147
    # KL(target || online) = 0.75 log 1.5 + 0.25 log 0.5 = 0.304099 - 0.173287 = 0.130812
    # penalty = 2 * 0.130812 = 0.261624; dual = 2 (0.01 - 0.130812) = -0.241624
    out = losses.categorical_losses(
        tf.constant([[0.0, 0.0]]),
        tf.math.log(tf.constant([[0.75, 0.25]])),
        tf.constant([[0.6], [0.4]]),
        tf.constant([2.0]),
        0.01,
    )
    assert float(out["policy_loss"]) == pytest.approx(0.693147, abs=1e-5)
    assert float(out["kl_mean"]) == pytest.approx(0.130812, abs=1e-5)
    assert float(out["kl_penalty"]) == pytest.approx(0.261624, abs=1e-5)
    assert float(out["alpha_loss"]) == pytest.approx(-0.241624, abs=1e-5)


# Retrace critic targets: B sequences x_0 a_0 .. x_3 of L = 3 steps, gamma = 0.9.
# E_pi Q_target at x_1..x_3 = (5, 6, 7); Q_target(x_s, a_s) at s = 1, 2 = (6, 7).
GAMMA = 0.9
EXPECTED_Q = [5.0, 6.0, 7.0]
Q_TAKEN = [6.0, 7.0]


def retrace(rewards, discounts, mask, log_pi, log_mu, lam, expected_q=EXPECTED_Q):
    batch = [np.asarray(x, np.float64)[None] for x in (rewards, discounts, mask)]
    return losses.retrace_critic_targets(
        *batch,
        tf.constant([Q_TAKEN], tf.float64),
        tf.constant([expected_q], tf.float64),
        tf.constant([log_pi], tf.float64),
        tf.constant([log_mu], tf.float64),
        lam,
    ).numpy()[0]


def test_retrace_critic_targets_three_steps_by_hand():
    # lam = 0.8; pi(a_1|x_1) = 0.3, mu = 0.48 -> c_1 = 0.8 * 0.625 = 0.5;
    # pi(a_2|x_2) = 0.9, mu = 0.6 -> c_2 = 0.8 * min(1, 1.5) = 0.8 (mu(a_0) is never read).
    # Qret_2 = 3 + 0.9 * 7                          = 9.3
    # Qret_1 = 2 + 0.9 * (6 + 0.8 * (9.3 - 7))      = 2 + 0.9 * 7.84  = 9.056
    # Qret_0 = 1 + 0.9 * (5 + 0.5 * (9.056 - 6))    = 1 + 0.9 * 6.528 = 6.8752
    log_pi, log_mu = np.log([0.3, 0.9]), np.log([0.1, 0.48, 0.6])
    out = retrace([1, 2, 3], [GAMMA] * 3, [1, 1, 1], log_pi, log_mu, 0.8)
    np.testing.assert_allclose(out, [6.8752, 9.056, 9.3], rtol=1e-6)


def test_retrace_critic_targets_stop_at_episode_ends():
    # The episode ends after step 1, so step 2 is padding (mask 0, r = d = 0) and the
    # trace c_2 is cut. Truncated: Qret_1 = 2 + 0.9 * E_2 = 2 + 5.4 = 7.4,
    # Qret_0 = 1 + 0.9 * (5 + 0.5 * (7.4 - 6)) = 1 + 0.9 * 5.7 = 6.13.
    # Terminated (d_1 = 0): Qret_1 = 2, Qret_0 = 1 + 0.9 * (5 + 0.5 * (2 - 6)) = 3.7.
    log_pi, log_mu = np.log([0.3, 0.9]), np.log([0.1, 0.48, 0.6])
    truncated = retrace([1, 2, 0], [GAMMA, GAMMA, 0], [1, 1, 0], log_pi, log_mu, 0.8)
    terminated = retrace([1, 2, 0], [GAMMA, 0, 0], [1, 1, 0], log_pi, log_mu, 0.8)
    np.testing.assert_allclose(truncated[:2], [6.13, 7.4], rtol=1e-6)
    np.testing.assert_allclose(terminated[:2], [3.7, 2.0], rtol=1e-6)


def test_retrace_with_zero_lambda_is_one_step_expected_sarsa():
    # c = 0: Qret_t = r_t + gamma E_pi Q(x_{t+1}, .) = (1 + 0.9*5, 2 + 0.9*6, 3 + 0.9*7)
    log_pi, log_mu = np.log([0.3, 0.9]), np.log([0.1, 0.48, 0.6])
    out = retrace([1, 2, 3], [GAMMA] * 3, [1, 1, 1], log_pi, log_mu, 0.0)
    np.testing.assert_allclose(out, [5.5, 7.4, 9.3], rtol=1e-6)


def test_on_policy_full_traces_give_the_n_step_target():
    # pi = mu and lam = 1 make c = 1; where E_pi Q_target(x_s, .) = Q_target(x_s, a_s)
    # (E = (6, 7, 8)) the corrections cancel and Qret_0 is the n-step target of the
    # default critic: R_0 + d_0 E_3 with R_0, d_0 from NStepWriter on the same 3 steps,
    # R_0 = 1 + 0.9*2 + 0.81*3 = 5.23, d_0 = 0.729: 5.23 + 0.729 * 8 = 11.062.
    writer = NStepWriter(1, 3, GAMMA, 1, (), np.dtype(np.int64), 3)
    for t, r in enumerate([1.0, 2.0, 3.0]):
        writer.add([[t]], [0], [0.0], [r], [False], [False], [[t + 1]])
    item = writer.flush()
    n_step_target = item["rewards"][0, 0] + item["discounts"][0, 0] * 8.0
    log_probs = np.log([0.3, 0.9])
    out = retrace(
        [1, 2, 3], [GAMMA] * 3, [1, 1, 1], log_probs, [0.0, *log_probs], 1.0, [6.0, 7.0, 8.0]
    )
    assert out[0] == pytest.approx(11.062, rel=1e-6)
    assert out[0] == pytest.approx(n_step_target, rel=1e-6)
