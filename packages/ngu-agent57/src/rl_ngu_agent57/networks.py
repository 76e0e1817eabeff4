"""Networks: the R2D2 recurrent dueling Q-network (UVFA inputs), the inverse-dynamics
embedding of NGU's episodic novelty, and RND's target/predictor pair.

The layers are :mod:`rl_core.networks`' (Glorot-uniform initialized, the Sonnet default
of the R2D2/NGU reference code). Each network takes either flat float observations
(``[..., D]``) or images (``[..., H, W, C]``, uint8; see :mod:`rl_ngu_agent57.observations`):

============================  ==========================  ================================
network                       flat observations           images
============================  ==========================  ================================
Q-network torso               ReLU MLP ``hidden_sizes``   the Nature CNN (Mnih et al.,
                                                          2015: 32 8x8/4, 64 4x4/2, 64
                                                          3x3/1, dense 512; R2D2, NGU) or
                                                          MinAtar's (16 3x3/1, dense 128)
embedding f(x) (NGU)          ReLU MLP, linear            the same conv layers, linear
                              ``embedding_size``          ``embedding_size`` (NGU: 32)
inverse-dynamics classifier   ReLU MLP ``hidden_sizes``, linear ``num_actions``
RND target and predictor      ReLU MLP, linear            the same conv layers, linear
                              ``rnd_output_size``         ``rnd_output_size`` (NGU: 128)
============================  ==========================  ================================
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.errors import ConfigError
from rl_core.networks import LSTM, MLP, Conv2D, Dense, encoder_for_space
from rl_core.networks.conv import MINATAR_LAYERS, NATURE_LAYERS, conv_output_size
from rl_core.networks.encoders import choose_cnn
from rl_core.spaces import image_scale

CONV_LAYERS = {"nature": NATURE_LAYERS, "minatar": MINATAR_LAYERS}


def _dense(n_in: int, n_out: int, rng: np.random.Generator, name: str) -> Dense:
    """A Glorot-uniform dense layer (gain 1), as every layer of these networks."""
    return Dense(n_in, n_out, 1.0, rng, name, init="glorot")


def _relu_mlp(n_in: int, hidden: tuple[int, ...], rng: np.random.Generator, name: str) -> MLP:
    return MLP(n_in, tuple(hidden), "relu", rng, name, init="glorot")


class ImageInput:
    """What the networks need to know of an image observation space: its shape, the
    per-channel divisors to [0, 1] (:func:`rl_core.spaces.image_scale`: 255 for pixels, the
    declared maxima of channels of small codes, 1 for bool) and the CNN (``"nature"`` or
    ``"minatar"``) its torsos use."""

    def __init__(self, space: spaces.Box, cnn: str = "auto") -> None:
        self.space = space
        self.shape = tuple(int(d) for d in space.shape)
        self.scale = np.asarray(image_scale(space), np.float32)
        self.cnn = choose_cnn(space, cnn)

    def scaled(self, images: tf.Tensor) -> tf.Tensor:
        """uint8 (or 0/1) images as floats in [0, 1]."""
        return tf.cast(images, tf.float32) / self.scale


class ConvStack(tf.Module):
    """The conv layers of the Nature or MinAtar CNN (ReLU after each), flattened, without
    the CNN's dense layer: NGU's embedding and RND put their own linear output on them."""

    def __init__(self, image: ImageInput, rng: np.random.Generator, name: str) -> None:
        super().__init__(name=name)
        height, width, channels = image.shape
        self.strides = []
        self.convs = []
        for i, (out_channels, kernel, stride) in enumerate(CONV_LAYERS[image.cnn]):
            height = conv_output_size(height, kernel, stride)
            width = conv_output_size(width, kernel, stride)
            if height < 1 or width < 1:
                h, w, _ = image.shape
                raise ConfigError(
                    f"a {h}x{w} image is too small for the {image.cnn} CNN (layer {i + 1} "
                    f'has kernel {kernel}, stride {stride}); use cnn = "minatar"'
                )
            self.convs.append(
                Conv2D(
                    channels, out_channels, kernel, stride, 1.0, rng, f"{name}_conv{i}", "glorot"
                )
            )
            self.strides.append(stride)
            channels = out_channels
        self.out_size = height * width * channels

    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        x = images
        for conv in self.convs:
            x = tf.nn.relu(conv(x))
        return tf.reshape(x, [-1, self.out_size])


class LinearHead(tf.Module):
    """A torso (a ReLU MLP or a :class:`ConvStack`), then a linear layer of ``n_out``."""

    def __init__(self, torso: tf.Module, n_out: int, rng: np.random.Generator, name: str) -> None:
        super().__init__(name=name)
        # Attribute names sort "hidden" before "out", so the variables come in the order
        # of the layers (checkpoints index them by position).
        self.hidden = torso
        self.out = _dense(torso.out_size, n_out, rng, f"{name}_out")
        self.out_size = n_out

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return self.out(self.hidden(x))

    def dense_layers(self) -> list[Dense]:
        """The dense layers in order (the hidden MLP's, then the output)."""
        hidden = self.hidden.layers if isinstance(self.hidden, MLP) else []
        return [*hidden, self.out]


def _head(
    obs_dim: int,
    image: ImageInput | None,
    hidden: tuple[int, ...],
    n_out: int,
    rng: np.random.Generator,
    name: str,
) -> LinearHead:
    """A ReLU MLP (flat inputs) or the conv stack (images), then ``n_out`` linear units."""
    torso = _relu_mlp(obs_dim, hidden, rng, name) if image is None else ConvStack(image, rng, name)
    return LinearHead(torso, n_out, rng, name)


class RecurrentQNetwork(tf.Module):
    """R2D2's Q-network as NGU conditions it: a torso of the observation (a ReLU MLP, or
    the Nature/MinAtar CNN for images), concatenated with one-hot j, the one-hot previous
    action and the previous extrinsic and intrinsic rewards, into an LSTM, then a dueling
    head Q = V + A - mean_a A.

    The previous intrinsic reward enters multiplied by ``intrinsic_input_scale``: NGU's
    episodic reward is about 1 / sqrt(k * kernel_epsilon) ~ 30 for a state unlike its k
    neighbours (every state of a DeepSea episode), up to 5x that with the lifelong
    modulator, and an input of 30-150 saturates the LSTM gates exactly at the novel
    states exploration is after; the agents pass sqrt(k * kernel_epsilon)."""

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        num_policies: int,
        hidden: tuple[int, ...],
        lstm_units: int,
        rng: np.random.Generator,
        name: str,
        intrinsic_input_scale: float = 1.0,
        image: ImageInput | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_actions = num_actions
        self.num_policies = num_policies
        self.intrinsic_input_scale = intrinsic_input_scale
        self.image_shape = None if image is None else image.shape
        if image is None:
            self.torso = _relu_mlp(obs_dim, hidden, rng, f"{name}_torso")
        else:
            self.torso = encoder_for_space(
                image.space, rng, cnn=image.cnn, init="glorot", name=f"{name}_torso"
            )
        n_in = self.torso.out_size + num_policies + num_actions + 2
        self.lstm = LSTM(n_in, lstm_units, rng, f"{name}_lstm")
        self.value = _dense(lstm_units, 1, rng, f"{name}_value")
        self.advantage = _dense(lstm_units, num_actions, rng, f"{name}_advantage")

    def _torso(self, obs: tf.Tensor) -> tf.Tensor:
        """Torso features of observations with any leading axes (time, batch)."""
        if self.image_shape is None:
            return self.torso(obs)
        features = self.torso(tf.reshape(obs, [-1, *self.image_shape]))
        lead = tf.shape(obs)[: -len(self.image_shape)]
        return tf.reshape(features, tf.concat([lead, [self.torso.out_size]], axis=0))

    def _features(self, obs, policy, prev_action, prev_re, prev_ri) -> tf.Tensor:
        return tf.concat(
            [
                self._torso(obs),
                tf.one_hot(policy, self.num_policies),
                tf.one_hot(prev_action, self.num_actions),
                prev_re[..., None],
                self.intrinsic_input_scale * prev_ri[..., None],
            ],
            axis=-1,
        )

    def _head(self, h: tf.Tensor) -> tf.Tensor:
        adv = self.advantage(h)
        return self.value(h) + adv - tf.reduce_mean(adv, axis=-1, keepdims=True)

    def step(self, obs, policy, prev_action, prev_re, prev_ri, h, c):
        """One batched step: Q [B, A] and the next state."""
        x = self.lstm.project(self._features(obs, policy, prev_action, prev_re, prev_ri))
        h, c = self.lstm.step(x, h, c)
        return self._head(h), h, c

    def unroll(self, obs, policy, prev_action, prev_re, prev_ri, first, h, c, burn_in: int = 0):
        """Q [T, B, A] over time-major sequences from the stored state (h, c).

        The state is reset to zero where ``first`` is 1 (an episode starts there), so front
        padding before an episode start never leaks into it. The state after the first
        ``burn_in`` steps is detached: burn-in only warms the state up (R2D2, Section 3).
        """
        steps = obs.shape[0]
        policy_t = tf.broadcast_to(policy[None], tf.shape(prev_action))
        x = self.lstm.project(self._features(obs, policy_t, prev_action, prev_re, prev_ri))
        outputs = []
        for t in range(steps):
            if t == burn_in and burn_in > 0:
                h, c = tf.stop_gradient(h), tf.stop_gradient(c)
            keep = 1.0 - first[t][:, None]
            h, c = self.lstm.step(x[t], h * keep, c * keep)
            outputs.append(h)
        return self._head(tf.stack(outputs))


class EmbeddingNetwork(tf.Module):
    """f(x) of NGU, trained through an inverse-dynamics classifier p(a | f(x_t), f(x_t+1)).

    For images f is the conv layers of the Q-network's CNN, then a linear layer of
    ``embedding_size`` (NGU, appendix: the DQN conv stack and a 32-unit embedding); the
    classifier is a ReLU MLP on the pair of embeddings (NGU: one hidden layer of 128).
    """

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden: tuple[int, ...],
        embedding_size: int,
        rng: np.random.Generator,
        image: ImageInput | None = None,
    ) -> None:
        super().__init__(name="embedding")
        self.image = image
        self.embed = _head(obs_dim, image, hidden, embedding_size, rng, "embed")
        self.classifier = _head(
            2 * embedding_size, None, hidden, num_actions, rng, "inverse_dynamics"
        )

    def _input(self, obs: tf.Tensor) -> tf.Tensor:
        return obs if self.image is None else self.image.scaled(obs)

    def __call__(self, obs: tf.Tensor) -> tf.Tensor:
        return self.embed(self._input(obs))

    def classifier_weights(self) -> list[tf.Variable]:
        """The action predictor's weight matrices (NGU's L2 penalty; biases excluded)."""
        return [layer.w for layer in self.classifier.dense_layers()]

    def action_logits(self, obs: tf.Tensor, next_obs: tf.Tensor) -> tf.Tensor:
        return self.classifier(tf.concat([self(obs), self(next_obs)], axis=-1))

    def embed_variables(self) -> list[tf.Variable]:
        """f's weights and biases in the order :meth:`embed_rowwise` takes them."""
        layers = [*(self.embed.hidden.convs if self.image else []), *self.embed.dense_layers()]
        return [v for layer in layers for v in (layer.w, layer.b)]

    def embed_rowwise(self, obs: tf.Tensor, params: list[tf.Tensor]) -> tf.Tensor:
        """f(obs[r]) with weights ``params[i][r]`` (each of :meth:`embed_variables` stacked
        per row): each row embedded with its own (frozen) copy of f."""
        x = self._input(obs)
        i = 0
        if self.image is not None:
            for stride in self.embed.hidden.strides:
                x = tf.nn.relu(_rowwise_conv(x, params[i], params[i + 1], stride))
                i += 2
            x = tf.reshape(x, [tf.shape(x)[0], self.embed.hidden.out_size])
        while i < len(params):
            x = tf.einsum("ri,rio->ro", x, params[i]) + params[i + 1]
            if i + 2 < len(params):
                x = tf.nn.relu(x)
            i += 2
        return x


