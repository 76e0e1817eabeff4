"""R2D2 value rescaling h and its inverse."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from rl_core.math.rescaling import h, h_inv

EPS = 1e-3


def _values() -> np.ndarray:
    positive = np.geomspace(1e-6, 1e6, 241)
    return np.concatenate([-positive[::-1], [0.0], positive])


def test_h_hand_values() -> None:
    # h(x) = sign(x)*(sqrt(|x| + 1) - 1) + 1e-3*x
    x = np.array([0.0, 3.0, -3.0, 8.0, 0.44, 99.0], dtype=np.float64)
    expected = [
        0.0,
        1.003,  # sqrt(4) - 1 + 0.003
        -1.003,
        2.008,  # sqrt(9) - 1 + 0.008
        0.20044,  # sqrt(1.44) - 1 + 0.00044
        9.099,  # sqrt(100) - 1 + 0.099
    ]
    np.testing.assert_allclose(h(x).numpy(), expected, rtol=1e-12, atol=1e-15)


def test_h_inv_hand_values() -> None:
    # h_inv(1.003): sqrt(1 + 4e-3*(1.003 + 1 + 0.001)) = sqrt(1.008016) = 1.004;
    #   (1.004 - 1)/0.002 = 2; 2**2 - 1 = 3.  Dropping the square would give 1 instead.
    x = np.array([0.0, 1.003, -1.003, 2.008, 9.099], dtype=np.float64)
    np.testing.assert_allclose(h_inv(x).numpy(), [0.0, 3.0, -3.0, 8.0, 99.0], rtol=1e-12)


def test_h_inv_matches_the_paper_formula() -> None:
    # The implementation uses a rearranged form; check it against the formula as written.
    # Small |x| is excluded: there the written formula itself loses digits to cancellation.
    x = np.concatenate([-np.geomspace(1e-2, 1e4, 50), np.geomspace(1e-2, 1e4, 50)])
    written = np.sign(x) * (
        ((np.sqrt(1 + 4 * EPS * (np.abs(x) + 1 + EPS)) - 1) / (2 * EPS)) ** 2 - 1
    )
    np.testing.assert_allclose(h_inv(x).numpy(), written, rtol=1e-9)


def test_round_trip_float64() -> None:
    x = _values()
    np.testing.assert_allclose(h_inv(h(x)).numpy(), x, rtol=1e-6, atol=0)
    y = np.linspace(-2000.0, 2000.0, 101)  # h-space covers about [-2000, 2000] for |x| <= 1e6
    np.testing.assert_allclose(h(h_inv(y)).numpy(), y, rtol=1e-6, atol=1e-12)


def test_round_trip_with_other_eps() -> None:
    x = _values()
    for eps in (0.0, 1e-2):
        np.testing.assert_allclose(h_inv(h(x, eps), eps).numpy(), x, rtol=1e-6, atol=0)


def test_monotonic() -> None:
    x = _values()
    hx = h(x).numpy()
    assert np.all(np.diff(hx) > 0)
    y = np.linspace(-2000.0, 2000.0, 1001)
    assert np.all(np.diff(h_inv(y).numpy()) > 0)


def test_dtypes_and_inputs() -> None:
    assert h(np.array([1.0], dtype=np.float64)).dtype == tf.float64
    assert h_inv(np.array([1.0], dtype=np.float64)).dtype == tf.float64
    assert h(tf.constant([1.0])).dtype == tf.float32
    assert h(3).dtype == tf.float32  # ints are promoted
    assert h(3.0).numpy() == pytest.approx(1.003, rel=1e-6)
    assert h_inv(np.array([1.003], dtype=np.float32)).numpy() == pytest.approx([3.0], rel=1e-5)


def test_inside_tf_function() -> None:
    @tf.function
    def round_trip(x: tf.Tensor) -> tf.Tensor:
        return h_inv(h(x))

    x = tf.constant([-50.0, 0.0, 3.0, 1234.0], dtype=tf.float64)
    np.testing.assert_allclose(round_trip(x).numpy(), x.numpy(), rtol=1e-9)


def test_negative_eps_rejected() -> None:
    with pytest.raises(ValueError, match="eps"):
        h(1.0, eps=-1e-3)
    with pytest.raises(ValueError, match="eps"):
        h_inv(1.0, eps=-1e-3)
