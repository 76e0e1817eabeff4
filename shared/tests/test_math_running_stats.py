"""RunningMeanStd against NumPy statistics of all the data at once."""

from __future__ import annotations

import numpy as np
import pytest

from rl_core.math.running_stats import RunningMeanStd


def test_hand_example_two_batches() -> None:
    # Data 1..5 in batches [1, 2] and [3, 4, 5]: mean 3, var (4+1+0+1+4)/5 = 2.
    # Merge: mean_a=1.5 var_a=0.25 n_a=2; mean_b=4 var_b=2/3 n_b=3; delta=2.5, n=5
    #   mean = 1.5 + 2.5*3/5 = 3;  var = (0.25*2 + (2/3)*3 + 2.5**2*2*3/5)/5 = (0.5+2+7.5)/5 = 2
    stats = RunningMeanStd(epsilon=0.0)
    stats.update([1.0, 2.0])
    stats.update([3.0, 4.0, 5.0])
    assert stats.mean == pytest.approx(3.0)
    assert stats.var == pytest.approx(2.0)
    assert stats.std == pytest.approx(np.sqrt(2.0))
    assert stats.count == 5.0


def test_matches_numpy_over_several_batches() -> None:
    rng = np.random.default_rng(0)
    batches = [
        rng.normal(loc=3.0, scale=[1.0, 5.0, 0.1], size=(n, 3)) for n in (1, 7, 64, 3, 0, 200)
    ]
    everything = np.concatenate(batches)

    exact = RunningMeanStd(shape=(3,), epsilon=0.0)
    default = RunningMeanStd(shape=(3,))
    for batch in batches:
        exact.update(batch)
        default.update(batch)

    np.testing.assert_allclose(exact.mean, everything.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(exact.var, everything.var(axis=0), rtol=1e-12)
    assert exact.count == len(everything)
    # The default starts from a pseudo-sample (mean 0, var 1, weight eps = 1e-4); merging
    # it with the data (mean m, var v, n samples) gives mean n*m/(n + eps) and
    # var (eps*1 + n*v + m**2*eps*n/(n + eps))/(n + eps).
    n, eps = len(everything), 1e-4
    m, v = everything.mean(axis=0), everything.var(axis=0)
    np.testing.assert_allclose(default.mean, n * m / (n + eps), rtol=1e-12)
    np.testing.assert_allclose(
        default.var, (eps + n * v + m**2 * eps * n / (n + eps)) / (n + eps), rtol=1e-12
    )
    assert default.count == pytest.approx(len(everything) + 1e-4)


def test_initial_state_and_normalize() -> None:
    stats = RunningMeanStd(shape=(2,))
    np.testing.assert_array_equal(stats.mean, [0.0, 0.0])
    np.testing.assert_array_equal(stats.var, [1.0, 1.0])
    assert stats.count == pytest.approx(1e-4)

    stats = RunningMeanStd(shape=(2,), epsilon=0.0)
    stats.update([[0.0, 10.0], [2.0, 10.0]])  # mean [1, 10], var [1, 0]
    x = np.array([[3.0, 10.0], [-5.0, 10.0]], dtype=np.float32)
    out = stats.normalize(x)
    assert out.dtype == np.float32
    # (3 - 1)/sqrt(1 + 1e-8) ≈ 2; (-5 - 1)/1 ≈ -6; the constant feature maps to 0, not NaN
    np.testing.assert_allclose(out, [[2.0, 0.0], [-6.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(stats.normalize(x, clip=5.0), [[2.0, 0.0], [-5.0, 0.0]], rtol=1e-6)
    assert stats.normalize(np.array([[1, 10]])).dtype == np.float32


def test_state_dict_round_trip() -> None:
    rng = np.random.default_rng(1)
    stats = RunningMeanStd(shape=(4,))
    stats.update(rng.normal(size=(10, 4)))
    state = stats.state_dict()
    assert set(state) == {"mean", "var", "count"}
    assert isinstance(state["count"], float)

    restored = RunningMeanStd(shape=(4,))
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.mean, stats.mean)
    np.testing.assert_array_equal(restored.var, stats.var)
    assert restored.count == stats.count

    # The snapshot is a copy: later updates change neither it nor the restored object.
    before = state["mean"].copy()
    more = rng.normal(size=(5, 4))
    stats.update(more)
    np.testing.assert_array_equal(state["mean"], before)
    restored.update(more)
    np.testing.assert_allclose(restored.mean, stats.mean, rtol=1e-12)
    np.testing.assert_allclose(restored.var, stats.var, rtol=1e-12)


def test_bad_input_rejected() -> None:
    stats = RunningMeanStd(shape=(3,))
    with pytest.raises(ValueError, match="batch must have shape"):
        stats.update(np.zeros(3))  # a single sample without the batch axis
    with pytest.raises(ValueError, match="batch must have shape"):
        stats.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="expected shape"):
        stats.load_state_dict({"mean": np.zeros(2), "var": np.ones(2), "count": 1.0})
    with pytest.raises(ValueError, match="epsilon"):
        RunningMeanStd(epsilon=-1.0)
