"""Image, Discrete and Dict observations: the CNN torsos' shapes (Mnih et al., 2015; Young &
Tian, 2019; NGU appendix), uint8 sequence replay, RND's per-pixel normalization, the frozen
per-slot embedding on images, an image smoke run of both agents, and the vector path kept
bitwise as it was."""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from rl_ngu_agent57 import NGU, Agent57, Agent57Config, NGUConfig
from rl_ngu_agent57.networks import EmbeddingNetwork, ImageInput, RecurrentQNetwork, RNDNetworks
from rl_ngu_agent57.observations import ObservationFormat

from rl_core.config import apply_overrides
from rl_core.errors import ConfigError
from rl_core.networks import UnsupportedObservationError
from rl_core.replay import REPLAY_FILE

ATARI = spaces.Box(0, 255, (84, 84, 4), np.uint8)
MINATAR = spaces.Box(0, 1, (10, 10, 4), bool)


class TinyImageEnv(gym.Env):
    """A dot walking a row of an 8x8 two-channel image (channel 1 marks the goal column);
    reward 1 at the right edge. ``dtype`` uint8 (pixels 0/255) or bool (MinAtar-like)."""

    def __init__(self, dtype: str = "uint8") -> None:
        high = 255 if dtype == "uint8" else 1
        self.observation_space = spaces.Box(0, high, (8, 8, 2), np.dtype(dtype))
        self.action_space = spaces.Discrete(2)
        self.on = np.array(high, np.dtype(dtype))

    def _obs(self) -> np.ndarray:
        image = np.zeros((8, 8, 2), self.on.dtype)
        image[3, self.pos, 0] = self.on
        image[:, 7, 1] = self.on
        return image

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = 0, 0
        return self._obs(), {}

    def step(self, action):
        self.pos = int(np.clip(self.pos + (1 if action == 1 else -1), 0, 7))
        self.t += 1
        reached = self.pos == 7
        return self._obs(), float(reached), reached, self.t >= 12, {}


class TextEnv(gym.Env):
    observation_space = spaces.Text(5)
    action_space = spaces.Discrete(2)


class DictImageEnv(TinyImageEnv):
    """TinyImageEnv's image beside a MiniGrid-like ``direction`` (the step count mod 4)."""

    def __init__(self) -> None:
        super().__init__("uint8")
        self.observation_space = spaces.Dict(
            {"direction": spaces.Discrete(4), "image": self.observation_space}
        )

    def _obs(self):
        return {"direction": self.t % 4, "image": super()._obs()}


class DictFloatImageEnv(gym.Env):
    observation_space = spaces.Dict({"image": MINATAR, "x": spaces.Box(-1, 1, (2,))})
    action_space = spaces.Discrete(2)


for env_id, entry in {
    "NGUTest/TinyImage-v0": TinyImageEnv,
    "NGUTest/Text-v0": TextEnv,
    "NGUTest/DictImage-v0": DictImageEnv,
    "NGUTest/DictFloatImage-v0": DictFloatImageEnv,
}.items():
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=entry)

SMALL = {
    "device": "cpu",
    "num_envs": 2,
    "burn_in": 2,
    "unroll_length": 6,
    "sequence_period": 3,
    "batch_size": 4,
    "learning_starts": 4,
    "lstm_units": 16,
    "hidden_sizes": (16,),
    "log_every": 10**9,
}


def _shapes(layers) -> list[tuple[int, ...]]:
    return [tuple(layer.w.shape) for layer in layers]


def test_atari_torsos_are_the_nature_cnn_and_ngus_embedding_and_rnd_heads():
    rng = np.random.default_rng(0)
    image = ImageInput(ATARI)  # auto: 84x84 takes the Nature CNN
    assert image.cnn == "nature"
    q = RecurrentQNetwork(0, 6, 4, (), 8, rng, "q", image=image)
    cnn = q.torso.parts[0].cnn
    # Mnih et al. (2015): 32 8x8/4, 64 4x4/2, 64 3x3/1 (84 -> 20 -> 9 -> 7), dense 512.
    assert _shapes(cnn.convs) == [(8, 8, 4, 32), (4, 4, 32, 64), (3, 3, 64, 64)]
    assert [conv.stride for conv in cnn.convs] == [4, 2, 1]
    assert tuple(cnn.dense.w.shape) == (7 * 7 * 64, 512)
    assert tuple(q.lstm.w_x.shape) == (512 + 4 + 6 + 2, 4 * 8)
    # NGU appendix: the same conv stack, then a 32-unit embedding; RND: 128 outputs.
    embedding = EmbeddingNetwork(0, 6, (128,), 32, rng, image)
    assert _shapes(embedding.embed.hidden.convs) == _shapes(cnn.convs)
    assert _shapes(embedding.embed.dense_layers()) == [(3136, 32)]
    assert _shapes(embedding.classifier.dense_layers()) == [(64, 128), (128, 6)]
    rnd = RNDNetworks(0, (), 128, rng, image)
    for net in (rnd.target, rnd.predictor):
        assert _shapes(net.hidden.convs) == _shapes(cnn.convs)
        assert _shapes(net.dense_layers()) == [(3136, 128)]
    # Time-major uint8 sequences [T, B, H, W, C] give Q [T, B, A].
    obs = tf.zeros((3, 2, 84, 84, 4), tf.uint8)
    zeros = tf.zeros((3, 2))
    state = tf.zeros((2, 8))
    out = q.unroll(obs, tf.zeros(2, tf.int32), tf.zeros((3, 2), tf.int32), zeros, zeros,
                   zeros, state, state)  # fmt: skip
    assert out.shape == (3, 2, 6)
    assert embedding(obs[0]).shape == (2, 32) and rnd.error(obs[0]).shape == (2,)


