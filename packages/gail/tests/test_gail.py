from __future__ import annotations

import math
import tomllib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import rl_gail
import tensorflow as tf
from rl_gail import GAIL, GAILConfig
from rl_gail.demonstrations import (
    DemonstrationError,
    find_dataset,
    load_demonstrations,
    record_demonstrations,
    resolve_source,
    save_npz,
)
from rl_gail.discriminator import (
    DiscriminatorLearner,
    absorbing_return,
    absorbing_weights,
    bernoulli_entropy,
    discriminator_loss,
    gradient_penalty,
    resolve_reward,
    reward_from_logits,
)

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.spaces import UnsupportedObservationError

CARTPOLE = gym.make("CartPole-v1")
PENDULUM = gym.make("Pendulum-v1")
ACROBOT = gym.make("Acrobot-v1")
CARTPOLE_SPACES = (CARTPOLE.observation_space, CARTPOLE.action_space)
ACROBOT_SPACES = (ACROBOT.observation_space, ACROBOT.action_space)


def preset(name: str) -> dict:
    """A shipped preset's settings, without its `preset` metadata (as `rl train` reads it)."""
    path = Path(rl_gail.__file__).parent / "presets" / f"{name}.toml"
    settings = tomllib.loads(path.read_text())
    settings.pop("preset", None)
    return settings


def small(**overrides) -> GAILConfig:
    base = {"num_envs": 2, "n_steps": 16, "minibatch_size": 16, "n_epochs": 2, "device": "cpu"}
    return apply_overrides(GAILConfig(), {**base, **overrides})


# ------------------------------------------------------------------ formulas


def test_discriminator_loss_matches_hand_computation():
    # -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l)
    # expert logits (0, 2):  (ln 2 + ln(1 + e^-2)) / 2 = (0.693147 + 0.126928) / 2 = 0.410038
    # agent logits (0, -1):  (ln 2 + ln(1 + e^-1)) / 2 = (0.693147 + 0.313262) / 2 = 0.503204
    loss = discriminator_loss(tf.constant([0.0, 2.0]), tf.constant([0.0, -1.0]))
    assert float(loss) == pytest.approx(0.913242, abs=1e-5)


def test_weighted_discriminator_loss_matches_hand_computation():
    # expert logits (0, 2), weights (1, 3): (ln 2 + 3 * 0.126928) / 2 = 0.536966
    # agent logits (0, -1), weights (2, 1): (2 ln 2 + 0.313262) / 2 = 0.849778
    loss = discriminator_loss(
        tf.constant([0.0, 2.0]),
        tf.constant([0.0, -1.0]),
        tf.constant([1.0, 3.0]),
        tf.constant([2.0, 1.0]),
    )
    assert float(loss) == pytest.approx(1.386744, abs=1e-5)


def test_only_absorbing_pairs_take_the_absorbing_weight():
    x = tf.constant([[0.3, 0.0], [0.0, 1.0]])  # the last input is the absorbing indicator
    np.testing.assert_allclose(absorbing_weights(x, 100.0).numpy(), [1.0, 100.0])
    np.testing.assert_allclose(absorbing_weights(x, 1.0).numpy(), [1.0, 1.0])


def test_rewards_are_the_three_functions_of_d():
    logits = tf.constant([0.0, 2.0])
    # D = sigmoid(2) = 0.880797: -log(1 - D) = 2.126928, log D = -0.126928
    positive = reward_from_logits(logits, "positive").numpy()
    negative = reward_from_logits(logits, "negative").numpy()
    logit = reward_from_logits(logits, "logit").numpy()
    np.testing.assert_allclose(positive, [math.log(2), 2.126928], atol=1e-5)
    np.testing.assert_allclose(negative, [-math.log(2), -0.126928], atol=1e-5)
    np.testing.assert_allclose(logit, [0.0, 2.0], atol=1e-6)
    # log D - log(1 - D) is the sum of the other two
    np.testing.assert_allclose(logit, positive + negative, atol=1e-5)
    np.testing.assert_array_equal(reward_from_logits(logits, "constant").numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="unknown reward"):
        reward_from_logits(logits, "env")


def test_reward_signs_follow_d():
    # D = sigmoid(-3) = 0.047426: -log(1 - D) = 0.048587, log D = -3.048587, logit -3.
    # An implementation with a sign or a side swapped (log(1 - D), -log D) fails here.
    logits = tf.constant([-3.0])
    assert float(reward_from_logits(logits, "positive")[0]) == pytest.approx(0.048587, abs=1e-5)
    assert float(reward_from_logits(logits, "negative")[0]) == pytest.approx(-3.048587, abs=1e-5)
    assert float(reward_from_logits(logits, "logit")[0]) == pytest.approx(-3.0)


