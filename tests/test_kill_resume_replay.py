"""kill -9 an off-policy run, `rl resume` it: the checkpoint's replay comes back as it
was saved (issue 17: checkpoints carry the replay). Here rather than in rl-her's own
tests because it drives the `rl` command, which rl-her alone does not install."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rl_her")
from rl_her import HER

from rl_core.replay import REPLAY_FILE, load_replay
from rl_core.run import RunDirectory


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype, key
        np.testing.assert_array_equal(x, y, err_msg=key)


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