def test_minatar_grids_take_minatars_cnn():
    rng = np.random.default_rng(0)
    image = ImageInput(MINATAR)  # auto: 10x10 is below the Nature CNN's 36x36
    assert image.cnn == "minatar" and np.array_equal(image.scale, [1, 1, 1, 1])
    q = RecurrentQNetwork(0, 3, 2, (), 8, rng, "q", image=image)
    cnn = q.torso.parts[0].cnn
    # Young & Tian (2019): 16 3x3/1 (10 -> 8), dense 128.
    assert _shapes(cnn.convs) == [(3, 3, 4, 16)] and tuple(cnn.dense.w.shape) == (1024, 128)
    embedding = EmbeddingNetwork(0, 3, (128,), 32, rng, image)
    assert _shapes(embedding.embed.dense_layers()) == [(1024, 32)]
    # The Nature CNN's 8x8/4 layers leave nothing of a 10x10 grid: a one-line ConfigError.
    with pytest.raises(ConfigError, match="too small for the nature CNN"):
        EmbeddingNetwork(0, 3, (8,), 4, rng, ImageInput(MINATAR, "nature"))


@pytest.mark.parametrize(
    "space", [MINATAR, spaces.Box(0, 255, (36, 36, 2), np.uint8)], ids=["minatar", "nature"]
)
def test_frozen_embedding_rows_use_their_own_weights_on_images(space):
    rng = np.random.default_rng(1)
    embedding = EmbeddingNetwork(0, 3, (8,), 5, rng, ImageInput(space))
    high = 2 if space.dtype == bool else 256
    obs = tf.constant(rng.integers(0, high, (3, *space.shape)).astype(np.uint8))
    current = [v.numpy() for v in embedding.embed_variables()]
    expected = embedding(obs).numpy()
    # Row 1 keeps a copy of f from before a change of the weights; rows 0 and 2 the new f.
    old = [c.copy() for c in current]
    for var in embedding.embed_variables():
        var.assign(var + 0.1)
    new_rows = embedding(obs).numpy()
    params = [np.stack([v.numpy(), o, v.numpy()]) for v, o in zip(embedding.embed_variables(),
                                                                  old, strict=True)]  # fmt: skip
    got = embedding.embed_rowwise(obs, [tf.constant(p) for p in params]).numpy()
    np.testing.assert_allclose(got[[0, 2]], new_rows[[0, 2]], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-5)
    assert not np.allclose(new_rows[1], expected[1])