def test_absorbing_return_is_the_discounted_self_loop():
    # sum_{k>=1} 0.9^k * 2 = 0.9 * 2 / 0.1 = 18 (not 2 / 0.1 = 20: s_a comes one step later)
    assert absorbing_return(2.0, 0.9) == pytest.approx(18.0)
    assert absorbing_return(-0.5, 0.98) == pytest.approx(-0.5 * 0.98 / 0.02)


def test_bernoulli_entropy_by_hand():
    assert float(bernoulli_entropy(tf.constant([0.0]))) == pytest.approx(math.log(2))
    # p = 0.880797: -p ln p - (1 - p) ln(1 - p) = 0.111798 + 0.253536
    assert float(bernoulli_entropy(tf.constant([2.0]))) == pytest.approx(0.365334, abs=1e-5)


def test_gradient_penalty_of_a_quadratic_discriminator():
    # logit = sum(x^2) has gradient 2x; expert = agent = (1, 1) puts every interpolate at
    # (1, 1): ||(2, 2)|| = 2 sqrt 2, penalty (2 sqrt 2 - 1)^2 = 3.343146. The squared norm
    # in place of the norm would give (8 - 1)^2 = 49.
    penalty = gradient_penalty(
        lambda x: tf.reduce_sum(x * x, -1), tf.ones([3, 2]), tf.ones([3, 2]), tf.constant([3, 4])
    )
    assert float(penalty) == pytest.approx((2 * math.sqrt(2) - 1) ** 2, abs=1e-4)
    # Interpolates lie between the two inputs: expert (2, 0), agent (0, 0) puts x at (2u, 0),
    # gradient (4u, 0); a penalty computed at the expert inputs only would be (4 - 1)^2 = 9.
    penalty = gradient_penalty(
        lambda x: tf.reduce_sum(x * x, -1),
        tf.constant([[2.0, 0.0]] * 400),
        tf.zeros([400, 2]),
        tf.constant([5, 6]),
    )
    # E[(4u - 1)^2] over u ~ U(0, 1) = 16/3 - 4 + 1 = 7/3
    assert float(penalty) == pytest.approx(7 / 3, abs=0.25)


def test_discriminator_objective_assembles_bce_entropy_and_penalty():
    # The learner's loss is BCE - c_H * H(D) + lambda * GP, each term pinned above.
    agent = GAIL(small(disc_ent_coef=0.1, grad_penalty=10.0))
    learner = agent.disc_learner
    rng = np.random.default_rng(0)
    agent_x = tf.constant(rng.normal(size=(6, 7)), tf.float32)
    expert_x = tf.constant(rng.normal(size=(6, 7)), tf.float32)
    seed = tf.constant([1, 2])
    out = learner._losses(agent_x, expert_x, seed)
    d = agent.discriminator.logits_of_inputs
    bce = discriminator_loss(d(expert_x), d(agent_x))
    entropy = bernoulli_entropy(tf.concat([d(expert_x), d(agent_x)], 0))
    penalty = gradient_penalty(d, expert_x, agent_x, seed)
    expected = float(bce) - 0.1 * float(entropy) + 10.0 * float(penalty)
    assert float(out["loss"]) == pytest.approx(expected, rel=1e-5)
    assert float(out["grad_penalty"]) == pytest.approx(float(penalty), rel=1e-5)
    # Accuracies are the fractions on the right side of D = 1/2, by hand from the logits.
    expert_right = (d(expert_x).numpy() > 0).mean()
    agent_right = (d(agent_x).numpy() < 0).mean()
    assert float(out["expert_accuracy"]) == pytest.approx(expert_right)
    assert float(out["agent_accuracy"]) == pytest.approx(agent_right)
    assert isinstance(learner, DiscriminatorLearner)


