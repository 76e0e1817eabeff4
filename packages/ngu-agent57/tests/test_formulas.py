"""Every formula of NGU / Agent57 / R2D2 against a hand-computed value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from rl_ngu_agent57.evaluator import Evaluator
from rl_ngu_agent57.learning import (
    clip_per_network,
    heads_td,
    mix_q,
    mixed_td,
    n_step_targets,
    novelty_masks,
    sequence_priorities,
    transformed_retrace,
)
from rl_ngu_agent57.meta import SlidingWindowUCB, SlotBandits
from rl_ngu_agent57.novelty import EpisodicMemory, LifelongNovelty, episodic_rewards
from rl_ngu_agent57.schedules import actor_epsilons, agent57_gammas, ngu_betas, ngu_gammas

from rl_core.math import h, h_inv

# ------------------------------------------------------------------ episodic novelty


def test_kernel_and_pseudo_count_by_hand():
    # d_m^2 = 2, xi = 0.008, eps = 1e-4, c = 1e-3, s_m = 8; neighbours d^2 = (0, 2, 4):
    #   d_n = (0, 1, 2) - 0.008, clipped at 0 -> (0, 0.992, 1.992)
    #   K = eps / (d_n + eps) -> (1, 1e-4/0.9921, 1e-4/1.9921) = (1, 1.00796e-4, 5.01983e-5)
    #   s = sqrt(1.000150978) + 1e-3 = 1.000075486 + 0.001 = 1.001075486
    #   r = 1 / s = 0.998925669
    d2 = np.array([[0.0, 2.0, 4.0]])
    r = episodic_rewards(d2, np.ones_like(d2, bool), 2.0, 1e-4, 0.008, 1e-3, 8.0)
    k = 1 + 1e-4 / 0.9921 + 1e-4 / 1.9921
    assert r[0] == pytest.approx(1 / (math.sqrt(k) + 1e-3), rel=1e-9)
    assert r[0] == pytest.approx(0.998925669, rel=1e-6)


def test_similarity_cap_gives_zero_reward():
    # 65 neighbours at distance 0: K = 1 each, s = sqrt(65) + c = 8.0633 > 8 -> r = 0;
    # 63 of them: s = sqrt(63) + c = 7.9383 <= 8 -> r = 1 / 7.9383.
    assert episodic_rewards(np.zeros((1, 65)), np.ones((1, 65), bool), 1.0)[0] == 0.0
    r = episodic_rewards(np.zeros((1, 63)), np.ones((1, 63), bool), 1.0)[0]
    assert r == pytest.approx(1 / (math.sqrt(63) + 1e-3))


def test_far_neighbours_give_about_one_over_c():
    # Everything far away: K ~ 0 so r ~ 1 / c = 1000 (the paper's largest episodic reward).
    r = episodic_rewards(np.full((1, 10), 1e9), np.ones((1, 10), bool), 1.0)[0]
    assert r == pytest.approx(1 / (math.sqrt(10 * 1e-4 / 1e9) + 1e-3), rel=1e-6)


def test_episodic_memory_knn_running_mean_and_reset():
    memory = EpisodicMemory(num_slots=2, capacity=8, embedding_size=1, num_neighbors=2)
    slots = np.array([0, 1])
    memory.add(slots, np.array([[0.0], [10.0]]))
    memory.add(slots, np.array([[1.0], [10.0]]))
    memory.add(np.array([0]), np.array([[3.0]]))
    # slot 0 holds {0, 1, 3}, query 2: squared distances (4, 1, 1) -> 2-NN (1, 1);
    # slot 1 holds {10, 10}, query 10: (0, 0).
    # d_m^2 = mean of the four k-NN distances (1, 1, 0, 0) = 0.5.
    # slot 0: d_n = 1/0.5 - 0.008 = 1.992 twice: K = 1e-4/1.9921 each,
    #   r = 1 / (sqrt(2 * 5.01983e-5) + 1e-3) = 1 / (0.0100197 + 0.001) = 90.7463
    # slot 1: d_n = 0 -> K = 1 twice, r = 1 / (sqrt(2) + 1e-3)
    r = memory.query_and_add(slots, np.array([[2.0], [10.0]]))
    assert memory.sq_distance_stats.mean == pytest.approx(0.5)
    assert r[0] == pytest.approx(1 / (math.sqrt(2 * 1e-4 / 1.9921) + 1e-3), rel=1e-6)
    assert r[1] == pytest.approx(1 / (math.sqrt(2) + 1e-3), rel=1e-6)
    assert list(memory.count) == [4, 3]  # the queries were stored
    memory.reset(np.array([0]))
    assert list(memory.count) == [0, 3]


# ------------------------------------------------------------------ lifelong novelty


def test_rnd_normalisation_and_clip():
    # errors (1, 2, 3): mu = 2, sigma = sqrt(2/3) = 0.816497 (the first batch's own
    # statistics: the exponential average is bias-corrected)
    # alpha = 1 + (e - 2) / 0.816497 = (-0.224745, 1, 2.224745); clip to [1, L = 5]
    novelty = LifelongNovelty(max_scale=5.0, stats_decay=0.5)
    alpha = novelty.alpha(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(alpha, [-0.224745, 1.0, 2.224745], rtol=1e-5)
    # Then (11) with decay 0.5: m1 = 0.5*(0.5*2) + 0.5*11 = 6, m2 = 0.5*(0.5*14/3) + 0.5*121
    # = 61.6667; bias correction 1 - 0.5^2 = 0.75: mean 8, E[x^2] 82.2222, var 18.2222,
    # sigma 4.268749; alpha(11) = 1 + 3 / 4.268749 = 1.702781
    assert novelty.modulator(np.array([11.0]))[0] == pytest.approx(1.702781, rel=1e-5)
    assert novelty.error_stats.mean == pytest.approx(8.0)
    big = LifelongNovelty(max_scale=2.0)
    big.alpha(np.zeros(99))
    assert big.modulator(np.array([1e6]), update_stats=False)[0] == 2.0  # capped at L
    low = LifelongNovelty()
    low.alpha(np.array([5.0, 7.0]))
    assert low.modulator(np.array([0.0]), update_stats=False)[0] == 1.0  # floored at 1


# ------------------------------------------------------------------ schedules


def test_ngu_beta_schedule():
    # N = 4, beta = 0.3: beta_0 = 0, beta_3 = 0.3,
    # beta_1 = 0.3 sigmoid(10 (2 - 2) / 2) = 0.15, beta_2 = 0.3 sigmoid(10) = 0.2999864
    np.testing.assert_allclose(ngu_betas(4, 0.3), [0.0, 0.15, 0.2999864, 0.3], rtol=1e-6)
    assert list(ngu_betas(1, 0.3)) == [0.3]  # NGU(N=1): the exploratory policy
    assert list(ngu_betas(2, 0.3)) == [0.0, 0.3]


def test_ngu_gamma_schedule():
    # N = 3: gamma_1 = 1 - exp((log 0.003 + log 0.01) / 2) = 1 - sqrt(3e-5) = 0.99452277
    np.testing.assert_allclose(ngu_gammas(3, 0.997, 0.99), [0.997, 0.99452277, 0.99], rtol=1e-8)


def test_agent57_gamma_schedule():
    g = agent57_gammas(12)
    assert g[0] == 0.9999  # j = 0 is gamma0
    # j = 3: sigmoid(0) = 0.5 -> 0.997 + 0.5 * 0.0029 = 0.99845
    assert g[3] == pytest.approx(0.99845)
    # j = 1: 0.997 + 0.0029 sigmoid(10 (2 - 6) / 6) = 0.997 + 0.0029 * 0.00127101 = 0.99700369
    assert g[1] == pytest.approx(0.99700369, abs=1e-8)
    assert g[7] == pytest.approx(0.997) and g[8] == pytest.approx(0.997)
    # j = 10 of N = 12: 1 - (0.003^1 * 0.01^2)^(1/3) = 1 - (3e-7)^(1/3) = 0.99330567
    assert g[10] == pytest.approx(0.99330567, abs=1e-8)
    assert g[11] == pytest.approx(0.99)


def test_agent57_gamma_variant_for_small_n():
    # N <= 9: log-linear from gamma0 to gamma2; N = 3 middle: 1 - sqrt(1e-4 * 1e-2) = 0.999
    np.testing.assert_allclose(agent57_gammas(3), [0.9999, 0.999, 0.99], rtol=1e-10)
    assert list(agent57_gammas(1)) == [0.9999]
    for n in range(1, 12):  # well defined (finite, in (0, 1)) for every N
        g = agent57_gammas(n)
        assert len(g) == n and np.all((g > 0) & (g < 1))


def test_actor_epsilons():
    # 0.4^(1 + 7 i / 2): (0.4, 0.4^4.5 = 0.0256 * sqrt(0.4) = 0.01619086, 0.4^8 = 0.00065536)
    np.testing.assert_allclose(actor_epsilons(3), [0.4, 0.01619086, 0.00065536], rtol=1e-6)


# ------------------------------------------------------------------ targets


def test_three_step_transformed_retrace():
    # Raw target-network values Q(x_s, .) for s = 0..3, two actions; the network outputs
    # h(Q). Actions a = (0, 0, 1, -), greedy pi = (1, 0, 1, 0), mu = (0.5, 0.8, 0.25, -),
    # x_3 is the final observation (no action: valid 0). lambda = 0.95, gamma = 0.9.
    #   c_s = 0.95 * 1[a_s == greedy_s] * valid_s = (0, 0.95, 0.95, 0)
    #   E_pi Q(x_s) = Q(x_s, greedy) = (-, 3, 2, 4); Q(x_s, a_s) = (-, 3, 2, -)
    #   Qret_2 = 2 + 0.9 * 4 = 5.6
    #   Qret_1 = 0 + 0.9 * (2 + 0.95 * (5.6 - 2)) = 4.878
    #   Qret_0 = 1 + 0.9 * (3 + 0.95 * (4.878 - 3)) = 5.305690
    raw = tf.constant([[[1.0, 2.0]], [[3.0, 1.0]], [[0.0, 2.0]], [[4.0, 0.0]]], tf.float64)
    q = h(raw)
    actions = tf.constant([[0], [0], [1], [0]])
    greedy = tf.constant([[1], [0], [1], [0]])
    mu = tf.constant([[0.5], [0.8], [0.25], [0.0]], tf.float64)
    valid = tf.constant([[1.0], [1.0], [1.0], [0.0]], tf.float64)
    rewards = tf.constant([[1.0], [0.0], [2.0]], tf.float64)
    discounts = tf.fill([3, 1], tf.constant(0.9, tf.float64))
    targets = transformed_retrace(q, actions, greedy, mu, valid, rewards, discounts, 0.95)
    np.testing.assert_allclose(h_inv(targets).numpy()[:, 0], [5.30569, 4.878, 5.6], rtol=1e-9)


def test_retrace_uses_behaviour_probabilities():
    # The same data with an epsilon-greedy target policy (epsilon 0.01, A = 2: pi = 0.995 on
    # the greedy action, 0.005 on the other). Actions a = (0, 1, 0, -), greedy (1, 0, 1, 0),
    # mu = (0.5, 0.2, 0.25, -): a_1 and a_2 are not greedy.
    #   E_pi Q(x_s) = 0.995 Q(x_s, greedy) + 0.005 Q(x_s, other) = (-, 2.99, 1.99, 3.98)
    #   c_1 = 0.95 * 0.005 / 0.2 = 0.02375, c_2 = 0.95 * 0.005 / 0.25 = 0.019, c_3 = 0
    #   Qret_2 = 2 + 0.9 * 3.98 = 5.582
    #   Qret_1 = 0 + 0.9 * (1.99 + 0.019 * (5.582 - Q(x_2, 0) = 0)) = 1.8864522
    #   Qret_0 = 1 + 0.9 * (2.99 + 0.02375 * (1.8864522 - Q(x_1, 1) = 1)) = 3.7099479
    # Halving mu(a_1 | x_1) to 0.1 doubles c_1 to 0.0475: Qret_0 = 3.7288958.
    # (A greedy target policy would cut both traces whatever mu: Qret_0 = 3.7.)
    raw = tf.constant([[[1.0, 2.0]], [[3.0, 1.0]], [[0.0, 2.0]], [[4.0, 0.0]]], tf.float64)

    def targets(mu_1):
        out = transformed_retrace(
            h(raw),
            tf.constant([[0], [1], [0], [0]]),
            tf.constant([[1], [0], [1], [0]]),
            tf.constant([[0.5], [mu_1], [0.25], [0.0]], tf.float64),
            tf.constant([[1.0], [1.0], [1.0], [0.0]], tf.float64),
            tf.constant([[1.0], [0.0], [2.0]], tf.float64),
            tf.fill([3, 1], tf.constant(0.9, tf.float64)),
            0.95,
            target_epsilon=0.01,
        )
        return h_inv(out).numpy()[:, 0]

    np.testing.assert_allclose(targets(0.2), [3.7099479, 1.8864522, 5.582], rtol=1e-7)
    assert targets(0.1)[0] == pytest.approx(3.7288958, rel=1e-7)


def test_greedy_target_policy_cuts_non_greedy_traces():
    # target_epsilon = 0 (the first version): pi(a|x) = 1[a = greedy], so the non-greedy
    # a_1, a_2 cut the traces: Qret_2 = 2 + 0.9 * 4 = 5.6, Qret_1 = 0.9 * 2 = 1.8,
    # Qret_0 = 1 + 0.9 * 3 = 3.7.
    raw = tf.constant([[[1.0, 2.0]], [[3.0, 1.0]], [[0.0, 2.0]], [[4.0, 0.0]]], tf.float64)
    targets = transformed_retrace(
        h(raw),
        tf.constant([[0], [1], [0], [0]]),
        tf.constant([[1], [0], [1], [0]]),
        tf.constant([[0.5], [0.2], [0.25], [0.0]], tf.float64),
        tf.constant([[1.0], [1.0], [1.0], [0.0]], tf.float64),
        tf.constant([[1.0], [0.0], [2.0]], tf.float64),
        tf.fill([3, 1], tf.constant(0.9, tf.float64)),
        0.95,
    )
    np.testing.assert_allclose(h_inv(targets).numpy()[:, 0], [3.7, 1.8, 5.6], rtol=1e-9)


def test_mixed_td_error_does_not_cancel():
    # Raw targets y_e = 3, y_i = 1 and values Q_e = 1, Q_i = 3 (all through h): the heads
    # err by +2 and -2, so the signed sum delta_e + delta_i = (h(3) - h(1)) + (h(1) - h(3))
    # = 0. The mixed error with beta = 0.5: h(3 + 0.5) - h(1 + 1.5) = h(3.5) - h(2.5)
    #   = (sqrt(4.5) - 1 + 0.0035) - (sqrt(3.5) - 1 + 0.0025) = 2.1248203 - 1.8733287 = 0.2514917
    y_e, y_i, q_e, q_i = (h(tf.constant([[v]], tf.float64)) for v in (3.0, 1.0, 1.0, 3.0))
    td = mixed_td(y_e, y_i, q_e, q_i, tf.constant([0.5], tf.float64))
    expected = (math.sqrt(4.5) + 0.0035) - (math.sqrt(3.5) + 0.0025)
    assert float(td[0, 0]) == pytest.approx(expected, rel=1e-9)
    assert float(td[0, 0]) == pytest.approx(0.2514917, rel=1e-6)
    # beta_0 = 0 (the exploitative policy): only the extrinsic error counts.
    td0 = mixed_td(y_e, y_i, q_e, q_i, tf.constant([0.0], tf.float64))
    assert float(td0[0, 0]) == pytest.approx(1.003 - (math.sqrt(2.0) - 1 + 0.001), rel=1e-9)


def test_heads_td_counts_both_errors_whatever_beta():
    # The same heads as above: delta_e = h(3) - h(1) = 1.003 - 0.4152136 = 0.5877864 and
    # delta_i = -0.5877864. The signed sum cancels to 0; |delta_e| + |delta_i| = 1.1755728.
    y_e, y_i, q_e, q_i = (h(tf.constant([[v]], tf.float64)) for v in (3.0, 1.0, 1.0, 3.0))
    td = heads_td(y_e - q_e, y_i - q_i)
    assert float(td[0, 0]) == pytest.approx(2 * (1.003 - (math.sqrt(2.0) - 1 + 0.001)))
    assert float(td[0, 0]) == pytest.approx(1.1755728, rel=1e-6)
    # A j = 0 sequence (beta 0) whose only error is the intrinsic head's: the mixed error
    # gives it no priority, heads_td keeps it, since the intrinsic network trains on it.
    zero, half = tf.constant([[0.0]], tf.float64), tf.constant([[0.5]], tf.float64)
    assert float(mixed_td(zero, half, zero, zero, tf.constant([0.0], tf.float64))[0, 0]) == 0
    assert float(heads_td(zero, half)[0, 0]) == 0.5


def test_novelty_masks_include_final_observations_and_keep_the_last_steps():
    # Front padding, three real steps, the final observation (no action), back padding.
    valid = tf.constant([[0.0], [1.0], [1.0], [1.0], [0.0], [0.0]])
    observed, transitions = novelty_masks(valid, 0)
    np.testing.assert_array_equal(observed.numpy()[:, 0], [0, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(transitions.numpy()[:, 0], [0, 1, 1, 1, 0])
    observed, transitions = novelty_masks(valid, 2)
    np.testing.assert_array_equal(observed.numpy()[:, 0], [0, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(transitions.numpy()[:, 0], [0, 0, 1, 1, 0])
    # A full window (no episode end): its last step is observed but has no stored next
    # observation, so it is no inverse-dynamics transition.
    observed, transitions = novelty_masks(tf.ones([4, 1]), 0)
    np.testing.assert_array_equal(observed.numpy()[:, 0], [1, 1, 1, 1])
    np.testing.assert_array_equal(transitions.numpy()[:, 0], [1, 1, 1])


def test_gradients_are_clipped_per_network():
    # Network 1's gradient has norm 5, network 2's norm 1; max norm 2: per network,
    # (3, 4) -> (1.2, 1.6) and (0.6, 0.8) stays; one global norm sqrt(26) would scale
    # both by 2 / sqrt(26) = 0.392232.
    grads = [tf.constant([3.0, 4.0]), tf.constant([0.6, 0.8])]
    out = clip_per_network(grads, [1, 1], 2.0)
    np.testing.assert_allclose(out[0].numpy(), [1.2, 1.6], rtol=1e-6)
    np.testing.assert_allclose(out[1].numpy(), [0.6, 0.8], rtol=1e-6)


def test_n_step_targets_stop_at_episode_end():
    # T = 3, n = 2, r = (1, 2, 3), d = (0.9, 0.9, 0) (terminal at t = 2), V(x_s) = 10, 20, 30, 40
    #   G1 = (1 + 0.9*20, 2 + 0.9*30, 3 + 0) = (19, 29, 3)
    #   G2_0 = 1 + 0.9 * G1_1 = 27.1; G2_1 = 2 + 0.9 * G1_2 = 4.7; G2_2 = 3 (array end)
    r = tf.constant([[1.0], [2.0], [3.0]])
    d = tf.constant([[0.9], [0.9], [0.0]])
    v = tf.constant([[10.0], [20.0], [30.0], [40.0]])
    out = n_step_targets(r, d, tf.ones([3, 1]), v, 2)
    np.testing.assert_allclose(out.numpy()[:, 0], [27.1, 4.7, 3.0], rtol=1e-6)
    # Truncation after t = 0 (transition 1 is not real): t = 0 bootstraps from V(x_1).
    out = n_step_targets(r, d, tf.constant([[1.0], [0.0], [0.0]]), v, 3)
    assert float(out[0, 0]) == pytest.approx(19.0)


def test_mixing_through_h():
    # Q_e = h(2), Q_i = h(4), beta = 0.5: h(2 + 0.5 * 4) = h(4) = sqrt(5) - 1 + 0.004 = 1.240068
    q = mix_q(h(tf.constant([[2.0]])), h(tf.constant([[4.0]])), tf.constant([0.5]))
    assert float(q[0, 0]) == pytest.approx(math.sqrt(5) - 1 + 0.004, rel=1e-5)
    # Not the linear mix h(2) + 0.5 h(4) = 0.736 + 0.620 = 1.356
    assert float(q[0, 0]) != pytest.approx(float(h(2.0) + 0.5 * h(4.0)), rel=1e-3)


def test_sequence_priority():
    # |delta| = (1, 3, 2) with the last step masked: max 3, mean 2 -> 0.9*3 + 0.1*2 = 2.9
    td = tf.constant([[1.0], [-3.0], [2.0]])
    mask = tf.constant([[1.0], [1.0], [0.0]])
    assert float(sequence_priorities(td, mask, 0.9)[0]) == pytest.approx(2.9)


# ------------------------------------------------------------------ meta-controller


def test_ucb_tries_every_arm_then_picks_the_upper_bound():
    ucb = SlidingWindowUCB(3, window=4, beta=1.0, epsilon=0.0)
    rng = np.random.default_rng(0)
    assert [ucb.select(rng) for _ in range(3)] == [0, 1, 2]
    for arm, ret in [(0, 1.0), (1, 0.0), (2, 0.5)]:
        ucb.update(arm, ret)
    # scores: mean + sqrt(1/N): (1 + 1, 0 + 1, 0.5 + 1) = (2, 1, 1.5) -> arm 0
    assert ucb.select(rng) == 0
    ucb.update(0, 0.0)
    # window (0:1, 1:0, 2:0.5, 0:0): arm 0 mean 0.5 + sqrt(1/2) = 1.2071 < arm 2's 1.5 -> 2
    np.testing.assert_allclose(ucb.scores(), [0.5 + math.sqrt(0.5), 1.0, 1.5])
    assert ucb.select(rng) == 2
    ucb.update(2, 0.5)
    # the window of 4 drops the first (0, 1.0): arm 0 now (0), arm 1 (0), arm 2 (0.5, 0.5)
    np.testing.assert_allclose(ucb.scores(), [1.0, 1.0, 0.5 + math.sqrt(0.5)])
    assert ucb.best_arm() == 2


def test_ucb_epsilon_picks_uniformly():
    ucb = SlidingWindowUCB(4, epsilon=1.0)
    ucb.pulls = 4  # past the initial round
    rng = np.random.default_rng(1)
    picks = [ucb.select(rng) for _ in range(400)]
    counts = np.bincount(picks, minlength=4)
    assert counts.min() > 70  # about 100 each


def test_each_slot_has_its_own_bandit_and_evaluation_pools_them():
    bandits = SlotBandits(num_slots=2, num_arms=3, window=4, beta=1.0, epsilon=0.0)
    rng = np.random.default_rng(0)
    # Each slot runs its own initial round: a shared bandit would give 0, 1, 2, then UCB.
    assert [bandits.select(0, rng) for _ in range(3)] == [0, 1, 2]
    assert [bandits.select(1, rng) for _ in range(3)] == [0, 1, 2]
    for arm, ret in [(0, 1.0), (1, 0.0), (2, 0.0)]:
        bandits.update(0, arm, ret)
    for arm, ret in [(0, 0.0), (1, 0.0), (2, 0.9)]:
        bandits.update(1, arm, ret)
    # Slot 0 saw arm 0 pay, slot 1 saw arm 2 pay: each exploits its own window.
    assert bandits.select(0, rng) == 0 and bandits.select(1, rng) == 2
    # Evaluation pools the windows: means (0.5, 0, 0.45) -> arm 0.
    assert bandits.best_arm() == 0
    # Slots past the number of bandits (a learner hearing from several Ray actors) wrap.
    bandits.update(3, 2, 1.0)  # slot 3 -> bandit 1: arm 2 now (0.9, 1.0) -> mean 0.95
    assert bandits.best_arm() == 2


def test_shared_bandits_and_old_checkpoints_load_into_every_slot():
    shared = SlotBandits(num_slots=4, num_arms=2, shared=True)
    shared.update(3, 1, 1.0)
    assert len(shared.bandits) == 1 and shared.history == [(1, 1.0)]
    old = SlidingWindowUCB(2)  # the checkpoint format before per-slot bandits
    old.update(1, 1.0)
    per_slot = SlotBandits(num_slots=2, num_arms=2)
    per_slot.load_state_dict(old.state_dict())
    assert [b.history[0] for b in per_slot.bandits] == [(1, 1.0), (1, 1.0)]
    restored = SlotBandits(num_slots=2, num_arms=2)
    restored.load_state_dict(per_slot.state_dict())
    assert restored.history == per_slot.history


class _ArmPaysEnv:
    """Episodes of 3 steps; each step pays 1 if the action equals the arm index 2."""

    def reset(self, seed=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), float(action == 2), False, self.t == 3, {}


def test_evaluator_plays_due_episodes_and_scores_arms_on_its_own_bandit():
    seen_rewards = []

    def act(obs, policy, state, epsilon, rng):
        seen_rewards.append(state.pop("rewards", None))
        return policy  # policy j acts with action j

    bandit = SlidingWindowUCB(3, window=10, beta=1.0, epsilon=0.0)
    evaluator = Evaluator(_ArmPaysEnv, bandit, period=2, epsilon=0.0, seed=0)
    assert not evaluator.due(1) and evaluator.best_arm() is None
    assert evaluator.due(2) and evaluator.due(5)
    for _ in range(3):  # the initial round: arms 0, 1, 2
        evaluator.play(act, dict)
    assert list(bandit.history) == [(0, 0.0), (1, 0.0), (2, 3.0)]
    assert evaluator.best_arm() == 2 and not evaluator.due(5) and evaluator.due(8)
    # Each step after the first is handed the reward of the step before it.
    assert seen_rewards[:3] == [None, 0.0, 0.0] and seen_rewards[6:9] == [None, 1.0, 1.0]
    restored = Evaluator(_ArmPaysEnv, SlidingWindowUCB(3), period=2, epsilon=0.0, seed=5)
    restored.load_state_dict(evaluator.state_dict())
    assert list(restored.bandit.history) == list(bandit.history) and restored.episodes == 3
