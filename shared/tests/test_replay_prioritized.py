"""Tests for rl_core.replay.PrioritizedReplayBuffer and linear_schedule."""

from __future__ import annotations

import numpy as np
import pytest

from rl_core.replay import PrioritizedReplayBuffer, linear_schedule

SPECS = {"obs": ((3,), "float32"), "action": ((), "int64")}


def make(capacity: int = 4, **kwargs) -> PrioritizedReplayBuffer:
    return PrioritizedReplayBuffer(capacity, SPECS, **kwargs)


def batch(values) -> dict[str, np.ndarray]:
    v = np.asarray(values, np.int64)
    return {"obs": np.repeat(v[:, None], 3, axis=1).astype(np.float32), "action": v}


def frequencies(buf: PrioritizedReplayBuffer, n_batches: int = 200, batch_size: int = 1000):
    rng = np.random.default_rng(123)
    counts = np.zeros(len(buf))
    for _ in range(n_batches):
        out = buf.sample(batch_size, rng)
        np.testing.assert_array_equal(out["action"], out["indices"])  # rows match slots
        counts += np.bincount(out["indices"], minlength=len(buf))
    return counts / counts.sum()


def test_sampling_proportions_alpha_one():
    buf = make(4, alpha=1.0)
    buf.add_batch(priorities=[1.0, 2.0, 3.0, 4.0], **batch(range(4)))
    np.testing.assert_allclose(frequencies(buf), [0.1, 0.2, 0.3, 0.4], atol=2e-3)


def test_sampling_proportions_alpha_half():
    buf = make(4, alpha=0.5)
    buf.add_batch(priorities=[1.0, 4.0, 9.0, 16.0], **batch(range(4)))  # p ** 0.5 = 1, 2, 3, 4
    np.testing.assert_allclose(frequencies(buf), [0.1, 0.2, 0.3, 0.4], atol=2e-3)


def test_sampling_is_stratified():
    # Equal priorities and one draw per quarter of [0, total): each slot exactly once.
    buf = make(4)
    buf.add_batch(**batch(range(4)))
    for seed in range(5):
        out = buf.sample(4, np.random.default_rng(seed))
        np.testing.assert_array_equal(out["indices"], [0, 1, 2, 3])


def test_sampling_only_from_filled_slots():
    buf = make(10)
    buf.add_batch(**batch(range(3)))
    out = buf.sample(5000, np.random.default_rng(0))
    assert set(np.unique(out["indices"]).tolist()) == {0, 1, 2}


def test_importance_weights_hand_computed():
    # N = 4, P = [.1, .2, .3, .4], beta = 0.4: w_i = (4 P_i) ** -0.4 / (4 * 0.1) ** -0.4
    # = (0.1 / P_i) ** 0.4, normalised by the least likely slot of the buffer (slot 0).
    expected = np.array([1.0, 0.5**0.4, (1 / 3) ** 0.4, 0.25**0.4])
    np.testing.assert_allclose(expected, [1.0, 0.757858, 0.644394, 0.574349], atol=1e-6)
    buf = make(4, alpha=1.0, beta=0.4)
    buf.add_batch(priorities=[1.0, 2.0, 3.0, 4.0], **batch(range(4)))
    rng = np.random.default_rng(0)
    for batch_size in (1, 2, 64):  # small batches often miss slot 0; weights must not change
        out = buf.sample(batch_size, rng)
        assert out["weights"].dtype == np.float32
        np.testing.assert_allclose(out["weights"], expected[out["indices"]], rtol=1e-5)
    # beta given to sample overrides the attribute: w_i = P_min / P_i.
    out = buf.sample(64, rng, beta=1.0)
    np.testing.assert_allclose(
        out["weights"], np.array([1, 1 / 2, 1 / 3, 1 / 4])[out["indices"]], rtol=1e-5
    )
    # beta = 0 means no correction.
    out = buf.sample(64, rng, beta=0.0)
    np.testing.assert_array_equal(out["weights"], 1.0)


def test_update_priorities_changes_proportions():
    buf = make(4, alpha=1.0, eps=1e-3)
    buf.add_batch(**batch(range(4)))
    np.testing.assert_allclose(frequencies(buf, 50), 0.25, atol=2e-3)
    # TD errors: sign is dropped, eps keeps zero errors sampleable.
    buf.update_priorities(np.array([0, 1, 2, 3]), np.array([-3.0, 1.0, 0.0, 0.0]))
    np.testing.assert_allclose(buf.get_priorities(np.arange(4)), [3.001, 1.001, 0.001, 0.001])
    expected = np.array([3.001, 1.001, 0.001, 0.001]) / 4.004
    np.testing.assert_allclose(frequencies(buf, 50), expected, atol=2e-3)


def test_update_priorities_duplicates_last_wins():
    buf = make(4, alpha=1.0)
    buf.add_batch(**batch(range(4)))
    buf.update_priorities(np.array([1, 1, 2]), np.array([5.0, 0.5, 2.0]))
    np.testing.assert_allclose(buf.get_priorities(np.arange(4)), [1, 0.5, 2, 1], rtol=1e-5)


