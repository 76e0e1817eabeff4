"""Convolutional torsos for image observations (channels last, ``[B, H, W, C]``).

- :class:`NatureCNN`: the DQN torso of Mnih et al. (2015), which R2D2, NGU and Agent57
  keep and CleanRL's ``ppo_atari`` uses: 32 8x8/4, 64 4x4/2, 64 3x3/1, then 512 units.
- :class:`MinAtarCNN`: the MinAtar paper's torso (Young & Tian, 2019): 16 3x3/1, then 128
  units, sized for its 10x10 grids, on which the Nature CNN's first 8x8/4 layer leaves
  a 1x1 map.

Both take float images already scaled to [0, 1] (:mod:`rl_core.networks.encoders` does
the scaling) and use ``VALID`` padding, as the papers' torsos do.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.errors import ConfigError
from rl_core.networks.mlp import Dense, _graph_code, initial_weights


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Output length of a ``VALID`` convolution along one axis."""
    return (size - kernel) // stride + 1


class Conv2D(tf.Module):
    """A 2-D convolution, ``VALID`` padding, weights ``[k, k, c_in, c_out]``.

    The weights are initialized as the ``(k * k * c_in, c_out)`` matrix a dense layer over
    each patch would have (how PyTorch's ``orthogonal_`` treats a conv kernel, which
    CleanRL's Atari agents rely on); Glorot uses the conv fans ``k * k * c_in`` and
    ``k * k * c_out``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        gain: float,
        rng: np.random.Generator,
        name: str,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(name=name)
        self.kernel, self.stride, self.out_channels = kernel, stride, out_channels
        patch = kernel * kernel * in_channels
        if init == "glorot":
            # Glorot's fans for a conv: receptive field times channels, in and out.
            limit = gain * np.sqrt(6.0 / (patch + kernel * kernel * out_channels))
            w = rng.uniform(-limit, limit, (patch, out_channels)).astype(np.float32)
        else:
            w = initial_weights((patch, out_channels), gain, rng, init)
        self.w = tf.Variable(w.reshape(kernel, kernel, in_channels, out_channels), name="w")
        self.b = tf.Variable(tf.zeros([out_channels]), name="b")

    @_graph_code
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        y = tf.nn.conv2d(x, self.w, strides=self.stride, padding="VALID")
        return y + self.b


class ConvTorso(tf.Module):
    """Conv layers (ReLU after each), flatten, one dense ReLU layer of ``out_size`` units.

    ``layers`` lists ``(channels, kernel, stride)``. A too-small image is a one-line
    :class:`~rl_core.errors.ConfigError` at construction, not a shape error in a graph.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        layers: tuple[tuple[int, int, int], ...],
        out_size: int,
        rng: np.random.Generator,
        name: str,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(name=name)
        height, width, channels = image_shape
        gain = np.sqrt(2.0) if init == "orthogonal" else 1.0
        self.convs = []
        for i, (out_channels, kernel, stride) in enumerate(layers):
            height = conv_output_size(height, kernel, stride)
            width = conv_output_size(width, kernel, stride)
            if height < 1 or width < 1:
                h, w, _ = image_shape
                raise ConfigError(
                    f"a {h}x{w} image is too small for the {type(self).__name__} torso "
                    f"(layer {i + 1} has kernel {kernel}, stride {stride}); use a CNN for "
                    'small images (cnn = "minatar")'
                )
            self.convs.append(
                Conv2D(channels, out_channels, kernel, stride, gain, rng, f"{name}_conv{i}", init)
            )
            channels = out_channels
        self.flat_size = height * width * channels
        self.dense = Dense(self.flat_size, out_size, gain, rng, f"{name}_dense", init)
        self.out_size = out_size

    @_graph_code
    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        x = images
        for conv in self.convs:
            x = tf.nn.relu(conv(x))
        x = tf.reshape(x, [-1, self.flat_size])
        return tf.nn.relu(self.dense(x))


NATURE_LAYERS = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
MINATAR_LAYERS = ((16, 3, 1),)


class NatureCNN(ConvTorso):
    """Mnih et al. (2015): 32 8x8/4, 64 4x4/2, 64 3x3/1, dense 512 (84x84 in: 3,136 flat)."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        rng: np.random.Generator,
        name: str = "nature_cnn",
        out_size: int = 512,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(image_shape, NATURE_LAYERS, out_size, rng, name, init)


class MinAtarCNN(ConvTorso):
    """Young & Tian (2019): 16 3x3/1, dense 128 (10x10 in: 1,024 flat)."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        rng: np.random.Generator,
        name: str = "minatar_cnn",
        out_size: int = 128,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(image_shape, MINATAR_LAYERS, out_size, rng, name, init)


CNNS = {"nature": NatureCNN, "minatar": MinAtarCNN}