def _rowwise_conv(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, stride: int) -> tf.Tensor:
    """Row r of ``x`` convolved (VALID) with filter ``w[r]`` plus bias ``b[r]``."""

    def one(row):
        image, kernel, bias = row
        return tf.nn.conv2d(image[None], kernel, strides=stride, padding="VALID")[0] + bias

    return tf.map_fn(one, (x, w, b), fn_output_signature=tf.float32)


class RNDNetworks(tf.Module):
    """Random Network Distillation: a fixed random target g* and a trained predictor g.

    For images both are the conv layers of the Q-network's CNN, then a linear layer of
    ``out`` (NGU: 128). Burda et al. (2019) use the same three Nature conv layers with
    leaky ReLUs and 512 outputs, and two more dense layers in the predictor; this keeps
    the one torso of the other networks."""

    def __init__(
        self,
        obs_dim: int,
        hidden: tuple[int, ...],
        out: int,
        rng: np.random.Generator,
        image: ImageInput | None = None,
    ) -> None:
        super().__init__(name="rnd")
        self.image = image
        self.target = _head(obs_dim, image, hidden, out, rng, "rnd_target")
        self.predictor = _head(obs_dim, image, hidden, out, rng, "rnd_predictor")

    def error(
        self, obs: tf.Tensor, mean: tf.Tensor | None = None, std: tf.Tensor | None = None
    ) -> tf.Tensor:
        """||g(x) - g*(x)||^2 per observation; with ``mean``/``std`` the input is the
        observation normalized per feature (per pixel for images) and clipped to [-5, 5]
        (Burda et al., 2019, section 2.4); without them images are scaled to [0, 1]."""
        if self.image is not None:
            obs = tf.cast(obs, tf.float32)
            if mean is None:
                obs = obs / self.image.scale
        if mean is not None:
            obs = tf.clip_by_value((obs - mean) / std, -5.0, 5.0)
        target = tf.stop_gradient(self.target(obs))
        return tf.reduce_sum(tf.square(self.predictor(obs) - target), axis=-1)