def test_discriminator_objective_weighs_absorbing_pairs():
    agent = GAIL(small(absorbing_weight=100.0))
    rng = np.random.default_rng(0)
    # One absorbing pair on each side (indicator 1, the rest of the row zero).
    agent_x, expert_x = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    agent_x[:, -1], expert_x[:, -1] = [0, 0, 0, 0], [0, 0, 0, 0]
    agent_x[3], expert_x[1] = np.eye(7)[-1], np.eye(7)[-1]
    agent_x, expert_x = tf.constant(agent_x, tf.float32), tf.constant(expert_x, tf.float32)
    out = agent.disc_learner._losses(agent_x, expert_x, tf.constant([1, 2]))
    lx = agent.discriminator.logits_of_inputs(expert_x).numpy()
    la = agent.discriminator.logits_of_inputs(agent_x).numpy()
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    expected = np.mean(softplus(-lx) * [1, 100, 1, 1]) + np.mean(softplus(la) * [1, 1, 1, 100])
    assert float(out["loss"]) == pytest.approx(expected, rel=1e-5)


def test_disc_head_scale_shrinks_only_the_output_layer():
    plain = GAIL(small()).discriminator
    small_head = GAIL(small(disc_head_scale=0.01)).discriminator
    np.testing.assert_allclose(small_head.head.w.numpy(), 0.01 * plain.head.w.numpy(), rtol=1e-5)
    for a, b in zip(plain.torso.layers, small_head.torso.layers, strict=True):
        np.testing.assert_array_equal(a.w.numpy(), b.w.numpy())


def test_gradient_penalty_of_a_linear_discriminator():
    # logit = x . w has gradient w everywhere: ||w|| = 2 gives (2 - 1)^2 = 1, ||w|| = 1 gives 0.
    for w, expected in (([0.0, 2.0], 1.0), ([0.6, 0.8], 0.0)):
        w_t = tf.constant(w)
        penalty = gradient_penalty(
            lambda x, w_t=w_t: tf.reduce_sum(x * w_t, -1),
            tf.ones([5, 2]),
            tf.zeros([5, 2]),
            tf.constant([1, 2]),
        )
        assert float(penalty) == pytest.approx(expected, abs=1e-5)


# ------------------------------------------------------------ demonstrations


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_bundled_cartpole_demos_are_expert_episodes():
    demos = load_demonstrations(
        resolve_source("", "CartPole-v1"), CARTPOLE.observation_space, CARTPOLE.action_space
    )
    assert demos.num_episodes == 10 and len(demos) == 5000
    assert demos.episode_returns.min() >= 475


@pytest.mark.parametrize(
    ("env_id", "obs_dim", "action_dim", "min_return"),
    [("HalfCheetah-v5", 17, 6, 1800), ("Hopper-v5", 11, 3, 3300)],
)
def test_bundled_mujoco_demos_fit_their_spaces_and_never_terminate(
    env_id, obs_dim, action_dim, min_return
):
    # The MuJoCo v5 spaces, built without MuJoCo (an optional extra): Box observations,
    # torques in [-1, 1]. The expert's recorded actions must lie within the bounds (as the
    # env clipped them; unclipped Gaussian samples would hand D a tell).
    observations = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float64)
    actions = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
    demos = load_demonstrations(resolve_source("", env_id), observations, actions)
    assert demos.num_episodes == 10 and len(demos) == 10_000
    assert np.abs(demos.actions).max() <= 1.0
    assert not demos.episode_terminated.any()  # cut by the time limit: no absorbing state
    assert demos.episode_returns.min() > min_return


def test_demo_episodes_keeps_the_first_episodes(tmp_path):
    obs = np.arange(20, dtype=np.float32).reshape(5, 4)
    path = write_npz(
        tmp_path / "d.npz",
        observations=obs,
        actions=np.array([0, 1, 0, 1, 1]),
        episode_lengths=np.array([2, 3]),
        episode_returns=np.array([2.0, 3.0]),
    )
    demos = load_demonstrations(path, CARTPOLE.observation_space, CARTPOLE.action_space, 1)
    np.testing.assert_array_equal(demos.observations, obs[:2])
    assert demos.episode_returns.tolist() == [2.0]
    with pytest.raises(DemonstrationError, match="has 2 episodes"):
        load_demonstrations(path, CARTPOLE.observation_space, CARTPOLE.action_space, 3)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"observations": np.zeros((3, 4))}, "lacks actions"),
        ({"observations": np.zeros((3, 5)), "actions": np.zeros(3, int)}, "shape"),
        ({"observations": np.zeros((3, 4)), "actions": np.array([0, 1, 2])}, "outside"),
        ({"observations": np.zeros((3, 4)), "actions": np.zeros(3)}, "integer"),
        ({"observations": np.zeros((3, 4)), "actions": np.zeros(2, int)}, "3 observations"),
        ({"observations": np.full((3, 4), np.nan), "actions": np.zeros(3, int)}, "NaN"),
        (
            {
                "observations": np.zeros((3, 4)),
                "actions": np.zeros(3, int),
                "episode_lengths": np.array([1, 1]),
            },
            "sum to 3",
        ),
    ],
)
def test_malformed_demonstrations_are_clear_errors(tmp_path, arrays, message):
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DemonstrationError, match=message):
        load_demonstrations(path, CARTPOLE.observation_space, CARTPOLE.action_space)


