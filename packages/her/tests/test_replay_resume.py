"""HER checkpoints carry the replay buffer; a resume without it refills before training."""

from __future__ import annotations

import numpy as np
from rl_her import HER, HERConfig

from rl_core.config import apply_overrides
from rl_core.replay import REPLAY_FILE, load_replay, save_replay

from .test_her import EPISODE, GOAL, add_episode, bit_buffer


def small(**overrides) -> HERConfig:
    base = {
        "num_envs": 2,
        "batch_size": 16,
        "learning_starts": 32,
        "hidden_sizes": [16],
        "device": "cpu",
        "log_every": 8,
        "env_kwargs": {"n_bits": 4},
        "xla": False,
    }
    return apply_overrides(HERConfig(), {**base, **overrides})


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype, key
        np.testing.assert_array_equal(x, y, err_msg=key)


def test_buffer_round_trip_after_wraparound_with_priorities_and_uint8_bits(tmp_path):
    buf = bit_buffer(num_envs=2, capacity=10, prioritized=True, alpha=0.5)
    for _ in range(3):  # 9 rows into 5: wrapped, the first episode overwritten
        add_episode(buf, EPISODE, GOAL, env_count=2)
    buf.update_priorities(np.array([0, 3, 7]), np.array([2.0, 0.5, -1.0]))
    # One env mid-episode: its running episode is part of the state too.
    ones, zeros = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    buf.add(ones, ones, np.zeros(2, np.int64), zeros, zeros, np.zeros(2, bool), [True, False])
    state = buf.state_dict()
    compact = ["data/observation", "data/next_observation"]
    path = save_replay(tmp_path / REPLAY_FILE, state, compact)
    with np.load(path) as raw:
        assert raw["data/observation"].dtype == np.uint8  # bits: 1 byte each on disk
    again = bit_buffer(num_envs=2, capacity=10, prioritized=True, alpha=0.5)
    again.load_state_dict(load_replay(path))
    assert again.observation.dtype == np.float32
    assert_same_state(state, again.state_dict())
    np.testing.assert_array_equal(again.tree._sum, buf.tree._sum)
    assert (len(again), again.pos, again.full) == (len(buf), buf.pos, buf.full)
    # The sampler (relabeling, n-step windows, priorities) draws the same batches.
    draws = [b.sample(64, np.random.default_rng(0)) for b in (buf, again)]
    assert_same_state(*draws)
    # Writing on continues identically (episode bookkeeping, invalidation on overwrite).
    for b in (buf, again):
        add_episode(b, EPISODE, GOAL, env_count=2)
    assert_same_state(buf.state_dict(), again.state_dict())


def test_policy_saves_leave_the_replay_out_and_checkpoints_carry_it(tmp_path):
    agent = HER(small()).learn(64)
    agent.save(tmp_path / "policy")
    assert not (tmp_path / "policy" / REPLAY_FILE).exists()
    agent.save(tmp_path / "ckpt", include_replay=True)
    again = HER.load(tmp_path / "ckpt")
    assert len(again.buffer) == len(agent.buffer) > 0
    assert_same_state(agent.buffer.state_dict(), again.buffer.state_dict())
    off = HER(small(checkpoint_replay=False)).learn(64)
    off.save(tmp_path / "off", include_replay=True)
    assert not (tmp_path / "off" / REPLAY_FILE).exists()


def gradient_steps(agent: HER) -> int:
    return int(agent.learner.gradient_steps.numpy())


def test_resume_without_replay_refills_learning_starts_before_training(tmp_path):
    for replay in (True, False):
        agent = HER(small(checkpoint_replay=replay)).learn(96)
        agent.save(tmp_path / str(replay), include_replay=True)
        resumed = HER.load(tmp_path / str(replay))
        before = gradient_steps(resumed)
        resumed.learn(16)  # 8 vector steps: at most 16 new transitions < learning_starts
        if replay:  # the buffer came back: training goes on at once
            assert gradient_steps(resumed) > before
            continue
        assert gradient_steps(resumed) == before
        assert len(resumed.buffer) < 32
        resumed.learn(48)
        assert len(resumed.buffer) >= 32 and gradient_steps(resumed) > before
