from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import rl_ppo
import tensorflow as tf
from rl_ppo import PPO, PPOConfig
from rl_ppo.learning import clipped_surrogate_loss, value_loss

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.plugins import AlgorithmRegistry, make_plugin_manager

PRESETS = Path(rl_ppo.__file__).parent / "presets"


def preset(name: str) -> dict:
    """A shipped preset's settings, without its `preset` metadata (as `rl train` reads it)."""
    settings = tomllib.loads((PRESETS / f"{name}.toml").read_text())
    settings.pop("preset", None)
    return settings


def small(**overrides) -> PPOConfig:
    base = {"num_envs": 2, "n_steps": 16, "minibatch_size": 16, "n_epochs": 2, "device": "cpu"}
    return apply_overrides(PPOConfig(), {**base, **overrides})


def test_clipped_surrogate_matches_hand_computation():
    ratio = tf.constant([0.5, 1.1, 1.5, 0.9])
    adv = tf.constant([1.0, 2.0, 1.0, -1.0])
    # eps = 0.2: per sample max(-A r, -A clip(r, 0.8, 1.2))
    #   r=0.5, A=1:  max(-0.5, -0.8) = -0.5   (unclipped is the pessimistic one)
    #   r=1.1, A=2:  max(-2.2, -2.2) = -2.2
    #   r=1.5, A=1:  max(-1.5, -1.2) = -1.2   (gain capped at 1 + eps)
    #   r=0.9, A=-1: max(0.9, 0.9)   =  0.9
    expected = (-0.5 - 2.2 - 1.2 + 0.9) / 4
    assert float(clipped_surrogate_loss(ratio, adv, 0.2)) == pytest.approx(expected)


def test_value_loss_with_and_without_clipping():
    new, old, ret = tf.constant([1.0, 3.0]), tf.constant([0.0, 2.9]), tf.constant([2.0, 2.0])
    # unclipped: 0.5 * mean((1-2)^2, (3-2)^2) = 0.5
    assert float(value_loss(new, old, ret)) == pytest.approx(0.5)
    # clipped at 0.5: V_clip = (0.5, 3.0); losses max((1, 2.25), (1, 1)) = (2.25, 1) -> 0.5 * 1.625
    assert float(value_loss(new, old, ret, 0.5)) == pytest.approx(0.8125)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"minibatch_size": 100}, "minibatch_size must divide"),
        ({"gamma": 1.5}, "gamma must be in"),
        ({"activation": "gelu"}, "activation must be"),
        ({"vf_coef": -1.0}, "vf_coef must be >= 0"),
        ({"num_envs": 0}, "num_envs must be >= 1"),
    ],
)
def test_config_validation(override, message):
    with pytest.raises(ConfigError, match=message):
        small(**override)


def test_dict_observations_are_a_clear_error():
    with pytest.raises(ConfigError, match="ppo needs a Box observation space"):
        PPO(small(env="rl/BitFlipping-v0"))


def test_discrete_predict_shapes_and_range():
    agent = PPO(small())
    obs = np.zeros((5, 4), np.float32)
    actions = agent.predict(obs)
    assert actions.shape == (5,) and actions.dtype == np.int64
    assert set(agent.predict(obs, deterministic=False)) <= {0, 1}


def test_continuous_actions_are_clipped_to_bounds():
    agent = PPO(small(env="Pendulum-v1", log_std_init=3.0))
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    actions = agent.predict(obs, deterministic=False)
    assert actions.shape == (64, 1)
    assert actions.min() >= -2.0 and actions.max() <= 2.0
    assert np.any(np.abs(actions) == 2.0)  # std e^3: many samples hit the bounds


def test_save_load_restores_policy_normalizer_and_optimizer(tmp_path):
    agent = PPO(small(normalize_observations=True, scale_rewards=True))
    agent.learn(64)
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    obs = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))
    np.testing.assert_allclose(agent.obs_rms.mean, again.obs_rms.mean)
    assert (
        float(again.learner.optimizer.iterations) == float(agent.learner.optimizer.iterations) > 0
    )
    assert again.num_timesteps == 64