def test_missing_demonstrations_are_clear_errors(tmp_path):
    spaces = (CARTPOLE.observation_space, CARTPOLE.action_space)
    with pytest.raises(DemonstrationError, match="not found"):
        load_demonstrations(str(tmp_path / "nope.npz"), *spaces)
    with pytest.raises(DemonstrationError, match="an empty folder"):
        load_demonstrations(str(tmp_path), *spaces)
    (tmp_path / "notes.txt").write_text("no dataset here")
    with pytest.raises(DemonstrationError, match="not a Minari dataset"):
        load_demonstrations(str(tmp_path), *spaces)
    with pytest.raises(DemonstrationError, match="local Minari dataset"):
        load_demonstrations("cartpole/nothing-v0", *spaces)
    (tmp_path / "x.npz").write_text("not numpy")
    with pytest.raises(DemonstrationError, match="not a readable"):
        load_demonstrations(str(tmp_path / "x.npz"), *spaces)
    with pytest.raises(DemonstrationError, match="record them"):
        resolve_source("", "LunarLander-v3")
    # A DemonstrationError is a ConfigError: the CLI prints one line and exits 2.
    assert issubclass(DemonstrationError, ConfigError)


class FixedPolicy:
    """Pushes the cart left for two steps, then right: a known action sequence."""

    def predict(self, obs, deterministic=True):
        return np.array([int(abs(obs[0, 0] * 1000)) % 2])


def test_minari_round_trip_and_npz_export(tmp_path):
    path, returns = record_demonstrations(
        FixedPolicy(), "CartPole-v1", {}, 3, tmp_path, "cartpole/test-v0", seed=5
    )
    assert path == tmp_path / "cartpole" / "test-v0" and (path / "data").is_dir()
    demos = load_demonstrations(str(path), CARTPOLE.observation_space, CARTPOLE.action_space)
    assert demos.num_episodes == 3 and len(demos) == int(returns.sum())
    np.testing.assert_allclose(demos.episode_returns, returns)
    # The recorded (s, a) pairs are the ones the policy saw and chose.
    expected = [FixedPolicy().predict(o[None])[0] for o in demos.observations]
    np.testing.assert_array_equal(demos.actions, expected)
    # Replaying episode 0 from its seed gives the same first observation.
    first, _ = gym.make("CartPole-v1").reset(seed=5)
    np.testing.assert_allclose(demos.observations[0], first, rtol=1e-6)
    save_npz(demos, tmp_path / "d.npz")
    again = load_demonstrations(
        str(tmp_path / "d.npz"), CARTPOLE.observation_space, CARTPOLE.action_space
    )
    np.testing.assert_array_equal(again.actions, demos.actions)
    with pytest.raises(ConfigError, match="exists"):
        record_demonstrations(FixedPolicy(), "CartPole-v1", {}, 1, tmp_path, "cartpole/test-v0")


def test_every_accepted_form_of_demos_reads_the_same_episodes(tmp_path, monkeypatch):
    out = tmp_path / "out"
    dataset, _ = record_demonstrations(FixedPolicy(), "CartPole-v1", {}, 2, out, "cartpole/t-v0")
    save_npz(load_demonstrations(str(dataset), *CARTPOLE_SPACES), tmp_path / "d.npz")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(out))
    forms = {
        "the --out folder": str(out),
        "its namespace folder": str(out / "cartpole"),
        "the dataset directory": str(dataset),
        "its data/ folder": str(dataset / "data"),
        "a local id": "cartpole/t-v0",
        "an .npz": str(tmp_path / "d.npz"),
    }
    reference = load_demonstrations(str(dataset), *CARTPOLE_SPACES)
    for form, source in forms.items():
        demos = load_demonstrations(source, *CARTPOLE_SPACES)
        assert demos.num_episodes == 2, form
        np.testing.assert_array_equal(demos.observations, reference.observations, err_msg=form)
    assert find_dataset(out) == dataset


