"""The agent: spaces, config errors, save/load, targets, determinism, plugin, learning."""

from __future__ import annotations

import tomllib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import rl_mpo
from rl_mpo import MPO, MPOConfig

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides, config_from_dict
from rl_core.errors import ConfigError, RunDirectoryError
from rl_core.evaluation import evaluate_policy
from rl_core.plugins import AlgorithmRegistry, make_plugin_manager
from rl_core.spaces import UnsupportedObservationError


def preset(name: str) -> dict:
    """A shipped preset's settings, without its `preset` metadata (as `rl train` reads it)."""
    settings = tomllib.loads(
        (Path(rl_mpo.__file__).parent / "presets" / f"{name}.toml").read_text()
    )
    settings.pop("preset", None)
    return settings


def small(**overrides) -> MPOConfig:
    base = {
        "learning_starts": 64,
        "replay_ratio": 1.0,
        "batch_size": 32,
        "steps_per_update": 16,
        "num_samples": 4,
        "policy_hidden_sizes": (16,),
        "critic_hidden_sizes": (16,),
        "device": "cpu",
        "eval_episodes": 1,
    }
    return config_from_dict(MPOConfig, {**base, **overrides})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"covariance": "spherical"}, "covariance must be diagonal or full"),
        ({"n_step": 0}, "n_step must be >= 1"),
        ({"critic_target": "td0"}, "critic_target must be nstep or retrace"),
        ({"retrace_lambda": 1.5}, "retrace_lambda must be in \\[0, 1\\]"),
        ({"epsilon": 0.0}, "epsilon must be > 0"),
        ({"buffer_size": 8, "batch_size": 16}, "buffer_size must be >= batch_size"),
    ],
)
def test_config_validation(override, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(MPOConfig, override)


def test_unsupported_spaces_are_clear_errors():
    with pytest.raises(ConfigError, match="mpo needs a Box observation space"):
        MPO(small(env="rl/BitFlipping-v0"))


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_continuous_actions_are_scaled_into_the_bounds(covariance):
    agent = MPO(small(env="Pendulum-v1", covariance=covariance))
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    for deterministic in (True, False):
        actions = agent.predict(obs, deterministic=deterministic)
        assert actions.shape == (5, 1)
        assert np.all(np.abs(actions) <= 2.0)
    # Policy action 1 (the top of [-1, 1]) is Pendulum's max torque 2.
    np.testing.assert_allclose(
        agent._to_env(np.array([[1.0], [-1.0], [0.0], [3.0]])), [[2], [-2], [0], [2]]
    )


def test_discrete_predict_gives_valid_actions():
    agent = MPO(small(env="CartPole-v1"))
    actions = agent.predict(np.zeros((4, 4), np.float32), deterministic=False)
    assert actions.shape == (4,) and set(actions.tolist()) <= {0, 1}


def test_discrete_actions_with_a_start_offset():
    import gymnasium as gym

    class ShiftedActions(gym.Wrapper):  # CartPole whose actions are Discrete(2, start=5)
        def __init__(self, env):
            super().__init__(env)
            self.action_space = gym.spaces.Discrete(2, start=5)

        def step(self, action):
            if not 5 <= int(action) <= 6:
                raise ValueError(f"action {action} is outside Discrete(2, start=5)")
            return self.env.step(int(action) - 5)

    env_id = "rl_test/MPOShiftedCartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=lambda **kw: ShiftedActions(gym.make("CartPole-v1")))
    agent = MPO(small(env=env_id))
    agent.learn(80)  # every env step checks its action; the learner trains on 0 .. n-1
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    assert set(agent.predict(obs, deterministic=False).tolist()) == {5, 6}


def run_metrics(config: MPOConfig, steps: int) -> tuple[MPO, list[dict]]:
    records: list[dict] = []

    class Keep(Callback):
        def on_log(self, agent, metrics):
            records.append({k: v for k, v in metrics.items() if k != "charts/SPS"})

    agent = MPO(config)
    agent.learn(steps, Keep())
    return agent, records


@pytest.mark.parametrize("critic_target", ["nstep", "retrace"])
@pytest.mark.parametrize("env", ["Pendulum-v1", "CartPole-v1"])
def test_training_updates_networks_and_keeps_targets_between_copies(env, critic_target):
    config = small(env=env, target_update_period=1000, critic_target=critic_target)
    agent, records = run_metrics(config, 160)
    learner = agent.learner
    # 160 steps, learning from 64 on with one gradient step per env step.
    assert records[-1]["charts/gradient_steps"] == 160 - 64
    assert all(np.isfinite(v) for k, v in records[-1].items() if k.startswith("losses/"))
    # The targets were copied at gradient step 0 only; the online networks moved on.
    online = learner.policy.head.w.numpy()
    target = learner.target_policy.head.w.numpy()
    assert not np.allclose(online, target)


def test_retrace_with_full_covariance_trains():
    # The Cholesky policy's log pi(a|x) path of the Retrace traces.
    _, records = run_metrics(small(covariance="full", critic_target="retrace", n_step=3), 96)
    assert records[-1]["charts/gradient_steps"] == 96 - 64
    assert all(np.isfinite(v) for k, v in records[-1].items() if k.startswith("losses/"))


def test_target_copy_follows_the_period():
    # 32 gradient steps with a period of 1000: one copy, before step 0, so the targets hold
    # the initial online weights (the same seed builds the same ones) while the online
    # networks moved on. Catches a copy at every step, after the step, or never.
    agent, _ = run_metrics(small(target_update_period=1000), 96)
    learner = agent.learner
    first_online = MPO(small()).learner.policy.head.w.numpy()  # the same seed's initial weights
    np.testing.assert_array_equal(learner.target_policy.head.w.numpy(), first_online)
    assert not np.array_equal(learner.policy.head.w.numpy(), first_online)


def test_a_seeded_run_repeats_exactly():
    _, first = run_metrics(small(seed=3), 128)
    _, second = run_metrics(small(seed=3), 128)
    assert first == second


def test_callback_returning_false_stops_training():
    class Stop(Callback):
        def on_log(self, agent, metrics):
            return False

    agent = MPO(small())
    agent.learn(1000, Stop())
    assert agent.num_timesteps == 16


@pytest.mark.parametrize("env", ["Pendulum-v1", "CartPole-v1"])
def test_save_load_restores_everything(env, tmp_path):
    agent, _ = run_metrics(small(env=env, covariance="full"), 96)
    agent.save(tmp_path / "agent")
    loaded = MPO.load(tmp_path / "agent")
    for name, var in agent.learner.named().items():
        np.testing.assert_array_equal(loaded.learner.named()[name].numpy(), var.numpy(), name)
    obs = np.random.default_rng(0).normal(size=(3, agent.obs_dim)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), loaded.predict(obs))
    assert loaded.num_timesteps == 96


