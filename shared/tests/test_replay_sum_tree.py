"""Tests for rl_core.replay.SumTree against brute-force cumsum/searchsorted."""

from __future__ import annotations

import numpy as np
import pytest

from rl_core.replay import SumTree


def brute_force(priorities: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Leaf i with S(i) <= v < S(i + 1), S being the exclusive prefix sum."""
    return np.searchsorted(np.cumsum(priorities), values, side="right")


@pytest.mark.parametrize("capacity", [1, 2, 5, 8, 1000])
def test_total_and_get(capacity):
    rng = np.random.default_rng(capacity)
    prio = rng.random(capacity)
    tree = SumTree(capacity)
    assert tree.total == 0.0 and tree.min == np.inf
    tree.update(np.arange(capacity), prio)
    np.testing.assert_allclose(tree.total, prio.sum(), rtol=1e-12)
    np.testing.assert_array_equal(tree.get(np.arange(capacity)), prio)
    assert tree.min == prio.min()


def test_prefix_search_matches_searchsorted_exactly_with_integer_priorities():
    # Integer priorities make every partial sum exact, so the answers must agree exactly,
    # including zero-priority leaves (never returned) and values on segment boundaries.
    rng = np.random.default_rng(0)
    capacity = 1000  # not a power of two: padding leaves exist
    prio = rng.integers(0, 20, capacity).astype(np.float64)
    prio[[0, 1, 500, 998, 999]] = 0.0
    tree = SumTree(capacity)
    tree.update(np.arange(capacity), prio)
    total = prio.sum()
    assert tree.total == total
    values = np.concatenate([rng.uniform(0, total, 100_000), np.cumsum(prio)[:-3], [0.0]])
    found = tree.find_prefix_sum(values)
    np.testing.assert_array_equal(found, brute_force(prio, values))
    assert np.all(prio[found] > 0)


def test_prefix_search_with_float_priorities():
    rng = np.random.default_rng(1)
    prio = rng.random(777) ** 3
    tree = SumTree(777)
    tree.update(np.arange(777), prio)
    values = rng.uniform(0, tree.total, 100_000)
    found = tree.find_prefix_sum(values)
    cum = np.cumsum(prio)
    expected = brute_force(prio, values)
    # Tree sums and np.cumsum round differently; they may only disagree on a boundary.
    differ = found != expected
    assert differ.mean() < 1e-3
    np.testing.assert_allclose(values[differ], cum[np.minimum(found, expected)[differ]], rtol=1e-9)


def test_values_at_or_past_total_map_to_last_positive_leaf():
    tree = SumTree(5)  # P = 8: leaves 5..7 are padding
    tree.update(np.arange(5), [1.0, 0.0, 0.0, 2.0, 0.0])
    total = tree.total
    values = np.array([total, np.nextafter(total, np.inf), total * 1.5, 0.0, 1.0])
    np.testing.assert_array_equal(tree.find_prefix_sum(values), [3, 3, 3, 0, 3])


def test_capacity_one():
    tree = SumTree(1)
    tree.update(np.array([0]), np.array([2.5]))
    assert tree.total == 2.5 and tree.min == 2.5
    np.testing.assert_array_equal(tree.find_prefix_sum([0.0, 1.0, 2.5, 9.0]), [0, 0, 0, 0])


def test_duplicate_indices_last_write_wins():
    tree = SumTree(6)
    tree.update(np.array([2, 5, 2, 2]), np.array([1.0, 3.0, 7.0, 4.0]))
    np.testing.assert_array_equal(tree.get(np.arange(6)), [0, 0, 4, 0, 0, 3])
    assert tree.total == 7.0  # not 1 + 7 + 4 + 3 as accumulating would give
    assert tree.min == 3.0


def test_scalar_priority_broadcasts():
    tree = SumTree(4)
    tree.update(np.arange(4), 0.5)
    assert tree.total == 2.0


def test_random_incremental_updates_keep_totals_and_search_consistent():
    rng = np.random.default_rng(2)
    capacity = 300
    reference = np.zeros(capacity)
    tree = SumTree(capacity)
    written = np.zeros(capacity, bool)
    for _ in range(50):
        idx = rng.integers(0, capacity, 64)  # repeats are likely
        vals = rng.integers(0, 50, 64).astype(np.float64)
        for i, v in zip(idx, vals, strict=True):  # reference: a plain loop
            reference[i] = v
        written[idx] = True
        tree.update(idx, vals)
        assert tree.total == reference.sum()
        assert tree.min == reference[written].min()
        values = rng.uniform(0, tree.total, 2000)
        np.testing.assert_array_equal(tree.find_prefix_sum(values), brute_force(reference, values))


def test_lowering_and_raising_priorities_changes_the_total():
    tree = SumTree(4)
    tree.update(np.arange(4), [1.0, 2.0, 3.0, 4.0])
    assert tree.total == 10.0
    tree.update(np.array([3]), np.array([0.5]))
    assert tree.total == 6.5 and tree.min == 0.5
    tree.update(np.array([0, 1]), np.array([10.0, 20.0]))
    assert tree.total == 33.5
    assert tree.find_prefix_sum([9.99, 10.0, 29.99, 30.0]).tolist() == [0, 1, 1, 2]


def test_errors():
    with pytest.raises(ValueError):
        SumTree(0)
    tree = SumTree(4)
    with pytest.raises(ValueError, match="total"):
        tree.find_prefix_sum([0.0])
    with pytest.raises(ValueError, match="indices"):
        tree.update(np.array([4]), np.array([1.0]))
    with pytest.raises(ValueError, match="indices"):
        tree.update(np.array([-1]), np.array([1.0]))
    with pytest.raises(ValueError, match="priorities"):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(ValueError, match="priorities"):
        tree.update(np.array([0]), np.array([np.nan]))
    with pytest.raises(ValueError):
        tree.update(np.array([0, 1]), np.array([1.0, 2.0, 3.0]))
    tree.update(np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError):
        tree.find_prefix_sum([-0.1])
    with pytest.raises(ValueError):
        tree.find_prefix_sum([np.nan])