def test_a_folder_of_several_datasets_names_them_in_one_line(tmp_path):
    for name in ("cartpole/a-v0", "cartpole/b-v0"):
        record_demonstrations(FixedPolicy(), "CartPole-v1", {}, 1, tmp_path, name)
    with pytest.raises(DemonstrationError) as error:
        load_demonstrations(str(tmp_path), *CARTPOLE_SPACES)
    message = str(error.value)
    assert "holds 2 Minari datasets (cartpole/a-v0, cartpole/b-v0)" in message
    assert f"demos={tmp_path}/cartpole/a-v0" in message and "\n" not in message
    # Each is still accepted on its own.
    assert load_demonstrations(str(tmp_path / "cartpole/b-v0"), *CARTPOLE_SPACES).num_episodes


def test_a_corrupt_minari_dataset_is_a_clear_error(tmp_path):
    data = tmp_path / "out" / "cartpole" / "bad-v0" / "data"
    data.mkdir(parents=True)
    (data / "metadata.json").write_text("{not json")
    with pytest.raises(DemonstrationError, match="unreadable Minari dataset"):
        load_demonstrations(str(tmp_path / "out"), *CARTPOLE_SPACES)


def test_terminations_are_read_from_minari_and_npz(tmp_path):
    # The scripted Acrobot expert ends every episode at the goal (terminated); CartPole's
    # bundled expert is cut by the time limit (truncated): no absorbing state.
    acrobot = load_demonstrations(resolve_source("", "Acrobot-v1"), *ACROBOT_SPACES)
    assert acrobot.episode_terminated.all() and acrobot.episode_returns.max() > -200
    cartpole = load_demonstrations(resolve_source("", "CartPole-v1"), *CARTPOLE_SPACES)
    assert not cartpole.episode_terminated.any()
    # FixedPolicy drops the pole: Minari records terminations, and the .npz keeps them.
    path, _ = record_demonstrations(FixedPolicy(), "CartPole-v1", {}, 2, tmp_path, "cartpole/t-v1")
    demos = load_demonstrations(str(path), *CARTPOLE_SPACES)
    assert demos.episode_terminated.tolist() == [True, True]
    save_npz(demos, tmp_path / "d.npz")
    again = load_demonstrations(str(tmp_path / "d.npz"), *CARTPOLE_SPACES)
    assert again.episode_terminated.tolist() == [True, True]
    bad = write_npz(
        tmp_path / "bad.npz",
        observations=np.zeros((3, 4)),
        actions=np.zeros(3, int),
        episode_terminated=np.array([1, 0]),
    )
    with pytest.raises(DemonstrationError, match="one bool per episode"):
        load_demonstrations(bad, *CARTPOLE_SPACES)


# ------------------------------------------------------------------- agent


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"reward": "env"}, "reward must be one of auto, positive, negative, logit"),
        ({"disc_epochs": 0}, "disc_epochs must be >= 1"),
        ({"grad_penalty": -1.0}, "grad_penalty must be >= 0"),
        ({"absorbing_weight": 0.0}, "absorbing_weight must be > 0"),
        ({"disc_head_scale": 0.0}, "disc_head_scale must be > 0"),
    ],
)
def test_bad_settings_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        small(**override)


def test_the_generator_never_learns_from_the_env_reward():
    # NaN rewards from the env: if any reached the generator's update, the weights would be NaN.
    agent = GAIL(small(grad_penalty=10.0, disc_ent_coef=0.01, bc_epochs=1))
    real_step = agent.envs.step

    def step(actions):
        obs, rewards, terminated, truncated, info = real_step(actions)
        return obs, rewards * np.nan, terminated, truncated, info

    agent.envs.step = step
    seen = []
    agent.learn(128, [_Record(seen)])
    assert len(seen) == 4
    for var in agent.model.trainable_variables + agent.discriminator.trainable_variables:
        assert np.isfinite(var.numpy()).all(), var.name
    assert all(np.isfinite(r["charts/gail_reward"]) for r in seen)


class _Record(Callback):
    def __init__(self, seen):
        self.seen = seen

    def on_log(self, agent, metrics):
        self.seen.append(dict(metrics))


