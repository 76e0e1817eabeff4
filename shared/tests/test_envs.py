from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_core.envs import (
    BitFlippingEnv,
    DeepSeaEnv,
    PointMassGoalEnv,
    UnknownEnvironmentError,
    is_goal_env,
    make_env,
    make_vector_env,
)


@pytest.mark.parametrize(
    "env_id", ["rl/BitFlipping-v0", "rl/PointMassGoal-v0", "rl/DeepSea-v0", "rl/CartPole-v1"]
)
def test_registered_envs_pass_gymnasium_checker(env_id):
    env = make_env(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


# ----------------------------------------------------------------- bit flipping


def test_bit_flipping_reaches_goal_by_flipping_the_differing_bits():
    env = BitFlippingEnv(n_bits=6)
    obs, _ = env.reset(seed=3)
    assert is_goal_env(env.observation_space)
    differing = np.flatnonzero(obs["achieved_goal"] != obs["desired_goal"])
    assert len(differing) >= 1  # start never equals goal
    for i, bit in enumerate(differing):
        obs, reward, terminated, truncated, info = env.step(bit)
        last = i == len(differing) - 1
        assert reward == (0.0 if last else -1.0)
        assert info["is_success"] is last and terminated is last and not truncated
    np.testing.assert_array_equal(obs["observation"], obs["desired_goal"])


def test_bit_flipping_truncates_after_n_steps_without_success():
    env = BitFlippingEnv(n_bits=4)
    obs, _ = env.reset(seed=0)
    bit = (
        int(np.flatnonzero(obs["achieved_goal"] == obs["desired_goal"])[0])
        if np.any(obs["achieved_goal"] == obs["desired_goal"])
        else None
    )
    if bit is None:
        pytest.skip("every bit differs for this seed")
    results = [env.step(bit) for _ in range(4)]  # flipping a matching bit back and forth
    assert [r[1] for r in results] == [-1.0] * 4
    assert [r[3] for r in results] == [False, False, False, True]
    assert not any(r[2] for r in results)


def test_bit_flipping_compute_reward_is_vectorized():
    env = BitFlippingEnv(n_bits=3)
    achieved = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=np.float32)
    desired = np.array([[0, 1, 1], [1, 0, 1], [0, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, None), [0.0, -1.0, 0.0])
    assert env.compute_reward(achieved[1], desired[1], None) == -1.0


# -------------------------------------------------------------------- deep sea


def test_deep_sea_optimal_path_pays_treasure_minus_move_cost():
    n = 8
    env = DeepSeaEnv(size=n)
    obs, _ = env.reset(seed=0)
    total, col = 0.0, 0
    for row in range(n):
        assert obs[row, col] == 1.0 and obs.sum() == 1.0
        obs, reward, terminated, truncated, info = env.step(env.action_mapping[row, col])
        total += reward
        col = min(col + 1, n - 1)
        assert terminated is (row == n - 1) and not truncated
    assert total == pytest.approx(1.0 - 0.01)
    assert info["is_success"] and obs.sum() == 0.0


def test_deep_sea_always_left_earns_nothing():
    env = DeepSeaEnv(size=5)
    env.reset(seed=0)
    total = 0.0
    for row in range(5):
        left = 1 - env.action_mapping[row, 0]
        _, reward, terminated, _, info = env.step(left)
        total += reward
    assert total == 0.0 and terminated and not info["is_success"]


def test_deep_sea_one_wrong_turn_misses_treasure():
    n = 6
    env = DeepSeaEnv(size=n)
    env.reset(seed=0)
    col, total = 0, 0.0
    for row in range(n):
        right = env.action_mapping[row, col]
        action = 1 - right if row == 2 else right
        _, reward, _, _, info = env.step(action)
        total += reward
        col = max(col - 1, 0) if row == 2 else min(col + 1, n - 1)
    assert not info["is_success"] and total < 0  # paid move costs, no treasure


def test_deep_sea_mapping_is_fixed_by_mapping_seed():
    a, b, c = (
        DeepSeaEnv(10, mapping_seed=1),
        DeepSeaEnv(10, mapping_seed=1),
        DeepSeaEnv(10, mapping_seed=2),
    )
    np.testing.assert_array_equal(a.action_mapping, b.action_mapping)
    assert not np.array_equal(a.action_mapping, c.action_mapping)
    assert set(np.unique(a.action_mapping)) == {0, 1}
    assert np.all(DeepSeaEnv(4, randomize_actions=False).action_mapping == 1)


# -------------------------------------------------------------------- cartpole


def test_cartpole_counts_steps_and_keeps_truncation_distinct():
    env = make_env("rl/CartPole-v1", time_limit=20)
    _, info = env.reset(seed=0)
    assert info["episode_step"] == 0
    steps, action = 0, 0
    while True:
        # alternate pushes: keeps the pole up for 20 steps
        _, reward, terminated, truncated, info = env.step(action)
        action, steps = 1 - action, steps + 1
        assert info["episode_step"] == steps and reward == 1.0
        if terminated or truncated:
            break
    assert truncated and not terminated and steps == 20 and info["is_success"]


def test_cartpole_sparse_reward_pays_only_successful_episodes():
    env = make_env("rl/CartPole-v1", sparse_success_reward=True, success_steps=15, time_limit=20)
    env.reset(seed=0)
    rewards, action = [], 0
    while True:
        _, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        action = 1 - action
        if terminated or truncated:
            break
    assert rewards[-1] == 1.0 and sum(rewards) == 1.0

    env.reset(seed=0)
    rewards = []
    while True:  # always push right: falls within a dozen steps
        _, reward, terminated, truncated, info = env.step(1)
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and len(rewards) < 15 and sum(rewards) == 0.0 and not info["is_success"]


# -------------------------------------------------------------------- point mass


def test_point_mass_moves_towards_goal_and_succeeds():
    env = PointMassGoalEnv(max_steps=100)
    obs, _ = env.reset(seed=1)
    for _ in range(100):
        direction = obs["desired_goal"] - obs["achieved_goal"]
        obs, reward, terminated, _, info = env.step(np.clip(direction / 0.1, -1, 1))
        if info["is_success"]:
            break
    assert info["is_success"] and reward == 0.0 and not terminated
    batch = env.compute_reward(np.zeros((2, 2)), np.array([[0.0, 0.01], [0.5, 0.5]]), None)
    np.testing.assert_array_equal(batch, [0.0, -1.0])


# -------------------------------------------------------------------- factories


def test_unknown_env_id_suggests_close_ids():
    with pytest.raises(UnknownEnvironmentError, match="did you mean 'rl/DeepSea-v0'"):
        make_env("rl/DeepSe-v0")


def test_vector_env_seeding_is_repeatable():
    first = make_vector_env("rl/BitFlipping-v0", 3, seed=7, env_kwargs={"n_bits": 5})
    second = make_vector_env("rl/BitFlipping-v0", 3, seed=7, env_kwargs={"n_bits": 5})
    a, _ = first.reset(seed=7)
    b, _ = second.reset(seed=7)
    np.testing.assert_array_equal(a["desired_goal"], b["desired_goal"])
    assert a["observation"].shape == (3, 5)
    assert not np.array_equal(a["desired_goal"][0], a["desired_goal"][1])  # seed+i per env


def test_module_prefixed_id_works_with_plain_gymnasium():
    env = gym.make("rl_core.envs:rl/DeepSea-v0", size=4)
    assert env.observation_space.shape == (4, 4)
