"""Tests for rl_core.replay.ReplayBuffer (uniform ring buffer)."""

from __future__ import annotations

import numpy as np
import pytest

from rl_core.replay import ReplayBuffer

SPECS = {"obs": ((2,), "float32"), "action": ((), "int64")}


def make(capacity: int = 5) -> ReplayBuffer:
    return ReplayBuffer(capacity, SPECS)


def batch(values) -> dict[str, np.ndarray]:
    """Transitions whose obs and action both encode the value, to check where they land."""
    v = np.asarray(values, np.int64)
    return {"obs": np.stack([v, -v], axis=1).astype(np.float32), "action": v}


def actions(buf: ReplayBuffer) -> list[int]:
    return buf.get(np.arange(len(buf)))["action"].tolist()


def test_preallocated_fields_keep_shape_and_dtype():
    buf = ReplayBuffer(3, {"obs": ((4, 2), np.uint8), "done": ((), bool)})
    buf.add(obs=np.ones((4, 2), np.uint8), done=True)
    out = buf.get(np.array([0]))
    assert out["obs"].shape == (1, 4, 2) and out["obs"].dtype == np.uint8
    assert out["done"].dtype == np.bool_ and out["done"].tolist() == [True]
    assert buf.capacity == 3 and len(buf) == 1 and not buf.is_full


def test_add_one_by_one_wraps_around():
    buf = make(5)
    slots = [buf.add(obs=[v, -v], action=v) for v in range(8)]  # capacity + 3
    assert slots == [0, 1, 2, 3, 4, 0, 1, 2]
    assert len(buf) == 5 and buf.is_full
    # Slots 0-2 were overwritten by 5, 6, 7; slots 3, 4 still hold 3, 4.
    assert actions(buf) == [5, 6, 7, 3, 4]
    np.testing.assert_array_equal(buf.get(np.arange(5))["obs"][:, 1], [-5, -6, -7, -3, -4])


def test_add_batch_crossing_the_end():
    buf = make(5)
    np.testing.assert_array_equal(buf.add_batch(**batch([0, 1, 2])), [0, 1, 2])
    np.testing.assert_array_equal(buf.add_batch(**batch([3, 4, 5, 6])), [3, 4, 0, 1])
    assert actions(buf) == [5, 6, 2, 3, 4]
    np.testing.assert_array_equal(buf.add_batch(**batch([7])), [2])
    assert actions(buf) == [5, 6, 7, 3, 4]


def test_batch_larger_than_capacity_keeps_only_the_newest():
    buf = make(4)
    buf.add(obs=[0, 0], action=0)  # next slot is 1
    slots = buf.add_batch(**batch(np.arange(10, 20)))
    # 10 rows from slot 1: the last four (16..19) land in slots 3, 0, 1, 2.
    np.testing.assert_array_equal(slots, [3, 0, 1, 2])
    assert actions(buf) == [17, 18, 19, 16]
    # The oldest survivor (16, slot 3) is the next one overwritten.
    assert buf.add(obs=[20, -20], action=20) == 3
    assert actions(buf) == [17, 18, 19, 20]


def test_random_batches_match_one_by_one_writes():
    rng = np.random.default_rng(0)
    by_batch, by_item = make(7), make(7)
    value = 0
    for size in rng.integers(0, 12, size=40):
        values = np.arange(value, value + size)
        value += size
        slots = by_batch.add_batch(**batch(values))
        single = [by_item.add(obs=[v, -v], action=v) for v in values]
        np.testing.assert_array_equal(slots, single[len(single) - len(slots) :])
        assert actions(by_batch) == actions(by_item)
    assert len(by_batch) == 7


def test_sample_draws_only_from_the_filled_part():
    buf = make(100)
    buf.add_batch(**batch(np.arange(7)))
    out = buf.sample(20_000, np.random.default_rng(1))
    assert out["indices"].min() == 0 and out["indices"].max() == 6
    counts = np.bincount(out["indices"], minlength=7)
    np.testing.assert_allclose(counts / 20_000, 1 / 7, atol=0.015)
    # Each sampled row is the transition stored at its index.
    np.testing.assert_array_equal(out["action"], out["indices"])
    np.testing.assert_array_equal(out["obs"][:, 1], -out["indices"])
    assert set(out) == {"obs", "action", "indices"}