def test_discriminator_learns_to_tell_expert_from_agent():
    agent = GAIL(small(n_steps=64, disc_epochs=10, disc_learning_rate=1e-2))
    agent.reset_envs()
    buf = agent.collect_rollout()
    first = agent.update_discriminator(buf)
    for _ in range(5):
        last = agent.update_discriminator(buf)
    assert last["discriminator/loss"] < first["discriminator/loss"]
    assert last["discriminator/agent_accuracy"] > 0.8
    assert last["discriminator/expert_accuracy"] > 0.8
    # The rewards are -log(1 - D) of the trained D: higher for expert-like pairs.
    rewards, _ = agent.discriminator_rewards(buf)
    live = ~buf["terminated"]
    demos = agent.load_demos()
    expert_rewards = agent.disc_learner.rewards(
        tf.constant(demos.observations),
        tf.constant(demos.actions),
        tf.zeros([len(demos)]),
    ).numpy()
    assert expert_rewards.mean() > rewards[live].mean() + 1.0
    # The agent terminates, the expert never does: D learns s_a is the agent's.
    assert float(agent.discriminator(*absorbing_input(agent))[0]) < 0


def absorbing_input(agent):
    obs, actions, absorbing = agent.discriminator_batch(np.zeros((0, agent.obs_dim)), [], 1)
    return tf.constant(obs), tf.constant(actions), tf.constant(absorbing)


def test_discriminator_inputs_mark_the_absorbing_state():
    agent = GAIL(small(disc_normalize_inputs=False))
    x = agent.discriminator.inputs(
        tf.constant([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]),
        tf.constant([1, 0]),
        tf.constant([0.0, 1.0]),
    ).numpy()
    # [s, one-hot a, indicator]; s_a is all zeros but its indicator (DAC).
    np.testing.assert_array_equal(x, [[1, 2, 3, 4, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1]])


def test_expert_batch_gets_one_absorbing_transition_per_terminated_episode(tmp_path):
    path = write_npz(
        tmp_path / "d.npz",
        observations=np.ones((5, 4), np.float32),
        actions=np.array([0, 1, 0, 1, 1]),
        episode_lengths=np.array([2, 3]),
        episode_terminated=np.array([True, False]),
    )
    agent = GAIL(small(demos=path))
    agent.load_demos()
    obs, actions, absorbing = agent.expert_batch
    assert absorbing.tolist() == [0, 0, 0, 0, 0, 1]
    assert obs.shape == (6, 4) and not obs[5].any() and actions.tolist() == [0, 1, 0, 1, 1, 0]
    off = GAIL(small(demos=path, absorbing_states=False))
    off.load_demos()
    assert off.expert_batch[2].tolist() == [0] * 5


def fake_rollout(agent, actions=None):
    """Two steps of two envs: env 0 terminates at t = 0, env 1 is truncated at t = 1."""
    rng = np.random.default_rng(0)
    T, N = 2, 2
    buf = {
        "raw_obs": rng.normal(size=(T, N, agent.obs_dim)).astype(np.float32),
        "actions": np.array([[0, 1], [1, 0]]) if actions is None else actions,
        "env_rewards": np.zeros((T, N), np.float32),
        "terminated": np.array([[True, False], [False, False]]),
        "truncated": np.array([[False, False], [False, True]]),
    }
    return buf


def test_auto_reward_follows_whether_the_expert_episodes_terminate():
    assert resolve_reward("auto", np.array([False, True, False])) == "logit"
    assert resolve_reward("auto", np.array([False, False])) == "positive"
    assert resolve_reward("auto", np.zeros(0, bool)) == "positive"
    assert resolve_reward("positive", np.array([True])) == "positive"
    assert resolve_reward("constant", np.array([False])) == "constant"
    # The bundled experts: CartPole's lasts to 500 every episode, Acrobot's reaches the goal.
    assert GAIL(small()).reward_kind == "positive"
    acrobot = GAIL(small(env="Acrobot-v1"))
    assert acrobot.reward_kind == "logit"
    assert GAIL(small(env="Acrobot-v1", reward="positive")).reward_kind == "positive"
    # ... and the generator's rewards are D's logits there, not -log(1 - D).
    buf = fake_rollout(acrobot)
    buf["terminated"][:] = False
    rewards, _ = acrobot.discriminator_rewards(buf)
    obs, actions = buf["raw_obs"].reshape(4, -1), buf["actions"].reshape(4)
    logits = acrobot.discriminator(tf.constant(obs), tf.constant(actions)).numpy()
    np.testing.assert_allclose(rewards, logits.reshape(2, 2), rtol=1e-5, atol=1e-6)


