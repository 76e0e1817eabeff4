"""CartPoleWrapper and rl/CartPole-v1."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import TimeLimit

from rl_core.envs import CartPoleWrapper, make_env


class ScriptedEnv(gym.Env):
    """Ends after ``length`` steps, by termination or truncation; reward 0.5 per step."""

    metadata = {"render_modes": []}
    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int, truncate: bool) -> None:
        self.length, self.truncate, self.t = length, truncate, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {"inner": True}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        terminated, truncated = (done and not self.truncate), (done and self.truncate)
        return np.zeros(1, np.float32), 0.5, terminated, truncated, {"inner": True}


def play(env: gym.Env, policy, seed: int = 0):
    """One episode; returns (rewards, last terminated, last truncated, infos)."""
    _, info = env.reset(seed=seed)
    infos, rewards, step = [info], [], 0
    while True:
        _, reward, terminated, truncated, info = env.step(policy(step))
        rewards.append(reward)
        infos.append(info)
        step += 1
        if terminated or truncated:
            return rewards, terminated, truncated, infos


def balance(step: int) -> int:
    return step % 2  # alternate pushes: keeps CartPole up for a few dozen steps


def test_wrapper_passes_gymnasium_env_checker():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(wrapper|infinity).*")
        check_env(make_env("rl/CartPole-v1"), skip_render_check=True)


def test_episode_step_counts_steps_within_the_episode_and_restarts_on_reset():
    env = CartPoleWrapper(ScriptedEnv(length=4, truncate=False))
    for _ in range(2):
        rewards, *_, infos = play(env, balance)
        assert [info["episode_step"] for info in infos] == [0, 1, 2, 3, 4]
        assert all(info["inner"] for info in infos)  # the inner info is kept
        assert rewards == [0.5] * 4  # dense: the inner reward passes through


@pytest.mark.parametrize(
    ("length", "truncate", "success"),
    [
        (10, False, False),
        (194, False, False),
        (195, False, True),
        (300, False, True),
        (5, True, True),
    ],
)
def test_is_success_only_at_episode_end(length, truncate, success):
    env = CartPoleWrapper(ScriptedEnv(length=length, truncate=truncate))
    _, terminated, truncated, infos = play(env, balance)
    assert (terminated, truncated) == (not truncate, truncate)  # kept as the inner env said
    assert infos[-1]["is_success"] is success
    assert not any("is_success" in info for info in infos[:-1])


@pytest.mark.parametrize(
    ("length", "truncate", "last_reward"),
    [(10, False, 0.0), (194, False, 0.0), (195, False, 1.0), (200, True, 1.0), (5, True, 0.0)],
)
def test_sparse_success_reward_pays_once_for_long_episodes(length, truncate, last_reward):
    env = CartPoleWrapper(ScriptedEnv(length, truncate), sparse_success_reward=True)
    rewards, *_ = play(env, balance)
    assert len(rewards) == length
    assert rewards[:-1] == [0.0] * (length - 1)
    assert rewards[-1] == last_reward


def test_registered_cartpole_keeps_gymnasiums_time_limit_inside_the_wrapper():
    env = make_env("rl/CartPole-v1")
    layer = env
    while not isinstance(layer, CartPoleWrapper):
        layer = layer.env
    limits = []
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, TimeLimit):
            limits.append(layer._max_episode_steps)
        layer = layer.env
    assert limits == [500]
    assert type(layer).__name__ == "CartPoleEnv"


def test_real_cartpole_time_limit_is_truncation_not_termination():
    env = make_env("rl/CartPole-v1", time_limit=20)
    rewards, terminated, truncated, infos = play(env, balance)
    assert truncated and not terminated
    assert len(rewards) == 20 and rewards == [1.0] * 20
    assert infos[-1]["episode_step"] == 20 and infos[-1]["is_success"] is True


def test_real_cartpole_falling_is_termination_and_earns_nothing_when_sparse():
    env = make_env("rl/CartPole-v1", sparse_success_reward=True)
    rewards, terminated, truncated, infos = play(env, lambda step: 1)  # always push right
    assert terminated and not truncated
    assert len(rewards) < 195 and sum(rewards) == 0.0
    assert infos[-1]["is_success"] is False and infos[-1]["episode_step"] == len(rewards)


def test_real_cartpole_sparse_reward_on_a_long_enough_truncated_episode():
    env = make_env("rl/CartPole-v1", sparse_success_reward=True, success_steps=15, time_limit=20)
    rewards, _, truncated, _ = play(env, balance)
    assert truncated and rewards == [0.0] * 19 + [1.0]