def test_rnd_normalizes_images_per_pixel_and_clips_to_five():
    rng = np.random.default_rng(2)
    space = spaces.Box(0, 255, (6, 6, 1), np.uint8)
    rnd = RNDNetworks(0, (), 4, rng, ImageInput(space, "minatar"))
    obs = rng.integers(0, 256, (2, 6, 6, 1)).astype(np.uint8)
    mean = rng.uniform(50, 200, (6, 6, 1)).astype(np.float32)
    std = rng.uniform(1, 40, (6, 6, 1)).astype(np.float32)

    def by_hand(x: np.ndarray) -> np.ndarray:
        x = tf.constant(x.astype(np.float32))
        return np.sum((rnd.predictor(x).numpy() - rnd.target(x).numpy()) ** 2, axis=-1)

    # (x - mean) / std per pixel, clipped to [-5, 5] (Burda et al., 2019, section 2.4).
    normalized = np.clip((obs - mean) / std, -5, 5)
    assert np.abs(normalized).max() == 5.0  # the clip matters for these numbers
    got = rnd.error(tf.constant(obs), tf.constant(mean), tf.constant(std)).numpy()
    np.testing.assert_allclose(got, by_hand(normalized), rtol=1e-4)
    # Without the normalization, pixels are scaled to [0, 1].
    np.testing.assert_allclose(rnd.error(tf.constant(obs)).numpy(), by_hand(obs / 255.0),
                               rtol=1e-4)  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "config_cls", "dtype"), [(NGU, NGUConfig, "uint8"), (Agent57, Agent57Config, "bool")]
)
def test_image_smoke_keeps_uint8_replay_through_a_checkpoint(cls, config_cls, dtype, tmp_path):
    config = apply_overrides(
        config_cls(),
        {**SMALL, "env": "NGUTest/TinyImage-v0", "env_kwargs": {"dtype": dtype},
         "replay_capacity": 16},
    )  # fmt: skip
    agent = cls(config).learn(120)
    assert agent.learner.steps > 0
    assert all(np.isfinite(v) for v in agent._recent_metrics.values()), agent._recent_metrics
    stored = agent.replay.state_dict()["data/obs"]
    assert stored.dtype == np.uint8 and stored.shape[2:] == (8, 8, 2)
    assert stored.max() == (255 if dtype == "uint8" else 1)  # bool stored as 0/1 bytes
    # RND's observation statistics are per pixel.
    assert agent.novelty.obs_stats.mean.shape == (8, 8, 2)
    agent.save(tmp_path / "ckpt", include_replay=True)
    with np.load(tmp_path / "ckpt" / REPLAY_FILE) as saved:
        assert saved["data/obs"].dtype == np.uint8
    loaded = cls.load(tmp_path / "ckpt")
    np.testing.assert_array_equal(loaded.replay.state_dict()["data/obs"], stored)
    obs = np.stack([TinyImageEnv(dtype).reset()[0]] * 3)
    np.testing.assert_array_equal(agent.predict(obs), loaded.predict(obs))


def test_unsupported_observations_are_one_line_errors():
    for env_id, words in (("NGUTest/Text-v0", "Text"), ("NGUTest/DictFloatImage-v0", "'x'")):
        with pytest.raises(UnsupportedObservationError, match=words) as error:
            NGU(apply_overrides(NGUConfig(), {"env": env_id, "env_kwargs": {}, "device": "cpu"}))
        assert "\n" not in str(error.value)
        assert "accepted: image Box" in str(error.value)  # what NGU/Agent57 take


def test_discrete_and_dict_observations_become_one_hot_and_concatenated_vectors():
    discrete = ObservationFormat(spaces.Discrete(3, start=1))
    np.testing.assert_array_equal(discrete.batch(np.array([1, 3])), [[1, 0, 0], [0, 0, 1]])
    space = spaces.Dict({"goal": spaces.Discrete(2), "x": spaces.Box(-1, 1, (2,))})
    fmt = ObservationFormat(space)
    obs = {"goal": np.array([1, 0]), "x": np.array([[0.5, -1.0], [0.0, 0.25]])}
    np.testing.assert_array_equal(fmt.batch(obs), [[0, 1, 0.5, -1.0], [1, 0, 0.0, 0.25]])
    items = [{"goal": 1, "x": np.array([0.5, -1.0])}, {"goal": 0, "x": np.array([0.0, 0.25])}]
    np.testing.assert_array_equal(fmt.stack(items), fmt.batch(obs))
    assert fmt.shape == (4,) and fmt.dtype == np.float32 and not fmt.image
    image = ObservationFormat(MINATAR)
    assert image.image and image.dtype == np.uint8 and image.step_bytes == 400


def test_a_dict_of_an_image_and_binary_parts_becomes_one_image_with_planes():
    space = spaces.Dict(
        {
            "direction": spaces.Discrete(4, start=1),
            "image": spaces.Box(0, np.broadcast_to(np.uint8([10, 5]), (3, 2, 2)), dtype=np.uint8),
            "flags": spaces.MultiBinary(2),
        }
    )
    fmt = ObservationFormat(space)
    assert fmt.image and fmt.image_key == "image" and fmt.shape == (3, 2, 2 + 4 + 2)
    assert fmt.dtype == np.uint8 and fmt.step_bytes == 3 * 2 * 8
    # The CNN scales the image channels by their declared maxima and leaves planes 0/1.
    np.testing.assert_array_equal(ImageInput(fmt.image_space).scale, [10, 5, 1, 1, 1, 1, 1, 1])
    image = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2) % 5
    obs = {"direction": np.array([1, 4]), "image": image, "flags": np.array([[0, 1], [1, 1]])}
    out = fmt.batch(obs)
    assert out.shape == (2, 3, 2, 8) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., :2], image)
    # direction 1 (start 1) is one-hot index 0, direction 4 index 3; then the flags.
    for row, planes in enumerate(([1, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 1])):
        np.testing.assert_array_equal(out[row, :, :, 2:], np.broadcast_to(planes, (3, 2, 6)))
    items = [{k: v[i] for k, v in obs.items()} for i in range(2)]
    np.testing.assert_array_equal(fmt.stack(items), out)
    two = spaces.Dict({"a": MINATAR, "b": MINATAR})
    with pytest.raises(UnsupportedObservationError, match="one image per Dict"):
        ObservationFormat(two)