def test_a_termination_earns_the_absorbing_return_and_a_truncation_does_not():
    agent = GAIL(small(gamma=0.9, reward="logit"))
    buf = fake_rollout(agent)
    rewards, absorbing_reward = agent.discriminator_rewards(buf)
    d = agent.discriminator
    live = d(tf.constant(buf["raw_obs"].reshape(4, -1)), tf.constant(buf["actions"].reshape(4)))
    live = live.numpy().reshape(2, 2)
    assert absorbing_reward == pytest.approx(float(d(*absorbing_input(agent))[0]), rel=1e-5)
    expected = live.copy()
    expected[0, 0] += 0.9 * absorbing_reward / 0.1  # only the true termination
    np.testing.assert_allclose(rewards, expected, rtol=1e-5, atol=1e-6)
    off = GAIL(small(gamma=0.9, reward="logit", absorbing_states=False))
    off_rewards, _ = off.discriminator_rewards(buf)
    np.testing.assert_allclose(off_rewards, live, rtol=1e-5, atol=1e-6)


def test_absorbing_states_off_logs_no_absorbing_reward():
    seen = []
    GAIL(small(absorbing_states=False)).learn(64, [_Record(seen)])
    assert seen and all("charts/gail_absorbing_reward" not in r for r in seen)
    seen = []
    GAIL(small()).learn(64, [_Record(seen)])
    assert all(np.isfinite(r["charts/gail_absorbing_reward"]) for r in seen)


def test_the_discriminator_trains_on_absorbing_transitions_of_both_sides(tmp_path):
    agent = GAIL(small(env="Acrobot-v1"))
    seen = {}

    def update(agent_batch, expert_batch, lr, seed):
        seen["agent"], seen["expert"] = agent_batch, expert_batch
        return {"loss": tf.constant(0.0)}

    agent.disc_learner.update = update
    buf = fake_rollout(agent)
    agent.update_discriminator(buf)
    # 4 agent pairs + 1 termination; the 10 scripted expert episodes all terminate.
    assert seen["agent"][2].numpy().tolist() == [0, 0, 0, 0, 1]
    assert int(seen["expert"][2].numpy().sum()) == 10


def test_continuous_actions_are_clipped_before_the_discriminator(tmp_path):
    # The expert's recorded actions were clipped to [-2, 2] by the env; the generator's
    # Gaussian samples are not. D must see both clipped, in its updates and in rewards.
    agent = GAIL(small(env="Pendulum-v1"))
    wide = np.array([[[5.0], [-7.0]], [[1.0], [2.5]]], np.float32)
    clipped = np.clip(wide, -2.0, 2.0)
    buf = fake_rollout(agent, actions=wide)
    rewards_wide, _ = agent.discriminator_rewards(buf)
    rewards_clipped, _ = agent.discriminator_rewards(fake_rollout(agent, actions=clipped))
    np.testing.assert_allclose(rewards_wide, rewards_clipped)
    seen = {}

    def update(agent_batch, expert_batch, lr, seed):
        seen["agent"] = agent_batch
        return {"loss": tf.constant(0.0)}

    agent.disc_learner.update = update
    agent.update_discriminator(buf)
    np.testing.assert_array_equal(seen["agent"][1].numpy()[:4], clipped.reshape(4, 1))


def test_behaviour_cloning_imitates_the_expert_actions():
    agent = GAIL(small(bc_epochs=30, minibatch_size=32))
    nll = agent.behaviour_cloning()
    assert nll < 0.3  # uniform over two actions is ln 2 = 0.69
    demos = agent.load_demos()
    agreement = (agent.predict(demos.observations) == demos.actions).mean()
    assert agreement > 0.85


def test_save_and_load_restore_policy_and_discriminator(tmp_path):
    agent = GAIL(small())
    agent.learn(64)
    agent.save(tmp_path / "gail")
    loaded = GAIL.load(tmp_path / "gail")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), loaded.predict(obs))
    actions = tf.constant([0, 1, 0, 1, 1])
    np.testing.assert_allclose(
        agent.discriminator(tf.constant(obs), actions),
        loaded.discriminator(tf.constant(obs), actions),
    )
    np.testing.assert_allclose(agent.disc_rms.mean, loaded.disc_rms.mean)


