"""evaluate_policy: episode shares per env, and per-episode memory for recurrent policies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rl_core.algorithm import RecurrentPolicy, RewardConditionedPolicy
from rl_core.evaluation import evaluate_policy

LENGTHS = {0: 3, 1: 5}  # env i's episodes last LENGTHS[i % 2] steps


class CountingEnv(gym.Env):
    """Pays 1 when the action equals the step index within the episode, so only a policy
    that counts its steps from 0 in every episode earns the full episode length."""

    observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(10)

    def __init__(self, length: int = 3) -> None:
        self.length = length
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.length = LENGTHS[int(seed or 0) % 2] if seed is not None else self.length
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        reward = float(int(action) == self.t)
        self.t += 1
        return np.zeros(1, np.float32), reward, self.t >= self.length, False, {}


gym.register("test/Counting-v0", entry_point=CountingEnv)


class StepCounter:
    """A recurrent policy whose memory is the step count of each batch row."""

    def __init__(self) -> None:
        self.count: np.ndarray | None = None
        self.batch_sizes: list[int] = []

    def reset_policy_state(self, rows=None) -> None:
        if rows is None or self.count is None:
            self.count = None
        else:
            self.count[rows] = 0

    def predict(self, obs, deterministic=True):
        self.batch_sizes.append(len(obs))
        if self.count is None:
            self.count = np.zeros(len(obs), np.int64)
        actions = self.count.copy()
        self.count += 1
        return actions


class Forgetful:
    """The same counter without the reset method: evaluate_policy cannot reset it."""

    def __init__(self) -> None:
        self.t = 0

    def predict(self, obs, deterministic=True):
        actions = np.full(len(obs), self.t)
        self.t += 1
        return actions


def test_recurrent_policy_keeps_rows_and_is_reset_per_episode():
    policy = StepCounter()
    assert isinstance(policy, RecurrentPolicy)
    result = evaluate_policy(policy, "test/Counting-v0", episodes=5, num_envs=2, seed=0)
    # env 0 (length 3) runs 2 episodes, env 1 (length 5) runs 3; each is paid in full
    # only if its row was reset when it started over.
    assert sorted(result.lengths) == [3, 3, 5, 5, 5]
    assert result.returns == [float(n) for n in result.lengths]
    # Row i is env i throughout, also after env 0 is done (15 steps of env 1).
    assert set(policy.batch_sizes) == {2} and len(policy.batch_sizes) == 15


def test_a_policy_without_memory_reset_is_not_reset():
    # The control for the test above: without reset_policy_state the second episodes
    # are paid nothing, so the returns there show the reset working.
    assert not isinstance(Forgetful(), RecurrentPolicy)
    result = evaluate_policy(Forgetful(), "test/Counting-v0", episodes=2, num_envs=1, seed=0)
    assert result.returns == [3.0, 0.0]


class RewardCounter:
    """Acts with the sum of the rewards it has been handed in the episode: on CountingEnv
    (reward 1 iff the action is the step index) it earns the full length only if every
    step's reward reaches its own row before the next predict."""

    def __init__(self) -> None:
        self.received: np.ndarray | None = None
        self.observed: list[np.ndarray] = []

    def reset_policy_state(self, rows=None) -> None:
        if rows is None or self.received is None:
            self.received = None
        else:
            self.received[rows] = 0

    def predict(self, obs, deterministic=True):
        if self.received is None:
            self.received = np.zeros(len(obs), np.int64)
        return self.received.copy()

    def observe_rewards(self, rewards) -> None:
        self.observed.append(np.asarray(rewards).copy())
        self.received += np.asarray(rewards, np.int64)


def test_a_reward_conditioned_policy_is_handed_each_rows_reward():
    policy = RewardCounter()
    assert isinstance(policy, RewardConditionedPolicy)
    assert not isinstance(StepCounter(), RewardConditionedPolicy)
    result = evaluate_policy(policy, "test/Counting-v0", episodes=5, num_envs=2, seed=0)
    assert sorted(result.lengths) == [3, 3, 5, 5, 5]
    assert result.returns == [float(n) for n in result.lengths]
    # One batch of rewards per predict, one per row; env 0's row is 0 once it is done.
    assert len(policy.observed) == 15 and {len(r) for r in policy.observed} == {2}
    assert all(r[0] == 0 for r in policy.observed[6:])


def test_episodes_must_be_positive():
    with pytest.raises(Exception, match="episodes"):
        evaluate_policy(Forgetful(), "test/Counting-v0", episodes=0)


def test_an_mp4_video_is_written(tmp_path):
    pytest.importorskip("imageio")
    from rl_core.evaluation import write_video

    frames = [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(5)]
    path = write_video(frames, tmp_path / "clip.mp4", fps=10)
    import imageio.v2 as imageio

    read = imageio.mimread(path)
    assert len(read) == 5 and read[0].shape == (16, 16, 3)
    assert abs(int(read[4].mean()) - 160) < 8  # the frames, not a blank video
