"""The NumPy CartPole vector env is step for step Gymnasium's CartPole-v1 in a sync vector env."""

import gymnasium as gym
import numpy as np
import pytest

from rl_core.envs import CartPoleSameStepVectorEnv, make_vector_env
from rl_core.errors import ConfigError

SAME_STEP = gym.vector.AutoresetMode.SAME_STEP


def test_matches_gymnasium_step_for_step_across_resets():
    n = 6
    fast = make_vector_env(
        "CartPole-v1", n, seed=3, vectorization="numpy", autoreset_mode=SAME_STEP
    )
    ref = make_vector_env("CartPole-v1", n, seed=3, autoreset_mode=SAME_STEP)
    assert isinstance(fast, CartPoleSameStepVectorEnv)
    obs_f, _ = fast.reset(seed=11)
    obs_r, _ = ref.reset(seed=11)
    np.testing.assert_array_equal(obs_f, obs_r)
    rng = np.random.default_rng(0)
    episodes_ended = truncations = 0
    # A policy that mostly balances, so some copies reach the 500-step time limit; the
    # observations match bit for bit (the same float64 arithmetic in the same order).
    for _ in range(1500):
        balance = (obs_r[:, 2] + 0.5 * obs_r[:, 3] > 0).astype(np.int64)
        actions = np.where(rng.random(n) < 0.1, rng.integers(0, 2, n), balance)
        obs_f, rew_f, term_f, trunc_f, info_f = fast.step(actions)
        obs_r, rew_r, term_r, trunc_r, info_r = ref.step(actions)
        np.testing.assert_array_equal(term_f, term_r)
        np.testing.assert_array_equal(trunc_f, trunc_r)
        np.testing.assert_array_equal(rew_f, rew_r)
        np.testing.assert_array_equal(obs_f, obs_r)
        done = term_r | trunc_r
        for i in np.flatnonzero(done):
            np.testing.assert_array_equal(info_f["final_obs"][i], info_r["final_obs"][i])
        episodes_ended += int(done.sum())
        truncations += int((trunc_r & ~term_r).sum())
    assert episodes_ended >= 10 and truncations > 0


def test_auto_uses_numpy_only_where_it_is_the_same_env():
    auto = make_vector_env("CartPole-v1", 2, seed=0, vectorization="auto", autoreset_mode=SAME_STEP)
    assert isinstance(auto, CartPoleSameStepVectorEnv)
    # Other autoreset modes, env kwargs or envs fall back to Gymnasium's sync vector env.
    for env_id, kwargs, vector_kwargs in [
        ("CartPole-v1", {}, {}),
        ("CartPole-v1", {"sutton_barto_reward": True}, {"autoreset_mode": SAME_STEP}),
        ("Pendulum-v1", {}, {"autoreset_mode": SAME_STEP}),
    ]:
        envs = make_vector_env(env_id, 2, 0, kwargs, vectorization="auto", **vector_kwargs)
        assert isinstance(envs, gym.vector.SyncVectorEnv)
    with pytest.raises(ConfigError, match="has no implementation of Pendulum-v1"):
        make_vector_env("Pendulum-v1", 2, 0, vectorization="numpy", autoreset_mode=SAME_STEP)
    with pytest.raises(ConfigError, match="vectorization must be"):
        make_vector_env("CartPole-v1", 2, 0, vectorization="fast")


def test_training_envs_are_same_step_seeded_and_check_observations():
    from types import SimpleNamespace

    from rl_core.envs import make_training_envs

    config = SimpleNamespace(env="CartPole-v1", num_envs=3, seed=7, env_kwargs={})
    envs = make_training_envs(config, "ppo", vectorization="auto")
    assert envs.metadata["autoreset_mode"] == SAME_STEP and envs.num_envs == 3
    ref = make_vector_env("CartPole-v1", 3, seed=7, autoreset_mode=SAME_STEP)
    np.testing.assert_array_equal(envs.reset(seed=7)[0], ref.reset(seed=7)[0])
    goal = SimpleNamespace(env="rl/BitFlipping-v0", num_envs=2, seed=0, env_kwargs={})
    with pytest.raises(ConfigError, match="mpo needs a Box observation space; rl/BitFlipping"):
        make_training_envs(goal, "mpo")
    assert make_training_envs(goal, "her", box_observations=False).num_envs == 2
