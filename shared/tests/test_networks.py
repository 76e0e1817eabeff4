from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from rl_core.errors import ConfigError
from rl_core.networks import (
    LSTM,
    MLP,
    Conv2D,
    Dense,
    MinAtarCNN,
    NatureCNN,
    UnsupportedObservationError,
    describe_space,
    encoder_for_space,
    glorot,
    image_scale,
    observation_kind,
    orthogonal,
)
from rl_core.spaces import check_observation_space


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


def test_glorot_draws_within_the_fan_average_limit():
    w = glorot((200, 100), np.random.default_rng(2), scale=0.5)
    limit = 0.5 * np.sqrt(6.0 / 300)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    with pytest.raises(ValueError, match="init"):
        Dense(2, 2, 1.0, np.random.default_rng(0), "d", init="he")


def _conv_numpy(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """VALID cross-correlation by loops, the definition a conv layer must match."""
    k = w.shape[0]
    n, height, width, _ = x.shape
    oh, ow = (height - k) // stride + 1, (width - k) // stride + 1
    out = np.zeros((n, oh, ow, w.shape[3]), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride : i * stride + k, j * stride : j * stride + k, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out + b


def test_conv2d_is_a_valid_cross_correlation_with_its_stride():
    rng = np.random.default_rng(3)
    conv = Conv2D(2, 3, kernel=3, stride=2, gain=1.0, rng=rng, name="c")
    conv.b.assign([0.1, -0.2, 0.3])
    x = rng.normal(size=(2, 7, 9, 2)).astype(np.float32)
    expected = _conv_numpy(x, conv.w.numpy(), conv.b.numpy(), stride=2)
    got = conv(tf.constant(x)).numpy()
    assert got.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_orthogonal_init_is_orthogonal_over_patches():
    conv = Conv2D(
        4, 8, kernel=3, stride=1, gain=np.sqrt(2.0), rng=np.random.default_rng(4), name="c"
    )
    w = conv.w.numpy().reshape(36, 8).astype(np.float64)
    np.testing.assert_allclose(w.T @ w, 2.0 * np.eye(8), atol=1e-5)


def test_the_papers_torsos_have_their_layer_shapes():
    rng = np.random.default_rng(5)
    nature = NatureCNN((84, 84, 4), rng)
    # 84 -> 20 (8/4) -> 9 (4/2) -> 7 (3/1): 7 * 7 * 64 = 3136 (Mnih et al., 2015)
    assert [c.w.shape for c in nature.convs] == [(8, 8, 4, 32), (4, 4, 32, 64), (3, 3, 64, 64)]
    assert nature.flat_size == 3136 and nature.out_size == 512
    out = nature(tf.zeros([2, 84, 84, 4])).numpy()
    assert out.shape == (2, 512)
    minatar = MinAtarCNN((10, 10, 6), rng)
    assert minatar.convs[0].w.shape == (3, 3, 6, 16) and minatar.flat_size == 1024
    assert minatar(tf.ones([3, 10, 10, 6])).shape == (3, 128)


def test_a_too_small_image_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="too small") as excinfo:
        NatureCNN((10, 10, 4), np.random.default_rng(0))
    assert "\n" not in str(excinfo.value)


def test_lstm_step_matches_the_gate_equations():
    rng = np.random.default_rng(6)
    lstm = LSTM(3, 2, rng, "l")
    b = lstm.b.numpy()
    np.testing.assert_array_equal(b, [0, 0, 1, 1, 0, 0, 0, 0])  # forget-gate bias 1
    x = rng.normal(size=(1, 3)).astype(np.float32)
    h0 = rng.normal(size=(1, 2)).astype(np.float32)
    c0 = rng.normal(size=(1, 2)).astype(np.float32)
    h, c = lstm.step(lstm.project(tf.constant(x)), tf.constant(h0), tf.constant(c0))
    z = x @ lstm.w_x.numpy() + b + h0 @ lstm.w_h.numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = np.split(z, 4, axis=-1)
    c_expected = sig(f) * c0 + sig(i) * np.tanh(g)
    np.testing.assert_allclose(c.numpy(), c_expected, rtol=1e-5)
    np.testing.assert_allclose(h.numpy(), sig(o) * np.tanh(c_expected), rtol=1e-5)


def test_encoder_kinds_follow_the_space():
    image = spaces.Box(0, 255, (84, 84, 4), np.uint8)
    grid = spaces.Box(0, 1, (10, 10, 4), bool)
    assert observation_kind(image) == "image" and observation_kind(grid) == "image"
    assert observation_kind(spaces.Box(-1, 1, (84, 84, 4), np.float32)) == "flat"
    assert observation_kind(spaces.Discrete(5)) == "discrete"
    assert observation_kind(spaces.Dict({"image": grid, "direction": spaces.Discrete(4)})) == "dict"
    assert describe_space(image) == "84x84x4 uint8 image -> nature CNN"
    assert describe_space(grid) == "10x10x4 bool image -> minatar CNN"


@pytest.mark.parametrize(
    "space",
    [
        spaces.Text(5),
        spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))),
        spaces.MultiDiscrete([2, 3]),
        spaces.Dict({"inner": spaces.Dict({"x": spaces.Discrete(2)})}),
    ],
)
def test_unsupported_observations_are_one_line_errors(space):
    with pytest.raises(UnsupportedObservationError, match="accepted") as excinfo:
        encoder_for_space(space, np.random.default_rng(0))
    assert "\n" not in str(excinfo.value)