def test_sample_is_reproducible_with_a_seed():
    buf = make(10)
    buf.add_batch(**batch(np.arange(10)))
    a = buf.sample(32, np.random.default_rng(5))
    b = buf.sample(32, np.random.default_rng(5))
    np.testing.assert_array_equal(a["indices"], b["indices"])


def test_state_dict_round_trip_through_npz(tmp_path):
    buf = make(5)
    buf.add_batch(**batch(np.arange(7)))  # wrapped: next slot is 2
    state = buf.state_dict()
    assert state["capacity"] == 5 and state["size"] == 5 and state["next_index"] == 2
    buf.add(obs=[99, 99], action=99)  # the state must be a copy, not a view
    assert state["data/action"].tolist() == [5, 6, 2, 3, 4]

    np.savez(tmp_path / "replay.npz", **state)
    with np.load(tmp_path / "replay.npz") as loaded:
        restored = make(5)
        restored.load_state_dict(dict(loaded))
    assert actions(restored) == [5, 6, 2, 3, 4]
    # Writing resumes where it stopped: the next item replaces the oldest (2, slot 2).
    assert restored.add(obs=[7, -7], action=7) == 2
    assert actions(restored) == [5, 6, 7, 3, 4]


def test_state_dict_of_a_partly_filled_buffer():
    buf = make(6)
    buf.add_batch(**batch([1, 2]))
    restored = make(6)
    restored.load_state_dict(buf.state_dict())
    assert len(restored) == 2 and not restored.is_full
    assert restored.add(obs=[3, -3], action=3) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"capacity": 6},
        {"size": 9},
        {"next_index": 1},
        {"data/action": np.zeros(3, np.int32)},
        {"data/obs": np.zeros((3, 3), np.float32)},
        {"data/extra": np.zeros(3)},
    ],
)
def test_load_state_dict_rejects_mismatches(change):
    buf = make(5)
    buf.add_batch(**batch(np.arange(3)))  # partly filled, so the next slot must be 3
    state = {**buf.state_dict(), **change}
    fresh = make(5)
    with pytest.raises(ValueError):
        fresh.load_state_dict(state)
    assert len(fresh) == 0  # nothing was half-loaded


def test_load_state_dict_rejects_missing_field():
    state = make(5).state_dict()
    del state["data/obs"]
    with pytest.raises(ValueError, match="state keys"):
        make(5).load_state_dict(state)


@pytest.mark.parametrize("capacity", [0, -3, 2.5, True])
def test_bad_capacity(capacity):
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(capacity, SPECS)


@pytest.mark.parametrize(
    "specs",
    [{}, {"indices": ((), "int64")}, {"obs": ((-1,), "float32")}, {"obs": "float32"}],
)
def test_bad_specs(specs):
    with pytest.raises(ValueError):
        ReplayBuffer(4, specs)


def test_field_errors():
    buf = make(4)
    with pytest.raises(ValueError, match="missing"):
        buf.add(obs=[0, 0])
    with pytest.raises(ValueError, match="unknown"):
        buf.add(obs=[0, 0], action=1, reward=1.0)
    with pytest.raises(ValueError, match="shape"):
        buf.add(obs=[0, 0, 0], action=1)
    with pytest.raises(ValueError, match="shape"):
        buf.add_batch(obs=np.zeros((3, 4)), action=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="shape"):
        buf.add_batch(obs=np.zeros(2), action=np.int64(1))  # one item given as a batch
    with pytest.raises(ValueError, match="same batch size"):
        buf.add_batch(obs=np.zeros((3, 2)), action=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="lossy"):
        buf.add(obs=[0, 0], action=1.5)
    assert len(buf) == 0  # failed writes leave nothing behind


def test_sample_and_get_errors():
    buf = make(4)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(2, np.random.default_rng(0))
    buf.add(obs=[0, 0], action=0)
    with pytest.raises(ValueError, match="batch_size"):
        buf.sample(0, np.random.default_rng(0))
    with pytest.raises(IndexError):
        buf.get(np.array([1]))  # slot 1 is not filled yet
    with pytest.raises(IndexError):
        buf.get(np.array([-1]))