def test_load_refuses_weights_of_another_network(tmp_path):
    MPO(small()).save(tmp_path / "agent")
    with pytest.raises(RunDirectoryError, match="do not fit"):
        MPO.load(tmp_path / "agent", critic_hidden_sizes=[32])


def test_plugin_registers_mpo_in_process():
    import rl_mpo.plugin

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(rl_mpo.plugin, name="mpo")
    spec = AlgorithmRegistry(pm).get("mpo")
    assert spec.default_env == "Pendulum-v1"
    assert {"bipedal", "cartpole", "pendulum"} <= set(spec.presets)
    bipedal = apply_overrides(MPOConfig(), preset("bipedal"))
    assert bipedal.env == "BipedalWalker-v3"


def test_defaults_are_acmes():
    c = MPOConfig()
    # acme's MPO agent: epsilons 0.1 / 2.5e-3 / 1e-6, Adam 1e-4 for policy and critic, 1e-2
    # for the duals, batch 256, 5-step targets, hard target copies every 100 steps, 32
    # samples per insert (0.125 gradient steps per env step at batch 256); two 256-unit
    # layers per network.
    assert (c.epsilon, c.epsilon_mean, c.epsilon_stddev) == (0.1, 2.5e-3, 1e-6)
    assert (c.policy_learning_rate, c.critic_learning_rate, c.dual_learning_rate) == (
        1e-4,
        1e-4,
        1e-2,
    )
    assert (c.batch_size, c.n_step, c.target_update_period) == (256, 5, 100)
    assert c.replay_ratio * c.batch_size == 32
    assert c.policy_hidden_sizes == c.critic_hidden_sizes == (256, 256)


def test_pendulum_preset_is_the_measured_pendulum_tuning():
    # The settings behind "-182.8 ± 0.3 at 20k steps" (benchmarks/suite.d/mpo.toml).
    c = apply_overrides(MPOConfig(), preset("pendulum"))
    assert (c.env, c.total_steps, c.replay_ratio) == ("Pendulum-v1", 20_000, 1.0)
    assert (c.policy_hidden_sizes, c.critic_hidden_sizes) == ((64, 64), (128, 128))
    assert (c.policy_learning_rate, c.critic_learning_rate) == (3e-4, 1e-3)


@pytest.mark.learning
def test_learns_pendulum():
    # Random actions score about -1200 on Pendulum-v1; a short run must be far better.
    agent = MPO(apply_overrides(MPOConfig(), {**preset("pendulum"), "seed": 0, "device": "cpu"}))
    agent.learn(PENDULUM_STEPS)
    result = evaluate_policy(agent, "Pendulum-v1", episodes=5, num_envs=5)
    assert result.return_mean > -600, result


PENDULUM_STEPS = 5_000


class _TinyImageEnv(gym.Env):
    """A 10x10x1 uint8 image observation: MPO's MLP torso must refuse it, not flatten it."""

    observation_space = gym.spaces.Box(0, 255, (10, 10, 1), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros((10, 10, 1), np.uint8), {}

    def step(self, action):
        return np.zeros((10, 10, 1), np.uint8), 0.0, True, False, {}


def test_image_observations_are_refused_in_one_line():
    gym.register("mpo-test/TinyImage-v0", entry_point=_TinyImageEnv)
    try:
        with pytest.raises(UnsupportedObservationError, match="mpo does not take image") as err:
            MPO(MPOConfig(env="mpo-test/TinyImage-v0", num_envs=1))
        assert "\n" not in str(err.value)
    finally:
        gym.registry.pop("mpo-test/TinyImage-v0")
