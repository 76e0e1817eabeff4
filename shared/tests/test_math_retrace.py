"""Retrace targets and traces against hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from rl_core.math.rescaling import h, h_inv
from rl_core.math.retrace import retrace_targets, retrace_traces, retrace_traces_from_log_probs

GAMMA = 0.9

# A 3-transition sequence. Per-step: r_t, d_t = gamma*(1 - terminated_t).
# Per-state (index 0..3): q_s = Q(x_s, a_s), e_s = E_pi Q(x_s, .), c_s (c_0 is unused).
REWARDS = np.array([1.0, 2.0, 3.0])
DISCOUNTS = np.array([GAMMA, GAMMA, GAMMA])
Q_TAKEN = np.array([5.0, 6.0, 7.0, 8.0])
EXPECTED_Q = np.array([4.0, 5.0, 6.0, 7.0])
TRACES = np.array([0.9, 0.5, 0.8, 1.0])

# Qret_2 = r2 + d2*e3                            = 3 + 0.9*7                = 9.3
# Qret_1 = r1 + d1*(e2 + c2*(Qret_2 - q2))       = 2 + 0.9*(6 + 0.8*2.3)    = 2 + 0.9*7.84 = 9.056
# Qret_0 = r0 + d0*(e1 + c1*(Qret_1 - q1))       = 1 + 0.9*(5 + 0.5*3.056)  = 1 + 0.9*6.528 = 6.8752
HAND_TARGETS = [6.8752, 9.056, 9.3]


def test_three_step_example_by_hand() -> None:
    out = retrace_targets(REWARDS, DISCOUNTS, Q_TAKEN, EXPECTED_Q, TRACES)
    assert out.shape == (3,)
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), HAND_TARGETS, rtol=1e-12)


def test_termination_cuts_bootstrap_and_trace() -> None:
    # Terminated at t=1 (d1 = 0): Qret_1 = r1 = 2;
    # Qret_0 = 1 + 0.9*(5 + 0.5*(2 - 6)) = 1 + 0.9*3 = 3.7; Qret_2 unchanged = 9.3
    discounts = np.array([GAMMA, 0.0, GAMMA])
    out = retrace_targets(REWARDS, discounts, Q_TAKEN, EXPECTED_Q, TRACES)
    np.testing.assert_allclose(out.numpy(), [3.7, 2.0, 9.3], rtol=1e-12)


def test_zero_traces_give_one_step_expected_sarsa() -> None:
    # c = 0: Qret_t = r_t + d_t*e_{t+1} = [1 + 0.9*5, 2 + 0.9*6, 3 + 0.9*7]
    out = retrace_targets(REWARDS, DISCOUNTS, Q_TAKEN, EXPECTED_Q, np.zeros(4))
    np.testing.assert_allclose(out.numpy(), [5.5, 7.4, 9.3], rtol=1e-12)


def test_on_policy_full_traces_give_n_step_return() -> None:
    # pi = mu and lambda = 1 make every c_s = 1; with E_pi Q = Q(x, a) (e.g. a greedy pi
    # that took a_s) the corrections cancel and Qret_t is the n-step return to x_3:
    #   Qret_2 = 3 + 0.9*8                           = 10.2
    #   Qret_1 = 2 + 0.9*3 + 0.81*8                  = 11.18
    #   Qret_0 = 1 + 0.9*2 + 0.81*3 + 0.729*8        = 11.062
    probs = np.array([0.3, 0.6, 0.25, 1.0])
    traces = retrace_traces(probs, probs, 1.0)
    np.testing.assert_allclose(traces.numpy(), np.ones(4))
    out = retrace_targets(REWARDS, DISCOUNTS, Q_TAKEN, Q_TAKEN, traces)
    np.testing.assert_allclose(out.numpy(), [11.062, 11.18, 10.2], rtol=1e-12)


def test_full_traces_match_expanded_sum() -> None:
    # With c = 1 the recursion unrolls to
    #   Qret_t = sum_{s=t}^{T-1} gamma^{s-t} [r_s + gamma*(e_{s+1} - q_{s+1})] + gamma^{T-t} q_T
    # (the TD-like corrections are exact sums, no recursion), checked on random data.
    rng = np.random.default_rng(1)
    steps = 6
    r = rng.normal(size=steps)
    q = rng.normal(size=steps + 1)
    e = rng.normal(size=steps + 1)
    expanded = [
        sum(GAMMA ** (s - t) * (r[s] + GAMMA * (e[s + 1] - q[s + 1])) for s in range(t, steps))
        + GAMMA ** (steps - t) * q[steps]
        for t in range(steps)
    ]
    out = retrace_targets(r, np.full(steps, GAMMA), q, e, np.ones(steps + 1))
    np.testing.assert_allclose(out.numpy(), expanded, rtol=1e-10)


def test_traces_by_hand() -> None:
    # c = 0.95 * min(1, pi/mu): [0.95*0.2/0.4, 0.95*min(1, 1), 0.95*min(1, 3)] = [0.475, 0.95, 0.95]
    traces = retrace_traces([0.2, 0.5, 0.9], [0.4, 0.5, 0.3], 0.95)
    np.testing.assert_allclose(traces.numpy(), [0.475, 0.95, 0.95], rtol=1e-6)
    with pytest.raises(ValueError, match="lam"):
        retrace_traces([0.2], [0.4], 1.5)


def test_traces_from_log_probs_by_hand() -> None:
    # The same three ratios as above in log space, plus log-densities whose ratio
    # exp(200 - 10) would overflow float32: c = 0.95 * min(1, exp(log_pi - log_mu)).
    log_pi = [*np.log([0.2, 0.5, 0.9]).tolist(), 200.0, -300.0]
    log_mu = [*np.log([0.4, 0.5, 0.3]).tolist(), 10.0, -290.0]
    traces = retrace_traces_from_log_probs(tf.constant(log_pi, tf.float32), log_mu, 0.95)
    # exp(-300 + 290) = exp(-10) = 4.53999e-5, times 0.95 = 4.31299e-5
    np.testing.assert_allclose(traces.numpy(), [0.475, 0.95, 0.95, 0.95, 4.31299e-5], rtol=1e-5)
    with pytest.raises(ValueError, match="lam"):
        retrace_traces_from_log_probs([0.0], [0.0], -0.1)


def test_batch_dimension_and_tf_function() -> None:
    # Column 0 is the hand example, column 1 the terminated-at-1 variant.
    stack = lambda a, b: tf.constant(np.stack([a, b], axis=1), tf.float32)  # noqa: E731
    args = (
        stack(REWARDS, REWARDS),
        stack(DISCOUNTS, [GAMMA, 0.0, GAMMA]),
        stack(Q_TAKEN, Q_TAKEN),
        stack(EXPECTED_Q, EXPECTED_Q),
        stack(TRACES, TRACES),
    )
    out = tf.function(retrace_targets)(*args)
    assert out.shape == (3, 2)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), np.stack([HAND_TARGETS, [3.7, 2.0, 9.3]], 1), rtol=1e-6)


def test_unknown_time_length_inside_tf_function() -> None:
    spec = tf.TensorSpec([None], tf.float64)
    fn = tf.function(retrace_targets, input_signature=[spec] * 5)
    out = fn(REWARDS, DISCOUNTS, Q_TAKEN, EXPECTED_Q, TRACES)
    np.testing.assert_allclose(out.numpy(), HAND_TARGETS, rtol=1e-12)


def test_transform_runs_recursion_in_raw_space() -> None:
    # Network outputs live in h-space; expected_q is passed already in raw space.
    # The recursion on raw values is the hand example, so the result is h(HAND_TARGETS).
    out = retrace_targets(REWARDS, DISCOUNTS, h(Q_TAKEN), EXPECTED_Q, TRACES, transform=(h, h_inv))
    np.testing.assert_allclose(out.numpy(), h(np.array(HAND_TARGETS)).numpy(), rtol=1e-10)
    # h(6.8752) = sqrt(7.8752) - 1 + 0.0068752 ≈ 1.8131
    assert out.numpy()[0] == pytest.approx(np.sqrt(7.8752) - 1 + 0.0068752, rel=1e-10)


def test_targets_carry_no_gradient() -> None:
    q = tf.Variable(Q_TAKEN)
    with tf.GradientTape() as tape:
        out = retrace_targets(REWARDS, DISCOUNTS, q, EXPECTED_Q, TRACES)
        loss = tf.reduce_sum(out)
    assert tape.gradient(loss, q) is None


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="T \\+ 1"):
        retrace_targets(REWARDS, DISCOUNTS, Q_TAKEN[:3], EXPECTED_Q, TRACES)
    with pytest.raises(ValueError, match="discounts"):
        retrace_targets(REWARDS, DISCOUNTS[:2], Q_TAKEN, EXPECTED_Q, TRACES)
