"""HER checkpoints carry the replay buffer; a resume without it refills before training."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from rl_her import HER, HERConfig

from rl_core.config import apply_overrides
from rl_core.replay import REPLAY_FILE, load_replay, save_replay
from rl_core.run import RunDirectory

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


def rl(*args: str, cwd: Path, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "rl_cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_sigkill_then_resume_restores_the_checkpointed_replay(tmp_path):
    sets = ["num_envs=2", "batch_size=16", "learning_starts=32", "hidden_sizes=[16]",
            "log_every=16", "env_kwargs.n_bits=4", "xla=false", "checkpoint_every=64",
            "eval_episodes=2"]  # fmt: skip
    args = ["train", "her", "--run-dir", "r", "--steps", "1000000", "--device", "cpu"]
    proc = rl(*args, *[a for s in sets for a in ("--set", s)], cwd=tmp_path)
    run = RunDirectory(tmp_path / "r")
    deadline = time.monotonic() + 120
    try:
        while len(run.checkpoints()) < 2:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    checkpoint = run.latest_checkpoint()
    saved = load_replay(checkpoint / REPLAY_FILE)
    step = run.checkpoint_step(checkpoint)
    assert int(saved["pos"]) == (step // 2) % int(saved["rows"])  # one row per vector step
    # What a resume starts from: the checkpoint's buffer, field for field.
    agent = HER.load(checkpoint)
    assert len(agent.buffer) == int(saved["valid"]) > 0
    assert_same_state(saved, agent.buffer.state_dict())
    # `rl resume` trains on from it: its first log already sees the restored transitions.
    resumed = rl("resume", "r", "--steps", str(step + 32), cwd=tmp_path)
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    after = [r for r in run.read_metrics() if r["global_step"] > step]
    assert after and after[0]["charts/buffer_size"] >= len(agent.buffer)
    assert json.loads((run.policy_dir / "agent.json").read_text())["num_timesteps"] >= step + 32
    assert not (run.policy_dir / REPLAY_FILE).exists()
