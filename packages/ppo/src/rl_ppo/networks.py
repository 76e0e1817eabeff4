"""The actor-critic: torsos chosen from the observation space (an MLP for flat vectors, a
CNN for images, one encoder per key for a ``Dict``), policy and value heads; and the ways
of acting with it: a NumPy mirror for small MLPs and for a lone image through the small
MinAtar CNN, one TensorFlow call otherwise (:func:`acting_policy_for` chooses)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import ThreadpoolController

from rl_core.networks import Dense, Encoder, MinAtarCNN, encoder_for_space
from rl_ppo.distributions import Categorical, DiagGaussian

# Straight-line tensor code: autograph has nothing to convert in it, and converting it
# anyway (recursively, into TFP) was most of the update's first-call tracing time.
_graph_code = tf.autograph.experimental.do_not_convert


class ActorCritic(tf.Module):
    """pi(a|s) as a distribution and V(s), with orthogonal initialization.

    Each torso is :func:`rl_core.networks.encoder_for_space` of the observation space:
    a flat ``Box`` goes through the MLP of ``hidden`` (drawn from the generator in the
    same order as before the encoders existed, so flat-observation runs are unchanged),
    an image through its CNN (``cnn``: the Nature or MinAtar torso), a ``Dict`` through
    one encoder per key. ``shared`` gives policy and value one torso, as CleanRL's
    ``ppo_atari`` shares its CNN.

    Gains follow the PPO implementation study (Engstrom et al., 2020; Huang et al.,
    2022): sqrt(2) in hidden layers, 0.01 for the policy head so the initial
    policy is near uniform, 1 for the value head.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_dim: int,
        discrete: bool,
        hidden: tuple[int, ...],
        activation: str,
        shared: bool,
        log_std_init: float,
        seed: int,
        cnn: str = "auto",
    ) -> None:
        super().__init__(name="actor_critic")
        rng = np.random.default_rng(seed)
        self.discrete = discrete
        self.shared = shared

        def torso(name: str) -> Encoder:
            return encoder_for_space(
                observation_space, rng, hidden=hidden, activation=activation, cnn=cnn, name=name
            )

        self.pi_torso = torso("pi_torso")
        self.v_torso = self.pi_torso if shared else torso("v_torso")
        width = self.pi_torso.out_size
        self.pi_head = Dense(width, action_dim, 0.01, rng, "pi_head")
        self.v_head = Dense(width, 1, 1.0, rng, "v_head")
        if not discrete:
            self.log_std = tf.Variable(tf.fill([action_dim], float(log_std_init)), name="log_std")

    def distribution(self, pi_features: tf.Tensor) -> Categorical | DiagGaussian:
        out = self.pi_head(pi_features)
        if self.discrete:
            return Categorical(out)
        return DiagGaussian(out, self.log_std)

    @_graph_code
    def __call__(self, obs: Any) -> tuple[Categorical | DiagGaussian, tf.Tensor]:
        pi_features = self.pi_torso(obs)
        v_features = pi_features if self.shared else self.v_torso(obs)
        return self.distribution(pi_features), tf.squeeze(self.v_head(v_features), -1)

    @_graph_code
    def policy_head(self, obs: Any) -> tf.Tensor:
        """Logits (discrete) or the Gaussian mean (continuous): what acting needs."""
        return self.pi_head(self.pi_torso(obs))

    @_graph_code
    def value(self, obs: Any) -> tf.Tensor:
        return tf.squeeze(self.v_head(self.v_torso(obs)), -1)

    @_graph_code
    def evaluate(self, obs: Any, actions: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """log pi(a|s) and V(s) for a batch: what the learner needs from a rollout."""
        dist, value = self(obs)
        return dist.log_prob(actions), value

    def named_variables(self) -> dict[str, tf.Variable]:
        """Every variable under a stable, readable name: the keys of the saved weights.

        Names (not ``tf.Module.variables``' order) tie a file to the network, so a file
        from a different architecture fails loudly on load instead of loading shuffled.
        The MLP's layers keep the names they had before the encoders existed
        (``pi_torso/0/w``), so flat-observation checkpoints still load.
        """
        named: dict[str, tf.Variable] = {}
        torsos = [self.pi_torso] if self.shared else [self.pi_torso, self.v_torso]
        for torso in torsos:
            named.update(_encoder_variables(torso))
        for head in (self.pi_head, self.v_head):
            named[f"{head.name}/w"], named[f"{head.name}/b"] = head.w, head.b
        if not self.discrete:
            named["log_std"] = self.log_std
        return named

    def policy_weights(self) -> list[np.ndarray]:
        """The policy path's parameters as NumPy arrays, for the NumPy mirrors: the
        policy torso's CNN (only where :func:`numpy_cnn` mirrors it), the MLP's layers,
        the policy head and, for a Gaussian, ``log_std``."""
        params: list[tf.Variable] = []
        cnn = numpy_cnn(self)
        if cnn is not None:
            params += [p for conv in cnn.convs for p in (conv.w, conv.b)]
            params += [cnn.dense.w, cnn.dense.b]
        mlp = self.pi_torso.mlp
        params += [p for layer in mlp.layers for p in (layer.w, layer.b)] if mlp else []
        params += [self.pi_head.w, self.pi_head.b]
        if not self.discrete:
            params.append(self.log_std)
        return [p.numpy() for p in params]


def numpy_cnn(model: ActorCritic) -> MinAtarCNN | None:
    """The policy torso's CNN when acting mirrors it in NumPy, else None.

    Only a lone image (not a ``Dict``) through the MinAtar CNN: its one 16-channel 3x3
    conv on a 10x10 grid is cheaper in NumPy than a TensorFlow call's dispatch. The
    Nature CNN's 84x84 convolutions are real work, which TensorFlow does faster.
    """
    torso = model.pi_torso
    if torso.kind != "image" or torso.mlp is not None:
        return None
    cnn = torso.parts[0].cnn
    return cnn if isinstance(cnn, MinAtarCNN) else None


def _encoder_variables(torso: Encoder) -> dict[str, tf.Variable]:
    """``torso``'s variables by name: ``<torso>/<i>/w`` for the MLP after the parts,
    ``<torso>/<key>/conv<j>/w`` and ``<torso>/<key>/dense/w`` for an image's CNN
    (``<key>`` is ``obs`` for a lone image)."""
    named: dict[str, tf.Variable] = {}
    keys = torso.keys or ("obs",)
    for key, part in zip(keys, torso.parts, strict=True):
        if part.cnn is None:
            continue  # flat, one-hot: no weights before the MLP
        prefix = f"{torso.name}/{key}"
        for j, conv in enumerate(part.cnn.convs):
            named[f"{prefix}/conv{j}/w"], named[f"{prefix}/conv{j}/b"] = conv.w, conv.b
        named[f"{prefix}/dense/w"], named[f"{prefix}/dense/b"] = part.cnn.dense.w, part.cnn.dense.b
    if torso.mlp is not None:
        for i, layer in enumerate(torso.mlp.layers):
            named[f"{torso.name}/{i}/w"], named[f"{torso.name}/{i}/b"] = layer.w, layer.b
    return named


def sample_actions(
    out: np.ndarray,
    std: np.ndarray | None,
    rng: np.random.Generator,
    deterministic: bool,
) -> np.ndarray:
    """Actions from the policy head's output: logits (``std`` None) or Gaussian means."""
    if std is None:
        if deterministic:
            return out.argmax(axis=-1)
        # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits).
        uniform = np.maximum(rng.random(out.shape), 1e-12)
        return (out - np.log(-np.log(uniform))).argmax(axis=-1)
    if deterministic:
        return out
    return (out + std * rng.standard_normal(out.shape)).astype(np.float32)


class NumpyPolicy:
    """The policy path of :class:`ActorCritic` on flat observations, evaluated in NumPy.

    A TensorFlow call costs ~0.3-0.6 ms of dispatch whatever the batch, far more
    than an 8 x 64 x 64 MLP; acting once per vector step in NumPy (a few
    microseconds) and evaluating log-probabilities and values for the whole
    rollout in one graph call is what makes rollouts fast. A test pins this
    forward pass to the TensorFlow one.

    :meth:`features` is the torso before the MLP (flat observations: themselves);
    :class:`NumpyCNNPolicy` replaces it with the MinAtar CNN and shares the rest.
    """

    def __init__(self, discrete: bool, activation: str) -> None:
        self.discrete = discrete
        self.activation = np.tanh if activation == "tanh" else (lambda x: np.maximum(x, 0.0))
        self.weights: list[np.ndarray] = []

    def load(self, weights: list[np.ndarray]) -> None:
        """The MLP's layers, the policy head and (Gaussian) ``log_std``, in that order."""
        self.weights = weights

    def rollout(self) -> contextlib.AbstractContextManager[None]:
        """A stretch of :meth:`act` calls (a rollout): here nothing to set up;
        :class:`NumpyCNNPolicy` limits BLAS's threads once for the whole stretch."""
        return contextlib.nullcontext()

    def features(self, obs: np.ndarray) -> np.ndarray:
        return obs

    def head(self, obs: np.ndarray) -> np.ndarray:
        """Logits (discrete) or the Gaussian mean (continuous)."""
        w = self.weights
        n_hidden = (len(w) - (2 if self.discrete else 3)) // 2
        x = self.features(obs)
        for i in range(n_hidden):
            x = self.activation(x @ w[2 * i] + w[2 * i + 1])
        return x @ w[2 * n_hidden] + w[2 * n_hidden + 1]

    def act(self, obs: np.ndarray, rng: np.random.Generator, deterministic: bool) -> np.ndarray:
        std = None if self.discrete else np.exp(self.weights[-1])
        return sample_actions(self.head(obs), std, rng, deterministic)


class NumpyCNNPolicy(NumpyPolicy):
    """:class:`NumpyPolicy` with a lone image's conv torso in front, for the MinAtar CNN.

    On MinAtar's 10x10 grids acting through TensorFlow costs 0.5-1.25 ms per vector
    step, nearly all call overhead (benchmarks/RESULTS.md, "PPO on MinAtar"); this
    mirror does the same arithmetic in a fraction of that. Each ``VALID`` convolution
    is im2col plus one matmul: :func:`~numpy.lib.stride_tricks.sliding_window_view`
    gives every ``k x k`` patch as a view ``[B, H', W', C, k, k]``, and the kernel
    ``[k, k, c_in, c_out]`` (``tf.nn.conv2d``'s layout) is transposed once per load to
    the matching ``(c_in * k * k, c_out)`` matrix. The result is ``[B, H', W', c_out]``,
    so flattening it row-major is ``tf.reshape`` of NHWC, as the TensorFlow torso does.
    Images are scaled as :mod:`rl_core.networks.encoders` scales them (per-channel
    divisors; bool as 0/1). A test pins it to the TensorFlow head.

    BLAS runs on one thread here: the conv's (512 x 36) @ (36 x 16) and the dense
    (8 x 1024) @ (1024 x 128) are just over OpenBLAS's threading threshold, and on the
    2 shared cores we measured (load 4.7-5.3, ``benchmarks/ppo_minatar_acting.py``) its
    default threads took 0.5-1.8 ms per call, no faster than TensorFlow's 0.3-0.7 ms,
    against 0.09-0.16 ms on one thread. The limit is set once per rollout
    (:meth:`rollout`, so a rollout does not pay threadpoolctl's set and restore at every
    step) and around each lone call outside one (``predict``, evaluation); never for the
    whole process, so the user's NumPy keeps its threads. Inside a rollout the env's own
    BLAS calls, if it makes any, run on one thread too.
    """

    def __init__(
        self,
        discrete: bool,
        activation: str,
        strides: list[int],
        scale: np.ndarray,
        blas_threads: int | None = 1,
    ) -> None:
        super().__init__(discrete, activation)
        self.blas_threads = blas_threads  # None: leave BLAS's threads as they are
        self.strides = strides
        self.scale = np.asarray(scale, np.float32)
        # (kernel as a matrix, bias, kernel size, stride) per conv layer
        self.convs: list[tuple[np.ndarray, np.ndarray, int, int]] = []
        self.dense: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self._blas = ThreadpoolController()
        self._limited = False  # inside :meth:`rollout`'s limit

    @classmethod
    def for_model(
        cls, model: ActorCritic, activation: str, blas_threads: int | None = 1
    ) -> NumpyCNNPolicy:
        cnn = numpy_cnn(model)
        if cnn is None:
            raise ValueError("the model's policy torso is not a lone MinAtar-CNN image")
        scale = model.pi_torso.parts[0].scale.numpy()
        strides = [conv.stride for conv in cnn.convs]
        return cls(model.discrete, activation, strides, scale, blas_threads)

    def load(self, weights: list[np.ndarray]) -> None:
        """The CNN's conv kernels and biases, its dense layer, then what
        :meth:`NumpyPolicy.load` takes (:meth:`ActorCritic.policy_weights`' order)."""
        n_conv = len(self.strides)
        self.convs = []
        for j, stride in enumerate(self.strides):
            kernel, bias = weights[2 * j], weights[2 * j + 1]
            k, _, c_in, c_out = kernel.shape
            matrix = np.ascontiguousarray(kernel.transpose(2, 0, 1, 3).reshape(c_in * k * k, c_out))
            self.convs.append((matrix, bias, k, stride))
        self.dense = (weights[2 * n_conv], weights[2 * n_conv + 1])
        super().load(weights[2 * n_conv + 2 :])

    @contextlib.contextmanager
    def rollout(self) -> Iterator[None]:
        """BLAS on ``blas_threads`` for the whole stretch of calls, restored after."""
        if self.blas_threads is None or self._limited:
            yield
            return
        with self._blas.limit(limits=self.blas_threads, user_api="blas"):
            self._limited = True
            try:
                yield
            finally:
                self._limited = False

    def features(self, images: np.ndarray) -> np.ndarray:
        if self.blas_threads is None or self._limited:
            return self._cnn(images)
        with self._blas.limit(limits=self.blas_threads, user_api="blas"):
            return self._cnn(images)

    def _cnn(self, images: np.ndarray) -> np.ndarray:
        x = images.astype(np.float32) / self.scale
        for matrix, bias, k, stride in self.convs:
            patches = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]
            b, h, w = patches.shape[:3]
            # One 2-D matmul (a 4-D one would be a BLAS call per image row).
            x = patches.reshape(b * h * w, -1) @ matrix + bias
            x = np.maximum(x, 0.0).reshape(b, h, w, -1)
        w_dense, b_dense = self.dense
        return np.maximum(x.reshape(len(x), -1) @ w_dense + b_dense, 0.0)