def test_load_refuses_weights_of_another_network(tmp_path):
    from rl_core.errors import RunDirectoryError

    PPO(small()).save(tmp_path / "p")
    with pytest.raises(RunDirectoryError, match="do not fit this network"):
        PPO.load(tmp_path / "p", hidden_sizes=[32])


def test_continuous_save_load_round_trip(tmp_path):
    agent = PPO(small(env="Pendulum-v1", shared_network=False, normalize_observations=True))
    agent.learn(32)
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    obs = np.random.default_rng(2).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))
    np.testing.assert_array_equal(agent.model.log_std.numpy(), again.model.log_std.numpy())


def metrics_of(seed: int) -> list[tuple]:
    class Record(Callback):
        def __init__(self):
            self.rows = []

        def on_log(self, agent, metrics):
            # Everything but the wall-clock speed must repeat bit for bit.
            self.rows.append(tuple(sorted((k, v) for k, v in metrics.items() if k != "charts/SPS")))

    record = Record()
    PPO(small(seed=seed)).learn(96, callbacks=[record])
    return record.rows


def test_a_seeded_run_repeats_exactly():
    assert metrics_of(3) == metrics_of(3)
    assert metrics_of(3) != metrics_of(4)


def test_callback_returning_false_stops_training():
    class StopAfterFirst(Callback):
        def on_log(self, agent, metrics):
            return False

    agent = PPO(small()).learn(10_000, callbacks=StopAfterFirst())
    assert agent.num_timesteps == 32  # one rollout of 2 envs x 16 steps


def test_target_kl_stops_the_epochs_early():
    class Steps(Callback):
        def on_log(self, agent, metrics):
            self.steps = metrics["charts/gradient_steps"]

    full, early = Steps(), Steps()
    PPO(small(n_epochs=10, minibatch_size=8, learning_rate=0.05)).learn(32, full)
    PPO(small(n_epochs=10, minibatch_size=8, learning_rate=0.05, target_kl=1e-4)).learn(32, early)
    assert full.steps == 40 and early.steps < 40


def test_plugin_registers_ppo_in_process():
    import rl_ppo.plugin

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(rl_ppo.plugin, name="ppo")
    spec = AlgorithmRegistry(pm).get("ppo")
    assert spec.default_env == "CartPole-v1" and "pendulum" in spec.presets
    pendulum = apply_overrides(PPOConfig(), preset("pendulum"))
    assert pendulum.env == "Pendulum-v1"


def test_defaults_are_stable_baselines3s():
    c = PPOConfig()
    # SB3's PPO (the paper's MuJoCo values): a 2048-transition rollout, minibatches of 64,
    # 10 epochs, Adam 3e-4 held constant, gamma 0.99, GAE 0.95, clip 0.2 held constant,
    # no entropy bonus, separate 64-64 tanh policy and value networks.
    assert (c.num_envs * c.n_steps, c.minibatch_size, c.n_epochs) == (2048, 64, 10)
    assert (c.learning_rate, c.gamma, c.gae_lambda, c.clip_range) == (3e-4, 0.99, 0.95, 0.2)
    assert not (c.anneal_lr or c.anneal_clip_range or c.shared_network)
    assert (c.ent_coef, c.vf_coef, c.max_grad_norm, c.target_kl) == (0.0, 0.5, 0.5, 0.0)
    assert c.hidden_sizes == (64, 64) and c.activation == "tanh" and c.log_std_init == 0.0
    assert not (c.normalize_observations or c.scale_rewards)


