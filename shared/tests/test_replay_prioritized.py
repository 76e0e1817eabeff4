from __future__ import annotations

import numpy as np
import pytest

from rl_core.replay import PrioritizedReplayBuffer, linear_schedule

SPECS = {"x": ((), "int64")}


def filled(priorities, alpha=1.0, beta=0.4) -> PrioritizedReplayBuffer:
    buf = PrioritizedReplayBuffer(len(priorities), SPECS, alpha=alpha, beta=beta, eps=1e-12)
    buf.add_batch(x=np.arange(len(priorities)), priorities=np.asarray(priorities, float))
    return buf


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_sampling_frequencies_follow_priorities_to_the_alpha(alpha):
    p = np.array([1.0, 2.0, 3.0, 4.0])
    buf = filled(p, alpha=alpha)
    rng = np.random.default_rng(0)
    counts = np.zeros(4)
    for _ in range(800):
        counts += np.bincount(buf.sample(256, rng)["x"], minlength=4)
    expected = p**alpha / np.sum(p**alpha)
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.003)


def test_importance_weights_by_hand():
    # p = (1, 2, 3, 4), alpha = 1: P = (0.1, 0.2, 0.3, 0.4), N = 4, beta = 0.4.
    # w_i = (N P_i)^-beta / max_j w_j, max at P_min = 0.1: w_i = (0.1 / P_i)^0.4
    buf = filled([1.0, 2.0, 3.0, 4.0])
    batch = buf.sample(400, np.random.default_rng(1))
    by_index = {int(i): float(w) for i, w in zip(batch["indices"], batch["weights"], strict=True)}
    hand = {0: 1.0, 1: 0.5**0.4, 2: (1 / 3) ** 0.4, 3: 0.25**0.4}
    for i, w in hand.items():
        assert by_index[i] == pytest.approx(w, rel=1e-5)


def test_update_priorities_shifts_sampling_and_new_items_get_the_max():
    buf = PrioritizedReplayBuffer(8, SPECS, alpha=1.0, eps=1e-12)
    buf.add_batch(x=np.arange(4))
    np.testing.assert_allclose(buf.get_priorities(np.arange(4)), 1.0)  # initial max priority
    buf.update_priorities(np.array([0, 1, 2, 3]), np.array([0.0, 0.0, 0.0, 5.0]))
    rng = np.random.default_rng(2)
    assert np.mean(buf.sample(1000, rng)["x"] == 3) > 0.99
    buf.add(x=4)
    assert buf.get_priorities(np.array([4]))[0] == pytest.approx(5.0)  # max seen so far


def test_state_dict_round_trip_keeps_priorities():
    buf = filled([1.0, 2.0, 3.0, 4.0])
    clone = PrioritizedReplayBuffer(4, SPECS, alpha=1.0, eps=1e-12)
    clone.load_state_dict(buf.state_dict())
    np.testing.assert_allclose(clone.get_priorities(np.arange(4)), [1, 2, 3, 4])
    a = buf.sample(32, np.random.default_rng(5))
    b = clone.sample(32, np.random.default_rng(5))
    np.testing.assert_array_equal(a["indices"], b["indices"])


def test_linear_schedule_anneals_beta():
    schedule = linear_schedule(0.4, 1.0, 100)
    assert schedule(0) == pytest.approx(0.4)
    assert schedule(50) == pytest.approx(0.7)
    assert schedule(1_000) == pytest.approx(1.0)