def acting_policy_for(
    model: ActorCritic, kind: str, activation: str
) -> NumpyPolicy | TensorFlowPolicy:
    """How the agent acts: NumPy for flat observations (the MLP) and for a lone image
    through the MinAtar CNN, one TensorFlow call for the rest (the Nature CNN's
    convolutions are the cost there; ``Dict`` observations)."""
    if kind == "flat":
        return NumpyPolicy(model.discrete, activation)
    if numpy_cnn(model) is not None:
        return NumpyCNNPolicy.for_model(model, activation)
    return TensorFlowPolicy(model)


class TensorFlowPolicy:
    """Acting with the :class:`ActorCritic` itself: one graph call per vector step.

    For Nature-CNN images, where the 84x84 convolutions are the cost and NumPy would
    only be slower, and for ``Dict`` observations (one encoder per key; not mirrored).
    The head's output comes back to NumPy and is sampled there, from the same
    generator as :class:`NumpyPolicy`, so both paths draw actions the same way.
    """

    def __init__(self, model: ActorCritic) -> None:
        self.model = model
        self.discrete = model.discrete
        # reduce_retracing: evaluation batches shrink as envs finish their episodes.
        self._head = tf.function(model.policy_head, reduce_retracing=True, autograph=False)

    def load(self, weights: list[np.ndarray]) -> None:
        """Nothing to copy: the graph reads the model's variables."""

    def rollout(self) -> contextlib.AbstractContextManager[None]:
        """A stretch of :meth:`act` calls: nothing to set up."""
        return contextlib.nullcontext()

    def head(self, obs: Any) -> np.ndarray:
        return self._head(tf.nest.map_structure(tf.constant, obs)).numpy()

    def act(self, obs: Any, rng: np.random.Generator, deterministic: bool) -> np.ndarray:
        std = None if self.discrete else np.exp(self.model.log_std.numpy())
        return sample_actions(self.head(obs), std, rng, deterministic)