@pytest.mark.parametrize("cls", [NGU, Agent57])
def test_dict_with_an_image_smoke_stores_uint8_planes(cls):
    config_cls = NGUConfig if cls is NGU else Agent57Config
    # Agent57's evaluator steps its own env one raw Dict observation at a time.
    evaluator = {"evaluator_period": 1} if cls is Agent57 else {}
    config = apply_overrides(
        config_cls(), {**SMALL, "env": "NGUTest/DictImage-v0", "env_kwargs": {}, **evaluator}
    )
    agent = cls(config).learn(120)
    assert agent.learner.steps > 0
    if cls is Agent57:
        assert agent.evaluator.episodes == agent.num_episodes > 0
    assert all(np.isfinite(v) for v in agent._recent_metrics.values()), agent._recent_metrics
    stored = agent.replay.state_dict()["data/obs"]
    assert stored.dtype == np.uint8 and stored.shape[2:] == (8, 8, 2 + 4)
    # Every stored step carries exactly one direction plane set, constant over the image.
    planes = stored[..., 2:].reshape(-1, 64, 4)
    filled = planes.sum(axis=(1, 2)) > 0  # padding steps are all zero
    assert filled.any() and (planes[filled].sum(axis=2) == 1).all()
    obs = {
        "direction": np.array([0, 1]),
        "image": np.stack([DictImageEnv().reset()[0]["image"]] * 2),
    }
    assert agent.predict(obs).shape == (2,)


def test_minigrid_doorkey_trains_a_few_steps():
    pytest.importorskip("minigrid")
    config = apply_overrides(NGUConfig(), {**SMALL, "env": "MiniGrid-DoorKey-5x5-v0"})
    agent = NGU(config).learn(40)
    assert agent.observations.shape == (7, 7, 3 + 4)  # image + direction planes
    assert agent.learner.steps > 0


# Recorded with main's code at 9660357 (before rl_core.networks replaced the package's
# own layers and the image path was added): digests of the initial weights, in
# network_variables order, and the losses of the last of ~50 learner steps.
MAIN = {
    "NGU/rl/DeepSea-v0": (
        "d95473bd49365dbfca726d58b1bae5294a081a737be3f4f351e4925ed4c12c3a",
        {"q_loss": 3.7939834594726562, "grad_norm": 2.1439194679260254,
         "q_values": 1.7904187440872192, "inverse_dynamics_loss": 0.4841168522834778,
         "rnd_loss": 2.766017436981201},
    ),
    "Agent57/CartPole-v1": (
        "9639cf4da21396bd2d1604b12b44dfe6d4485ad627ab2fc7bfe5da7f5074de1b",
        {"q_loss": 11.739420890808105, "grad_norm": 8.472479820251465,
         "extrinsic_loss": 0.18884649872779846, "intrinsic_loss": 11.55057430267334,
         "q_values": 1.9295294284820557, "inverse_dynamics_loss": 0.17709305882453918,
         "rnd_loss": 0.7716284394264221},
    ),
}  # fmt: skip


def _digest(agent) -> str:
    h = hashlib.sha256()
    for name, var in agent.network_variables().items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(var.numpy()).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("key", sorted(MAIN))
def test_vector_observations_train_exactly_as_before(key):
    cls = {"NGU": NGU, "Agent57": Agent57}[key.split("/")[0]]
    env = key.split("/", 1)[1]
    config = apply_overrides(
        cls.config_class(),
        {"env": env, "env_kwargs": {"size": 4} if "DeepSea" in env else {}, "device": "cpu",
         "seed": 3, "num_envs": 2, "burn_in": 2, "unroll_length": 6, "sequence_period": 3,
         "batch_size": 4, "learning_starts": 4, "log_every": 10**9},
    )  # fmt: skip
    if cls is Agent57:  # recorded with one bandit for every slot and the mixed-TD priority
        config = apply_overrides(config, {"ucb_shared": True, "priority_td": "mixed"})
    agent = cls(config)
    initial, losses = MAIN[key]
    assert _digest(agent) == initial  # the same weights, drawn in the same order
    agent.learn(120)
    # Bitwise equal on the machine they were recorded on; the tolerance only allows for
    # another CPU's float summation order.
    assert agent._recent_metrics == pytest.approx(losses, rel=1e-4)
