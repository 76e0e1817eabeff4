"""PPO on images, Dict and Discrete observations; reward clipping; unsupported spaces."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from rl_ppo import PPO, PPOConfig
from rl_ppo.networks import NumpyCNNPolicy, NumpyPolicy

from rl_core.config import apply_overrides
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.math import gae
from rl_core.networks import MLP, UnsupportedObservationError


class SideImageEnv(gym.Env):
    """One-step episodes: a lit pixel in a 10x10 grid (channel 0, channel 1 all lit); the
    rewarded action is 0 if it is in the left half, 1 in the right. A policy that reads
    the image gets ``good`` every episode, a random one ``(good + bad) / 2`` on average.

    With ``with_flip`` the observation is a Dict: the image and a Discrete(2) ``flip``
    that swaps the rewarded action, so only a policy reading both keys beats chance.
    """

    def __init__(self, dtype=np.uint8, good=1.0, bad=0.0, with_flip=False):
        high = 255 if dtype == np.uint8 else 1
        image = spaces.Box(0, high, (10, 10, 2), dtype)
        self.observation_space = (
            spaces.Dict({"image": image, "flip": spaces.Discrete(2)}) if with_flip else image
        )
        self.action_space = spaces.Discrete(2)
        self.dtype, self.high, self.good, self.bad = dtype, high, good, bad
        self.with_flip = with_flip

    def _observe(self):
        row, col = self.np_random.integers(0, 10, size=2)
        image = np.zeros((10, 10, 2), self.dtype)
        image[row, col, 0] = self.high
        image[:, :, 1] = self.high
        self.answer = int(col >= 5)
        if not self.with_flip:
            return image
        flip = int(self.np_random.integers(0, 2))
        self.answer ^= flip
        return {"image": image, "flip": flip}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._observe(), {}

    def step(self, action):
        reward = self.good if int(action) == self.answer else self.bad
        return self._observe(), reward, True, False, {}


gym.register("ppo_test/SideImage-v0", entry_point=SideImageEnv)
gym.register("ppo_test/SideGrid-v0", entry_point=SideImageEnv, kwargs={"dtype": np.bool_})
gym.register("ppo_test/SideScore-v0", entry_point=SideImageEnv, kwargs={"good": 5, "bad": -3})
gym.register("ppo_test/SideFlip-v0", entry_point=SideImageEnv, kwargs={"with_flip": True})


class TupleEnv(gym.Env):
    observation_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3)))
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return (0, 0), {}


gym.register("ppo_test/Tuple-v0", entry_point=TupleEnv)


def image_config(env: str = "ppo_test/SideImage-v0", **overrides) -> PPOConfig:
    base = {
        "env": env,
        "num_envs": 8,
        "n_steps": 16,
        "minibatch_size": 32,
        "n_epochs": 4,
        "learning_rate": 1e-3,
        "ent_coef": 0.01,
        "shared_network": True,
        "cnn": "minatar",
        "device": "cpu",
        "seed": 0,
    }
    return apply_overrides(PPOConfig(), {**base, **overrides})


def test_images_are_stored_as_uint8_never_flattened_and_raw_obs_is_not_a_copy():
    agent = PPO(image_config())
    agent.reset_envs()
    buf = agent.collect_rollout()
    assert buf["obs"].dtype == np.uint8 and buf["obs"].shape == (16, 8, 10, 10, 2)
    assert buf["raw_obs"] is buf["obs"]  # nothing normalized: one array
    assert set(np.unique(buf["obs"])) == {0, 255}
    assert isinstance(agent.acting_policy, NumpyCNNPolicy)  # MinAtar's CNN: acts in NumPy
    # The network's torso is the CNN, acting on the image (not an MLP on 200 floats).
    assert agent.model.pi_torso.parts[0].cnn is not None and agent.model.pi_torso.mlp is None


def test_bool_grids_are_stored_as_uint8_zero_one():
    agent = PPO(image_config("ppo_test/SideGrid-v0"))
    agent.reset_envs()
    buf = agent.collect_rollout()
    assert buf["obs"].dtype == np.uint8 and set(np.unique(buf["obs"])) == {0, 1}
    # The encoder scales a bool grid by 1, not 255: channel 1 (all lit) reaches the CNN as 1.0.
    np.testing.assert_array_equal(agent.model.pi_torso.parts[0].scale.numpy(), [1.0, 1.0])


def test_acting_in_numpy_follows_the_model_after_updates():
    # Stale weights (not reloaded after each update) would act as the initial policy.
    agent = PPO(image_config())
    agent.learn(256)
    obs = np.random.default_rng(0).integers(0, 256, (5, 10, 10, 2)).astype(np.uint8)
    dist, _ = agent.model(tf.constant(obs))
    np.testing.assert_allclose(agent.acting_policy.head(obs), dist.logits.numpy(), rtol=1e-5)
    np.testing.assert_array_equal(agent.predict(obs), dist.logits.numpy().argmax(-1))


def test_flat_observations_keep_the_numpy_mirror_and_their_weights():
    # The MLP torsos must be drawn as before the encoders: policy MLP, value MLP, heads.
    agent = PPO(apply_overrides(PPOConfig(), {"device": "cpu", "seed": 3}))
    assert isinstance(agent.acting_policy, NumpyPolicy)
    rng = np.random.default_rng(3)
    pi = MLP(4, (64, 64), "tanh", rng, "pi")
    v = MLP(4, (64, 64), "tanh", rng, "v")
    named = agent.model.named_variables()
    for i in range(2):
        np.testing.assert_array_equal(named[f"pi_torso/{i}/w"].numpy(), pi.layers[i].w.numpy())
        np.testing.assert_array_equal(named[f"v_torso/{i}/w"].numpy(), v.layers[i].w.numpy())


@pytest.mark.learning
def test_ppo_learns_to_read_an_image():
    # Random play scores 0.5; the side of the lit pixel is visible only in the image.
    agent = PPO(image_config())
    agent.learn(6_144)
    result = evaluate_policy(agent, "ppo_test/SideImage-v0", episodes=200, seed=123)
    assert result.return_mean >= 0.9, result.return_mean


@pytest.mark.learning
def test_ppo_learns_from_a_dict_of_image_and_discrete():
    # The rewarded action is (side XOR flip): a policy ignoring either key scores 0.5.
    agent = PPO(image_config("ppo_test/SideFlip-v0"))
    agent.reset_envs()
    buf = agent.collect_rollout()
    assert set(buf["obs"]) == {"image", "flip"}
    assert buf["obs"]["image"].dtype == np.uint8 and buf["obs"]["image"].shape == (16, 8, 10, 10, 2)
    assert buf["obs"]["flip"].dtype == np.int64 and buf["obs"]["flip"].shape == (16, 8)
    agent.learn(12_288)
    result = evaluate_policy(agent, "ppo_test/SideFlip-v0", episodes=200, seed=123)
    assert result.return_mean >= 0.85, result.return_mean


def test_clip_reward_trains_on_signs_and_reports_game_scores():
    agent = PPO(image_config("ppo_test/SideScore-v0", clip_reward=True))
    agent.reset_envs()
    buf, _ = agent.next_rollout()
    env_rewards = buf["env_rewards"]
    assert set(np.unique(env_rewards)) == {-3.0, 5.0}  # the env's game score, unclipped
    np.testing.assert_array_equal(buf["rewards"], np.sign(env_rewards))
    # The advantages are GAE of the clipped rewards (every step ends its episode here).
    next_values = np.zeros_like(buf["values"])
    adv, _ = gae(
        np.sign(env_rewards),
        buf["values"],
        next_values,
        buf["terminated"],
        buf["truncated"],
        agent.config.gamma,
        agent.config.gae_lambda,
    )
    np.testing.assert_allclose(buf["advantages"], adv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(buf["advantages"], np.sign(env_rewards) - buf["values"], atol=1e-6)
    # Episode statistics (charts/episodic_return) keep the game score.
    assert set(agent.stats.recent_returns) == {-3.0, 5.0}
    episodic = agent.stats.summary()["charts/episodic_return"]
    assert episodic == pytest.approx(np.mean(agent.stats.recent_returns))


def test_without_clip_reward_ppo_learns_from_the_game_score():
    agent = PPO(image_config("ppo_test/SideScore-v0"))
    agent.reset_envs()
    buf, _ = agent.next_rollout()
    np.testing.assert_array_equal(buf["rewards"], buf["env_rewards"])


def test_an_unsupported_observation_space_is_one_line_before_training():
    with pytest.raises(UnsupportedObservationError, match="Tuple observations") as excinfo:
        PPO(image_config("ppo_test/Tuple-v0"))
    assert "\n" not in str(excinfo.value)


def test_normalize_observations_is_refused_for_images():
    with pytest.raises(ConfigError, match="flat Box observations only") as excinfo:
        PPO(image_config(normalize_observations=True))
    assert "\n" not in str(excinfo.value)


def test_nature_cnn_on_a_small_image_is_a_config_error():
    with pytest.raises(ConfigError, match="too small"):
        PPO(image_config(cnn="nature"))


def test_image_agent_saves_and_loads_its_cnn(tmp_path):
    agent = PPO(image_config(shared_network=False))
    agent.learn(128)
    named = agent.model.named_variables()
    assert "pi_torso/obs/conv0/w" in named and "v_torso/obs/dense/w" in named
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    obs = np.random.default_rng(1).integers(0, 256, (6, 10, 10, 2)).astype(np.uint8)
    np.testing.assert_array_equal(agent.acting_policy.head(obs), again.acting_policy.head(obs))


@pytest.mark.parametrize("env", ["ppo_test/SideImage-v0", "ppo_test/SideFlip-v0"])
def test_an_exported_image_or_dict_policy_acts_as_predict(tmp_path, env):
    from rl_ppo.export import serving_function

    from rl_core.export import export_policy

    agent = PPO(image_config(env))
    agent.learn(128)
    out = export_policy(serving_function(agent), tmp_path / "saved", "savedmodel")
    saved = tf.saved_model.load(str(out)).signatures["serving_default"]
    probe = SideImageEnv(with_flip=env.endswith("Flip-v0"))
    probe.reset(seed=0)
    samples = [probe._observe() for _ in range(32)]
    if isinstance(samples[0], dict):
        obs = {
            "image": np.stack([s["image"] for s in samples]),
            "flip": np.array([s["flip"] for s in samples]),
        }
        feeds = {k: tf.constant(v) for k, v in obs.items()}
    else:
        obs = np.stack(samples)
        feeds = {"observations": tf.constant(obs)}
    np.testing.assert_array_equal(saved(**feeds)["actions"].numpy(), agent.predict(obs))


def _preset(name: str) -> dict:
    import tomllib
    from pathlib import Path

    import rl_ppo

    return tomllib.loads((Path(rl_ppo.__file__).parent / "presets" / f"{name}.toml").read_text())


@pytest.mark.parametrize(
    ("name", "space", "megabytes"),
    [
        ("atari", spaces.Box(0, 255, (84, 84, 4), np.uint8), "28.9 MB"),
        ("minatar", spaces.Box(0, 1, (10, 10, 4), bool), "3.3 MB"),
        ("minatar", spaces.Box(0, 1, (10, 10, 10), bool), "8.2 MB"),
    ],
)
def test_image_presets_state_their_uint8_rollout_buffer_memory(name, space, megabytes):
    from rl_ppo.observations import ObservationFormat

    settings = _preset(name)
    help_text = settings.pop("preset")["help"]
    config = apply_overrides(PPOConfig(), settings)  # the preset is a valid config
    nbytes = ObservationFormat(space, config.env).nbytes(config.n_steps, config.num_envs)
    assert f"{nbytes / 1e6:.1f} MB" == megabytes and megabytes in help_text


def test_the_minigrid_preset_states_its_rollout_buffer_memory():
    from rl_ppo.observations import ObservationFormat

    settings = _preset("minigrid")
    help_text = settings.pop("preset")["help"]
    config = apply_overrides(PPOConfig(), settings)
    space = spaces.Dict(
        {"image": spaces.Box(0, 10, (7, 7, 3), np.uint8), "direction": spaces.Discrete(4)}
    )
    nbytes = ObservationFormat(space, config.env).nbytes(config.n_steps, config.num_envs)
    assert nbytes == 8 * 128 * (7 * 7 * 3 + 8)  # uint8 grid, int64 direction
    assert f"{nbytes / 1e6:.2f} MB" in help_text


def test_the_atari_preset_is_cleanrls_ppo_atari():
    config = apply_overrides(
        PPOConfig(), {k: v for k, v in _preset("atari").items() if k != "preset"}
    )
    assert (config.num_envs, config.n_steps, config.n_epochs) == (8, 128, 4)
    assert config.num_envs * config.n_steps // config.minibatch_size == 4  # 4 minibatches
    assert (config.learning_rate, config.anneal_lr, config.clip_range) == (2.5e-4, True, 0.1)
    assert (config.ent_coef, config.gamma, config.gae_lambda, config.max_grad_norm) == (
        0.01,
        0.99,
        0.95,
        0.5,
    )
    # CleanRL's vf_coef 0.5 multiplies half the squared error; ours the whole of it.
    assert config.vf_coef == 0.25 and config.clip_value_loss and config.clip_value_range == 0.1
    assert config.cnn == "nature" and config.shared_network and config.clip_reward
