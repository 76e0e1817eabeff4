"""Replay buffers survive a save/load through ``replay.npz`` unchanged (rl_core.replay)."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from rl_core.replay import (
    PrioritizedReplayBuffer,
    ReplayBuffer,
    SumTree,
    is_compact_space,
    load_replay,
    save_replay,
)

SPECS = {"obs": ((2, 3), bool), "action": ((), np.int64), "reward": ((), np.float32)}


def fill(buf, n, seed=0):
    rng = np.random.default_rng(seed)
    buf.add_batch(
        obs=rng.random((n, 2, 3)) < 0.5,
        action=rng.integers(0, 5, n),
        reward=rng.standard_normal(n).astype(np.float32),
    )


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype, key
        np.testing.assert_array_equal(x, y, err_msg=key)


def test_uniform_round_trip_after_wraparound_keeps_bool_obs_as_uint8_on_disk(tmp_path):
    buf = ReplayBuffer(8, SPECS)
    fill(buf, 11)  # wrapped: next slot 3
    path = save_replay(tmp_path / "replay.npz", buf.state_dict(), compact=["data/obs"])
    with np.load(path) as raw:  # on disk: uint8, not bool
        assert raw["data/obs"].dtype == np.uint8
    again = ReplayBuffer(8, SPECS)
    again.load_state_dict(load_replay(path))
    assert (len(again), again.state_dict()["next_index"]) == (8, 3)
    assert again.get(np.arange(8))["obs"].dtype == bool
    assert_same_state(buf.state_dict(), again.state_dict())
    # The sampler sees the same buffer: same draws from the same generator.
    assert_same_state(
        buf.sample(16, np.random.default_rng(1)), again.sample(16, np.random.default_rng(1))
    )
    # Later writes go to the same slots.
    fill(buf, 2, seed=5)
    fill(again, 2, seed=5)
    assert_same_state(buf.state_dict(), again.state_dict())


def test_float_obs_of_a_uint8_space_shrink_on_disk_and_come_back_as_float(tmp_path):
    pixels = np.arange(0, 240, 10, dtype=np.float32).reshape(4, 6)
    state = {"data/obs": pixels, "data/other": pixels + 0.5}
    path = save_replay(tmp_path / "r.npz", state, compact=["data/obs", "data/other"])
    with np.load(path) as raw:
        assert raw["data/obs"].dtype == np.uint8
        assert raw["data/other"].dtype == np.float32  # not whole numbers: left as is
    back = load_replay(path)
    assert back["data/obs"].dtype == np.float32
    np.testing.assert_array_equal(back["data/obs"], pixels)
    np.testing.assert_array_equal(back["data/other"], pixels + 0.5)
    assert is_compact_space(spaces.Box(0, 255, (2,), np.uint8))
    assert is_compact_space(spaces.MultiBinary(3)) is False  # int8
    assert is_compact_space(spaces.Box(0, 1, (2,), bool))
    assert not is_compact_space(spaces.Box(0, 1, (2,), np.float32))


def test_prioritized_round_trip_keeps_priorities_sum_tree_and_sampling(tmp_path):
    buf = PrioritizedReplayBuffer(6, SPECS, alpha=0.7, beta=0.5)
    fill(buf, 9)  # wrapped
    buf.update_priorities(np.array([0, 2, 5]), np.array([4.0, 0.1, -2.0]))
    path = save_replay(tmp_path / "replay.npz", buf.state_dict(), compact=["data/obs"])
    again = PrioritizedReplayBuffer(6, SPECS, alpha=0.7, beta=0.1)
    again.load_state_dict(load_replay(path))
    np.testing.assert_array_equal(again._tree._sum, buf._tree._sum)
    np.testing.assert_array_equal(again._tree._min, buf._tree._min)
    assert (again.max_priority, again.beta) == (buf.max_priority, 0.5)
    assert_same_state(buf.state_dict(), again.state_dict())
    assert_same_state(
        buf.sample(12, np.random.default_rng(2)), again.sample(12, np.random.default_rng(2))
    )


def test_sum_tree_state_rebuilds_every_level_and_keeps_unwritten_leaves_out_of_the_min():
    tree = SumTree(5)
    tree.update(np.array([0, 3, 1]), np.array([0.5, 2.0, 0.25]))
    tree.update(np.array([3]), 0.0)
    again = SumTree(5)
    again.update(np.arange(5), 9.0)  # stale contents must not survive the load
    again.load_state_dict(tree.state_dict())
    np.testing.assert_array_equal(again._sum, tree._sum)
    np.testing.assert_array_equal(again._min, tree._min)  # leaves 2, 4 never written: +inf
    assert (again.total, again.min) == (0.75, 0.0)
    with pytest.raises(ValueError, match="must hold 4 leaves"):
        SumTree(4).load_state_dict(tree.state_dict())
