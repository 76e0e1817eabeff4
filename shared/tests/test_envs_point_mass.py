"""PointMassGoalEnv: a continuous 2-D goal-reaching GoalEnv."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_core.envs import PointMassGoalEnv, is_goal_env


def test_passes_gymnasium_env_checker_with_rendering():
    check_env(gym.make("rl/PointMassGoal-v0", render_mode="rgb_array").unwrapped)


def test_spaces_follow_the_goal_env_convention():
    env = PointMassGoalEnv()
    assert is_goal_env(env.observation_space)
    for box in env.observation_space.spaces.values():
        assert box.shape == (2,) and box.dtype == np.float32
        np.testing.assert_array_equal(box.low, [-1, -1])
        np.testing.assert_array_equal(box.high, [1, 1])
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space and info["is_success"] is False
    np.testing.assert_array_equal(obs["observation"], obs["achieved_goal"])


def test_action_is_a_scaled_clipped_velocity_step():
    env = PointMassGoalEnv()
    obs, _ = env.reset(seed=3)
    start = obs["achieved_goal"].copy()
    obs, *_ = env.step(np.array([0.5, -1.0], dtype=np.float32))
    np.testing.assert_allclose(obs["achieved_goal"], start + np.array([0.05, -0.1]), atol=1e-6)
    before = obs["achieved_goal"].copy()
    obs, *_ = env.step(np.array([10.0, -10.0], dtype=np.float32))  # clipped to [-1, 1]
    np.testing.assert_allclose(
        obs["achieved_goal"], np.clip(before + np.array([0.1, -0.1]), -1, 1), atol=1e-6
    )
    for _ in range(30):  # pushing into a wall keeps the point in the square
        obs, *_ = env.step(np.array([1.0, 1.0], dtype=np.float32))
    np.testing.assert_array_equal(obs["achieved_goal"], [1.0, 1.0])
    assert obs in env.observation_space


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_heading_for_the_goal_succeeds_with_reward_zero_and_no_termination(seed):
    env = PointMassGoalEnv(max_steps=100)
    obs, _ = env.reset(seed=seed)
    rewards = []
    for _ in range(100):
        direction = (obs["desired_goal"] - obs["achieved_goal"]) / env.max_speed
        obs, reward, terminated, _, info = env.step(np.clip(direction, -1, 1))
        rewards.append(reward)
        assert not terminated
        assert info["is_success"] is (reward == 0.0)
        if info["is_success"]:
            break
    assert info["is_success"] and rewards[-1] == 0.0 and set(rewards[:-1]) <= {-1.0}
    distance = np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"])
    assert distance <= env.goal_radius


def test_truncated_at_max_steps_never_terminated():
    env = PointMassGoalEnv(max_steps=7)
    env.reset(seed=0)
    results = [env.step(np.zeros(2, dtype=np.float32)) for _ in range(7)]
    assert [r[1] for r in results] == [-1.0] * 7  # standing still never reaches the goal
    assert [r[2] for r in results] == [False] * 7
    assert [r[3] for r in results] == [False] * 6 + [True]


def test_terminate_on_success_option():
    env = PointMassGoalEnv(terminate_on_success=True, goal_radius=0.3)
    obs, _ = env.reset(seed=0)
    for _ in range(50):
        direction = (obs["desired_goal"] - obs["achieved_goal"]) / env.max_speed
        obs, reward, terminated, truncated, info = env.step(np.clip(direction, -1, 1))
        if terminated or truncated:
            break
    assert terminated and not truncated and info["is_success"] and reward == 0.0


def test_start_is_never_already_at_the_goal_and_resets_are_seeded():
    env = PointMassGoalEnv(goal_radius=0.5)
    for seed in range(30):
        obs, _ = env.reset(seed=seed)
        assert np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"]) > 0.5
    a, _ = PointMassGoalEnv().reset(seed=4)
    b, _ = PointMassGoalEnv().reset(seed=4)
    c, _ = PointMassGoalEnv().reset(seed=5)
    np.testing.assert_array_equal(a["desired_goal"], b["desired_goal"])
    assert not np.array_equal(a["desired_goal"], c["desired_goal"])


def test_compute_reward_batched_equals_per_item():
    env = PointMassGoalEnv(goal_radius=0.05)
    rng = np.random.default_rng(0)
    achieved = rng.uniform(-1, 1, (50, 2)).astype(np.float32)
    desired = achieved + rng.normal(0, 0.05, (50, 2)).astype(np.float32)
    batch = env.compute_reward(achieved, desired, {})
    assert batch.shape == (50,) and batch.dtype == np.float32
    single = np.array(
        [env.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)]
    )
    np.testing.assert_array_equal(batch, single)
    assert set(np.unique(batch)) == {0.0, -1.0}  # both outcomes covered
    near = env.compute_reward(np.zeros((2, 2)), np.array([[0.0, 0.04], [0.03, 0.05]]), None)
    np.testing.assert_array_equal(near, [0.0, -1.0])  # euclidean: |(0.03, 0.05)| > 0.05
    np.testing.assert_array_equal(
        env.compute_terminated(achieved, desired, None), np.zeros(50, dtype=bool)
    )
    np.testing.assert_array_equal(
        env.compute_truncated(achieved, desired, None), np.zeros(50, dtype=bool)
    )


def test_rgb_array_render():
    env = PointMassGoalEnv(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8
    assert np.any(np.all(frame == (60, 170, 60), axis=-1))  # goal drawn
    assert np.any(np.all(frame == (200, 40, 40), axis=-1))  # point drawn
    assert PointMassGoalEnv().render() is None