def test_continuous_actions_from_an_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = write_npz(
        tmp_path / "p.npz",
        observations=rng.normal(size=(40, 3)).astype(np.float32),
        actions=rng.uniform(-2, 2, size=(40, 1)).astype(np.float32),
    )
    agent = GAIL(small(env="Pendulum-v1", demos=path, bc_epochs=2))
    seen = []
    agent.learn(64, [_Record(seen)])
    assert len(seen) == 2 and all(np.isfinite(r["discriminator/loss"]) for r in seen)
    # Pendulum never terminates: no absorbing transitions anywhere.
    assert not agent.expert_batch[2].any()
    assert agent.predict(rng.normal(size=(3, 3))).shape == (3, 1)


class InvertedGAIL(GAIL):
    """A broken discriminator's sign: rewards the pairs D finds least expert-like."""

    def discriminator_rewards(self, buf):
        rewards, absorbing_reward = super().discriminator_rewards(buf)
        return -rewards, -absorbing_reward


def cartpole_after(agent_class, steps: int, **overrides) -> float:
    # The generator runs the cartpole preset (PPO's CartPole tuning), as `rl train gail` does.
    settings = {**preset("cartpole"), "seed": 0, "device": "cpu", "total_steps": steps}
    agent = agent_class(apply_overrides(GAILConfig(), {**settings, **overrides}))
    agent.learn(steps)
    return evaluate_policy(agent, "CartPole-v1", {}, episodes=10, seed=1_000_000).return_mean


@pytest.mark.learning
def test_gail_imitates_the_cartpole_expert():
    # The env's reward never reaches the learner; the greedy return is measured afterwards.
    # A random policy returns about 22.
    assert cartpole_after(GAIL, 100_000) >= 100


@pytest.mark.learning
@pytest.mark.parametrize(
    ("agent_class", "overrides"),
    [(InvertedGAIL, {}), (GAIL, {"disc_learning_rate": 0.0}), (GAIL, {"reward": "constant"})],
    ids=["inverted-d", "frozen-d", "constant-reward"],
)
def test_the_same_run_without_a_working_discriminator_does_not_imitate(agent_class, overrides):
    # The learning test above with D's sign inverted, D frozen at its random init, or a
    # reward that ignores D: with absorbing states none of these says "survive", so none
    # may pass the threshold that GAIL passes.
    assert cartpole_after(agent_class, 100_000, **overrides) < 60


def test_record_command_writes_a_dataset_gail_trains_on(tmp_path):
    # `rl gail record <run-dir>`: a PPO run's policy becomes a Minari dataset.
    import typer
    from rl_gail import plugin
    from rl_ppo import PPO, PPOConfig
    from typer.testing import CliRunner

    from rl_core.run import RunDirectory
    from rl_core.training import train_agent

    config = PPOConfig(total_steps=512, num_envs=2, n_steps=64, minibatch_size=64, device="cpu")
    run = RunDirectory.create("ppo", config.env, path=tmp_path / "run")
    run.write_config("ppo", config, device="cpu")
    train_agent(PPO, config, run)
    app = typer.Typer()
    app.command()(lambda: None)  # a second command keeps `gail` a sub-command
    plugin.register_commands(app)
    out = tmp_path / "demos"
    args = ["gail", "record", str(run.path), "--out", str(out), "--episodes", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    dataset = out / "cartpole" / "expert-v0"
    assert f"demos={dataset}" in result.output
    # Training takes the folder given to --out as well as the dataset's own directory.
    agent = GAIL(small(demos=str(out)))
    seen = []
    agent.learn(256, [_Record(seen)])
    assert agent.load_demos().num_episodes == 2 and agent.num_timesteps == 256
    assert all(np.isfinite(r["discriminator/loss"]) for r in seen)
    again = CliRunner().invoke(app, args)
    assert again.exit_code != 0 and "exists" in str(again.exception)


class _TinyImageEnv(gym.Env):
    """A 10x10x1 uint8 image observation: the discriminator's MLP must refuse it."""

    observation_space = gym.spaces.Box(0, 255, (10, 10, 1), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros((10, 10, 1), np.uint8), {}

    def step(self, action):
        return np.zeros((10, 10, 1), np.uint8), 0.0, True, False, {}


def test_image_observations_are_refused_in_one_line():
    gym.register("gail-test/TinyImage-v0", entry_point=_TinyImageEnv)
    try:
        with pytest.raises(UnsupportedObservationError, match="gail does not take image") as err:
            GAIL(GAILConfig(env="gail-test/TinyImage-v0", num_envs=1, demos="unused.npz"))
        assert "\n" not in str(err.value)
    finally:
        gym.registry.pop("gail-test/TinyImage-v0")