def test_new_items_get_max_priority():
    buf = make(6, alpha=0.6, eps=1e-6)
    buf.add(**{k: v[0] for k, v in batch([0]).items()})
    assert buf.max_priority == 1.0
    np.testing.assert_allclose(buf.get_priorities([0]), [1.0])
    buf.update_priorities(np.array([0]), np.array([5.0]))
    assert buf.max_priority == pytest.approx(5.0 + 1e-6)
    buf.add_batch(**batch([1, 2]))
    np.testing.assert_allclose(buf.get_priorities([1, 2]), (5.0 + 1e-6) ** 0.6)
    # The max is a running max: lowering the top priority does not lower it.
    buf.update_priorities(np.array([0, 1, 2]), np.array([0.1, 0.1, 0.1]))
    buf.add(priority=None, **{k: v[0] for k, v in batch([3]).items()})
    np.testing.assert_allclose(buf.get_priorities([3]), (5.0 + 1e-6) ** 0.6)
    # Explicit priorities at insertion raise the max too.
    buf.add(priority=-9.0, **{k: v[0] for k, v in batch([4]).items()})
    assert buf.max_priority == pytest.approx(9.0 + 1e-6)


def test_add_batch_larger_than_capacity_keeps_matching_priorities():
    buf = make(3, alpha=1.0, eps=1e-9)
    slots = buf.add_batch(priorities=np.arange(1.0, 6.0), **batch(range(5)))
    np.testing.assert_array_equal(slots, [2, 0, 1])
    out = buf.get(slots)
    np.testing.assert_array_equal(out["action"], [2, 3, 4])
    np.testing.assert_allclose(buf.get_priorities(slots), [3.0, 4.0, 5.0])


def test_overwriting_replaces_priority_and_min():
    buf = make(2, alpha=1.0, eps=1e-9)
    buf.add_batch(priorities=[0.5, 4.0], **batch(range(2)))
    buf.add_batch(priorities=[2.0], **batch([2]))  # overwrites slot 0 (priority 0.5)
    out = buf.sample(8, np.random.default_rng(0), beta=1.0)
    # p_min is now 2.0 (slot 0), not the overwritten 0.5.
    np.testing.assert_allclose(out["weights"], np.array([1.0, 0.5])[out["indices"]], rtol=1e-6)


def test_state_dict_round_trip(tmp_path):
    buf = make(5, alpha=0.7, beta=0.5)
    buf.add_batch(**batch(range(7)))
    buf.update_priorities(np.array([0, 3]), np.array([2.0, 0.25]))
    buf.beta = 0.8
    np.savez(tmp_path / "per.npz", **buf.state_dict())
    restored = make(5, alpha=0.7)
    with np.load(tmp_path / "per.npz") as loaded:
        restored.load_state_dict(dict(loaded))
    assert restored.beta == 0.8 and restored.max_priority == buf.max_priority
    np.testing.assert_array_equal(
        restored.get_priorities(np.arange(5)), buf.get_priorities(np.arange(5))
    )
    a = buf.sample(16, np.random.default_rng(9))
    b = restored.sample(16, np.random.default_rng(9))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert restored.add_batch(**batch([7])).tolist() == buf.add_batch(**batch([7])).tolist()


def test_load_state_dict_rejects_other_alpha_and_bad_priorities():
    buf = make(4, alpha=0.6)
    buf.add_batch(**batch(range(2)))
    with pytest.raises(ValueError, match="alpha"):
        make(4, alpha=0.5).load_state_dict(buf.state_dict())
    state = buf.state_dict()
    state["priorities"] = np.array([1.0])
    fresh = make(4, alpha=0.6)
    with pytest.raises(ValueError, match="priorities"):
        fresh.load_state_dict(state)
    assert len(fresh) == 0


def test_errors():
    with pytest.raises(ValueError, match="capacity"):
        make(0)
    with pytest.raises(ValueError, match="alpha"):
        make(4, alpha=-1.0)
    with pytest.raises(ValueError, match="eps"):
        make(4, eps=0.0)
    with pytest.raises(ValueError, match="beta"):
        make(4, beta=1.5)
    buf = make(4)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="priorities"):
        buf.add_batch(priorities=[1.0], **batch(range(2)))  # checked before any write
    assert len(buf) == 0
    with pytest.raises(ValueError, match="priorities"):
        buf.add(priority=np.nan, obs=np.zeros(3), action=0)
    assert len(buf) == 0
    buf.add_batch(**batch(range(2)))
    with pytest.raises(IndexError):
        buf.update_priorities(np.array([2]), np.array([1.0]))  # slot 2 is not filled
    with pytest.raises(ValueError, match="priorities"):
        buf.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="beta"):
        buf.beta = -0.1
    with pytest.raises(ValueError, match="beta"):
        buf.sample(2, np.random.default_rng(0), beta=2.0)


def test_linear_schedule_anneals_beta():
    schedule = linear_schedule(0.4, 1.0, 100)
    assert schedule(0) == 0.4 and schedule(-5) == 0.4
    assert schedule(50) == pytest.approx(0.7)
    assert schedule(100) == 1.0 and schedule(10_000) == 1.0
    buf = make(4)
    buf.beta = schedule(25)
    assert buf.beta == pytest.approx(0.55)
    with pytest.raises(ValueError):
        linear_schedule(0.0, 1.0, 0)