def test_cartpole_preset_is_the_measured_cartpole_tuning():
    # The settings behind "500.0 ± 0.0 at 100k steps" (benchmarks/suite.d/ppo.toml): the
    # rl-zoo3 CartPole tuning, picked for CartPole-v1 and for no other env.
    c = apply_overrides(PPOConfig(), preset("cartpole"))
    assert (c.num_envs, c.n_steps, c.n_epochs, c.minibatch_size) == (8, 32, 20, 256)
    assert (c.learning_rate, c.gamma, c.gae_lambda) == (1e-3, 0.98, 0.8)
    assert c.anneal_lr and c.anneal_clip_range and c.shared_network
    assert c.total_steps == 100_000
    assert tomllib.loads((PRESETS / "cartpole.toml").read_text())["preset"]["envs"] == [
        "CartPole-v1"
    ]


@pytest.mark.learning
def test_learns_cartpole():
    config = {**preset("cartpole"), "total_steps": 40_000, "seed": 1, "device": "cpu"}
    agent = PPO(apply_overrides(PPOConfig(), config))
    agent.learn(40_000)
    result = evaluate_policy(agent, "CartPole-v1", episodes=10, seed=123)
    assert result.return_mean >= 150, result.returns


@pytest.mark.parametrize(("env", "shared"), [("CartPole-v1", True), ("Pendulum-v1", False)])
def test_numpy_acting_path_matches_the_tensorflow_policy(env, shared):
    agent = PPO(small(env=env, shared_network=shared, activation="relu"))
    agent.learn(32)  # move the weights off their initial values
    obs = np.random.default_rng(0).normal(size=(16, agent.obs_dim)).astype(np.float32)
    dist, _ = agent.model(tf.constant(obs))
    reference = dist.logits if agent.discrete else dist.distribution.loc
    np.testing.assert_allclose(
        agent.acting_policy.head(obs), reference.numpy(), rtol=1e-5, atol=1e-5
    )


def test_numpy_sampling_follows_the_policy_distribution():
    from rl_ppo.networks import NumpyPolicy

    policy = NumpyPolicy(discrete=True, activation="tanh")
    logits = np.log(np.array([[0.2, 0.3, 0.5]], np.float32))
    # no hidden layer: weights are just the head, identity on a one-hot input
    policy.load([np.diag(logits[0]).astype(np.float32), np.zeros(3, np.float32)])
    draws = policy.act(np.ones((40_000, 3), np.float32), np.random.default_rng(0), False)
    np.testing.assert_allclose(np.bincount(draws) / len(draws), [0.2, 0.3, 0.5], atol=0.01)


def test_truncated_steps_bootstrap_from_the_true_final_observation():
    # Pendulum never terminates and is truncated at 200 steps: a 208-step rollout crosses
    # one time limit per env, where the advantage must use V(final_obs), not V(reset obs).
    agent = PPO(small(env="Pendulum-v1", n_steps=208, minibatch_size=208, gae_lambda=0.9))
    real_step, final = agent.envs.step, {}

    def step(actions):
        out = real_step(actions)
        for i in np.flatnonzero(out[3]):
            final[i] = out[4]["final_obs"][i]
        return out

    agent.envs.step = step
    agent._obs, _ = agent.envs.reset(seed=0)
    buf = agent.collect_rollout()
    agent.estimate_advantages(buf, buf["env_rewards"])
    t_trunc = np.argwhere(buf["truncated"])
    assert sorted(i for _, i in t_trunc) == [0, 1] and not buf["terminated"].any()
    for t, i in t_trunc:
        v_final = float(agent.model.value(tf.constant(final[i][None], tf.float32))[0])
        # carry is 0 at an episode end, so A_t is the one-step TD error with the bootstrap.
        expected = buf["rewards"][t, i] + agent.config.gamma * v_final - buf["values"][t, i]
        assert buf["advantages"][t, i] == pytest.approx(expected, abs=1e-5)
        # and the step before reaches across to it, not to the next episode's first state
        delta = buf["rewards"][t - 1, i] + agent.config.gamma * buf["values"][t, i]
        delta -= buf["values"][t - 1, i]
        lam_gamma = agent.config.gamma * agent.config.gae_lambda
        assert buf["advantages"][t - 1, i] == pytest.approx(delta + lam_gamma * expected, abs=1e-4)
