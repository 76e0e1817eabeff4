from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from rl_core.networks import MLP, Dense, orthogonal


@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (4, 4)])
def test_orthogonal_has_orthonormal_columns_or_rows_times_the_gain(shape):
    w = orthogonal(shape, 2.0, np.random.default_rng(0)).astype(np.float64)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


def test_dense_and_mlp_compute_what_their_weights_say():
    rng = np.random.default_rng(1)
    mlp = MLP(3, (5, 2), "relu", rng, "m")
    head = Dense(2, 1, 1.0, rng, "h")
    x = rng.normal(size=(4, 3)).astype(np.float32)
    expected = x
    for layer in mlp.layers:
        expected = np.maximum(expected @ layer.w.numpy() + layer.b.numpy(), 0.0)
    np.testing.assert_allclose(mlp(tf.constant(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    out = head(mlp(tf.constant(x))).numpy()
    np.testing.assert_allclose(out, expected @ head.w.numpy(), rtol=1e-5, atol=1e-6)
    assert mlp.out_size == 2 and [layer.w.shape for layer in mlp.layers] == [(3, 5), (5, 2)]
    with pytest.raises(ValueError, match="activation"):
        MLP(3, (4,), "gelu", rng, "bad")
