"""BitFlippingEnv: the HER bit-flipping toy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_core.envs import BitFlippingEnv, is_goal_env


def first_seed_with_a_matching_bit(env: BitFlippingEnv) -> tuple[dict, int]:
    for seed in range(50):
        obs, _ = env.reset(seed=seed)
        matching = np.flatnonzero(obs["achieved_goal"] == obs["desired_goal"])
        if len(matching):
            return obs, int(matching[0])
    raise AssertionError("no seed in 0..49 gives a start with a bit equal to the goal")


def test_passes_gymnasium_env_checker_with_rendering():
    # made through gymnasium so that the checker also tries the other render modes
    check_env(gym.make("rl/BitFlipping-v0", n_bits=5, render_mode="rgb_array").unwrapped)


def test_observation_is_a_goal_dict_of_float32_bits():
    env = BitFlippingEnv(n_bits=7)
    obs, info = env.reset(seed=0)
    assert is_goal_env(env.observation_space)
    assert set(obs) == {"observation", "achieved_goal", "desired_goal"}
    for key, value in obs.items():
        assert value.dtype == np.float32 and value.shape == (7,), key
        assert set(np.unique(value)) <= {0.0, 1.0}
    np.testing.assert_array_equal(obs["observation"], obs["achieved_goal"])
    assert obs in env.observation_space
    assert info["is_success"] is False
    assert env.action_space == gym.spaces.Discrete(7)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_flipping_the_differing_bits_reaches_the_goal(seed):
    env = BitFlippingEnv(n_bits=8)
    obs, _ = env.reset(seed=seed)
    differing = np.flatnonzero(obs["achieved_goal"] != obs["desired_goal"])
    assert len(differing) >= 1
    for i, bit in enumerate(differing):
        obs, reward, terminated, truncated, info = env.step(bit)
        last = i == len(differing) - 1
        assert reward == (0.0 if last else -1.0)
        assert info["is_success"] is last
        assert terminated is last
        assert truncated is False
    np.testing.assert_array_equal(obs["achieved_goal"], obs["desired_goal"])
    np.testing.assert_array_equal(obs["observation"], obs["desired_goal"])


def test_a_wrong_flip_costs_minus_one_and_moves_away_from_the_goal():
    env = BitFlippingEnv(n_bits=8)
    obs, bit = first_seed_with_a_matching_bit(env)
    before = int(np.sum(obs["achieved_goal"] != obs["desired_goal"]))
    obs, reward, terminated, truncated, info = env.step(bit)
    assert reward == -1.0 and not info["is_success"] and not terminated and not truncated
    assert int(np.sum(obs["achieved_goal"] != obs["desired_goal"])) == before + 1
    assert obs["achieved_goal"][bit] != obs["desired_goal"][bit]


def test_truncates_after_n_bits_steps_and_never_terminates_without_success():
    n = 5
    env = BitFlippingEnv(n_bits=n)
    _, bit = first_seed_with_a_matching_bit(env)
    results = [env.step(bit) for _ in range(n)]  # back and forth on a bit that matched
    assert [r[1] for r in results] == [-1.0] * n
    assert [r[2] for r in results] == [False] * n
    assert [r[3] for r in results] == [False] * (n - 1) + [True]
    assert [r[4]["is_success"] for r in results] == [False] * n


def test_custom_max_steps_and_reset_restarts_the_count():
    env = BitFlippingEnv(n_bits=6, max_steps=2)
    for _ in range(2):
        _, bit = first_seed_with_a_matching_bit(env)
        assert env.step(bit)[3] is False
        assert env.step(bit)[3] is True


def test_without_terminate_on_success_the_episode_goes_on():
    env = BitFlippingEnv(n_bits=1, max_steps=3, terminate_on_success=False)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(0)  # one bit: one flip solves it
    assert (reward, terminated, truncated, info["is_success"]) == (0.0, False, False, True)
    _, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated, info["is_success"]) == (-1.0, False, False, False)
    _, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated, info["is_success"]) == (0.0, False, True, True)


def test_start_never_equals_goal_and_resets_are_seeded():
    env = BitFlippingEnv(n_bits=2)
    starts = set()
    for seed in range(40):
        obs, _ = env.reset(seed=seed)
        assert not np.array_equal(obs["achieved_goal"], obs["desired_goal"])
        starts.add((tuple(obs["achieved_goal"]), tuple(obs["desired_goal"])))
    assert len(starts) > 4  # random start and goal, not a fixed pair
    a, _ = BitFlippingEnv(n_bits=16).reset(seed=11)
    b, _ = BitFlippingEnv(n_bits=16).reset(seed=11)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_compute_reward_batched_equals_per_item():
    env = BitFlippingEnv(n_bits=4)
    rng = np.random.default_rng(0)
    achieved = rng.integers(0, 2, (64, 4)).astype(np.float32)
    desired = rng.integers(0, 2, (64, 4)).astype(np.float32)
    desired[::3] = achieved[::3]  # make sure some are reached
    batch = env.compute_reward(achieved, desired, {})
    assert batch.shape == (64,) and batch.dtype == np.float32
    single = [env.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)]
    assert all(np.shape(s) == () and np.asarray(s).dtype == np.float32 for s in single)
    np.testing.assert_array_equal(batch, np.array(single))
    expected = np.where(np.all(achieved == desired, axis=1), 0.0, -1.0)
    np.testing.assert_array_equal(batch, expected)
    assert set(np.unique(batch)) == {0.0, -1.0}


def test_compute_reward_matches_step_reward_and_hindsight_relabelling():
    env = BitFlippingEnv(n_bits=6)
    obs, _ = env.reset(seed=5)
    obs, reward, *_, info = env.step(0)
    assert env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info) == reward
    # relabelled with the goal actually achieved: a success
    assert env.compute_reward(obs["achieved_goal"], obs["achieved_goal"], info) == 0.0


def test_compute_terminated_and_truncated_are_vectorized():
    achieved = np.array([[0, 1], [1, 1]], dtype=np.float32)
    desired = np.array([[0, 1], [0, 1]], dtype=np.float32)
    env = BitFlippingEnv(n_bits=2)
    np.testing.assert_array_equal(env.compute_terminated(achieved, desired, None), [True, False])
    np.testing.assert_array_equal(env.compute_truncated(achieved, desired, None), [False, False])
    assert bool(env.compute_terminated(achieved[0], desired[0], None)) is True
    no_stop = BitFlippingEnv(n_bits=2, terminate_on_success=False)
    np.testing.assert_array_equal(
        no_stop.compute_terminated(achieved, desired, None), [False, False]
    )


def test_rejects_out_of_range_actions_and_bad_arguments():
    env = BitFlippingEnv(n_bits=3)
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(3)
    with pytest.raises(ValueError):
        BitFlippingEnv(n_bits=0)


def test_rgb_array_render_shows_bits_and_goal():
    env = BitFlippingEnv(n_bits=4, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[1] == 4 * 16
    env.step(0)
    assert not np.array_equal(frame, env.render())
    assert BitFlippingEnv(n_bits=4).render() is None


def test_registered_and_made_through_gymnasium():
    env = gym.make("rl/BitFlipping-v0", n_bits=5)
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (5,)
    assert env.unwrapped.compute_reward(obs["achieved_goal"], obs["desired_goal"], {}) == -1.0