def test_image_encoder_scales_uint8_by_255_and_bool_by_1():
    space = spaces.Box(0, 255, (10, 10, 2), np.uint8)
    encoder = encoder_for_space(space, np.random.default_rng(7), hidden=(8,))
    assert encoder.mlp is None  # a lone image: its CNN's dense layer is the last one
    pixels = np.random.default_rng(8).integers(0, 256, (3, 10, 10, 2)).astype(np.uint8)
    cnn = encoder.parts[0].cnn
    np.testing.assert_allclose(
        encoder(tf.constant(pixels)).numpy(),
        cnn(tf.constant(pixels / 255.0, tf.float32)).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    grid_space = spaces.Box(0, 1, (10, 10, 2), bool)
    grid_encoder = encoder_for_space(grid_space, np.random.default_rng(7), hidden=(8,))
    grid = pixels > 128
    np.testing.assert_allclose(
        grid_encoder(tf.constant(grid)).numpy(),
        grid_encoder.parts[0].cnn(tf.constant(grid, tf.float32)).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_discrete_observations_are_one_hot_from_start():
    encoder = encoder_for_space(spaces.Discrete(3, start=-1), np.random.default_rng(9), hidden=())
    np.testing.assert_array_equal(
        encoder(tf.constant([-1, 1, 0])).numpy(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    )


def test_dict_encoder_concatenates_parts_in_key_order_then_the_mlp():
    space = spaces.Dict(
        {
            "direction": spaces.Discrete(4),
            "image": spaces.Box(0, 255, (7, 7, 3), np.uint8),
            "speed": spaces.Box(-1, 1, (2,), np.float32),
        }
    )
    encoder = encoder_for_space(space, np.random.default_rng(10), hidden=(16,), activation="relu")
    rng = np.random.default_rng(11)
    obs = {
        "direction": np.array([2, 0]),
        "image": rng.integers(0, 256, (2, 7, 7, 3)).astype(np.uint8),
        "speed": rng.normal(size=(2, 2)).astype(np.float32),
    }
    image = encoder.parts[1]
    features = np.concatenate(
        [
            np.eye(4)[obs["direction"]],
            image.cnn(tf.constant(obs["image"] / 255.0, tf.float32)).numpy(),
            obs["speed"],
        ],
        axis=-1,
    )
    layer = encoder.mlp.layers[0]
    expected = np.maximum(features @ layer.w.numpy() + layer.b.numpy(), 0.0)
    got = encoder({k: tf.constant(v) for k, v in obs.items()}).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert encoder.out_size == 16 and image.out_size == 128  # 7x7: MinAtar's CNN


def test_an_algorithm_rejects_kinds_it_does_not_take_in_one_line():
    image = spaces.Box(0, 255, (84, 84, 4), np.uint8)
    assert check_observation_space(image, ("flat", "image"), "PPO") == "image"
    with pytest.raises(UnsupportedObservationError) as excinfo:
        check_observation_space(image, ("flat",), "MPO", env="ALE/Pong-v5")
    message = str(excinfo.value)
    assert message == (
        "MPO does not take image observations of ALE/Pong-v5 (84x84x4 uint8); it takes: flat Box"
    )


def test_image_scale_uses_the_declared_per_channel_bounds():
    pixels = spaces.Box(0, 255, (84, 84, 4), np.uint8)
    np.testing.assert_array_equal(image_scale(pixels), [255] * 4)
    high = np.broadcast_to(np.array([10, 5, 2], np.uint8), (7, 7, 3))
    codes = spaces.Box(0, high, dtype=np.uint8)
    np.testing.assert_array_equal(image_scale(codes), [10, 5, 2])
    encoder = encoder_for_space(codes, np.random.default_rng(0))
    x = np.broadcast_to(np.array([10, 5, 2], np.uint8), (1, 7, 7, 3))
    np.testing.assert_allclose(
        encoder(tf.constant(x)).numpy(),
        encoder.parts[0].cnn(tf.ones([1, 7, 7, 3])).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
