"""DeepSeaEnv: bsuite's Deep Sea exploration grid."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_core.envs import DeepSeaEnv, make_vector_env


def run_episode(env: DeepSeaEnv, policy, seed: int = 0):
    """Play one episode; ``policy(row, col)`` picks the action. Returns the step records."""
    obs, _ = env.reset(seed=seed)
    records, done = [], False
    while not done:
        row, col = np.argwhere(obs == 1.0)[0]
        obs, reward, terminated, truncated, info = env.step(policy(int(row), int(col)))
        records.append((obs, reward, terminated, truncated, info))
        done = terminated or truncated
    return records


def test_passes_gymnasium_env_checker_with_rendering():
    check_env(gym.make("rl/DeepSea-v0", size=6, render_mode="rgb_array").unwrapped)


def test_spaces_and_start_cell():
    env = DeepSeaEnv(size=7)
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (7, 7), np.float32)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.sum() == 1.0 and obs[0, 0] == 1.0
    assert info["is_success"] is False


@pytest.mark.parametrize("size", [1, 5, 10, 20])
def test_optimal_actions_from_the_mapping_return_0_99_in_n_steps(size):
    env = DeepSeaEnv(size=size)
    obs, _ = env.reset(seed=0)
    total, col = 0.0, 0
    for row in range(size):
        assert obs[row, col] == 1.0 and obs.sum() == 1.0  # one-hot of the agent's cell
        obs, reward, terminated, truncated, info = env.step(env.action_mapping[row, col])
        total += reward
        col = min(col + 1, size - 1)
        assert terminated is (row == size - 1)
        assert truncated is False
    assert total == pytest.approx(1.0 - 0.01, abs=1e-12)
    assert total == pytest.approx(env.optimal_return, abs=1e-12)
    assert info["is_success"] is True and info["bad_episode"] is False
    assert obs.sum() == 0.0 and obs in env.observation_space  # bsuite's empty final observation


def test_move_cost_is_charged_per_right_move_and_treasure_only_in_the_corner():
    size = 4
    env = DeepSeaEnv(size=size, unscaled_move_cost=0.2)
    records = run_episode(env, lambda r, c: env.action_mapping[r, c])
    rewards = [r[1] for r in records]
    assert rewards[:-1] == pytest.approx([-0.05] * 3)
    assert rewards[-1] == pytest.approx(1.0 - 0.05)


def test_always_left_earns_exactly_zero():
    env = DeepSeaEnv(size=6)
    records = run_episode(env, lambda r, c: 1 - env.action_mapping[r, c])
    assert len(records) == 6
    assert [r[1] for r in records] == [0.0] * 6
    assert records[-1][2] is True and records[-1][3] is False
    assert records[-1][4]["is_success"] is False and records[-1][4]["bad_episode"] is True


def test_left_moves_are_clipped_at_column_zero_and_one_wrong_turn_loses_the_treasure():
    size = 6
    env = DeepSeaEnv(size=size)
    cols = []

    def right_except_on_row_2(row, col):
        cols.append(col)
        right = env.action_mapping[row, col]
        return 1 - right if row == 2 else right

    records = run_episode(env, right_except_on_row_2)
    assert cols == [0, 1, 2, 1, 2, 3]
    total = sum(r[1] for r in records)
    assert not records[-1][4]["is_success"]
    assert total == pytest.approx(-5 * 0.01 / size)  # five rights paid, no treasure


def test_mapping_fixed_by_mapping_seed_and_not_by_reset_seed():
    a, b, c = (
        DeepSeaEnv(10, mapping_seed=1),
        DeepSeaEnv(10, mapping_seed=1),
        DeepSeaEnv(10, mapping_seed=2),
    )
    np.testing.assert_array_equal(a.action_mapping, b.action_mapping)
    assert not np.array_equal(a.action_mapping, c.action_mapping)
    assert set(np.unique(a.action_mapping)) == {0, 1}
    before = a.action_mapping.copy()
    a.reset(seed=123)
    np.testing.assert_array_equal(a.action_mapping, before)
    with pytest.raises(ValueError):
        a.action_mapping[0, 0] = 1 - a.action_mapping[0, 0]  # read-only


def test_without_randomized_actions_action_one_is_always_right():
    env = DeepSeaEnv(size=5, randomize_actions=False)
    assert np.all(env.action_mapping == 1)
    records = run_episode(env, lambda r, c: 1)
    assert sum(r[1] for r in records) == pytest.approx(0.99)


def test_vector_env_copies_share_the_mdp():
    envs = make_vector_env("rl/DeepSea-v0", 3, seed=0, env_kwargs={"size": 8, "mapping_seed": 4})
    mappings = [env.unwrapped.action_mapping for env in envs.envs]
    for mapping in mappings[1:]:
        np.testing.assert_array_equal(mappings[0], mapping)
    np.testing.assert_array_equal(mappings[0], DeepSeaEnv(8, mapping_seed=4).action_mapping)
    envs.close()


def test_stepping_after_the_end_raises():
    env = DeepSeaEnv(size=2)
    run_episode(env, lambda r, c: 0)
    with pytest.raises(RuntimeError):
        env.step(0)


def test_stochastic_variant_right_moves_fail_with_probability_one_over_n():
    size = 5
    env = DeepSeaEnv(size=size, deterministic=False)
    failures = attempts = successes = 0
    for episode in range(300):
        obs, _ = env.reset(seed=episode)
        for row in range(size):
            col = int(np.argwhere(obs[row] == 1.0)[0][0])
            obs, reward, _, _, info = env.step(env.action_mapping[row, col])
            if row < size - 1:  # no noise or treasure before the last row: exactly the cost
                assert reward == pytest.approx(-0.01 / size)
                attempts += 1
                failures += int(obs[row + 1, col] == 1.0)  # stayed in the column
        successes += info["is_success"]
    assert failures > 0
    assert failures / attempts == pytest.approx(1 / size, abs=0.04)
    # the treasure needs the first N-1 rights to succeed: (1 - 1/N)^(N-1) = 0.41
    assert successes / 300 == pytest.approx((1 - 1 / size) ** (size - 1), abs=0.1)
    assert env.optimal_return == pytest.approx((1 - 1 / size) ** (size - 1) - 0.01)


def test_stochastic_variant_is_repeatable_with_the_reset_seed():
    def rewards(seed):
        env = DeepSeaEnv(size=6, deterministic=False)
        return [r[1] for r in run_episode(env, lambda r, c: env.action_mapping[r, c], seed)]

    assert rewards(3) == rewards(3)


def test_rgb_array_render():
    env = DeepSeaEnv(size=8, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (160, 160, 3)
    env.step(0)
    assert not np.array_equal(frame, env.render())
    assert DeepSeaEnv(size=3).render() is None
