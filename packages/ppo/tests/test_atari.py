"""PPO's atari preset on an ALE game: the Nature CNN on 84x84x4 uint8 frames (a smoke)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ale_py")  # rl-core's atari extra

import rl_ppo
from rl_ppo import PPO, PPOConfig

from rl_core.config import apply_overrides


def test_the_atari_preset_trains_a_nature_cnn_on_uint8_frames():
    settings = tomllib.loads((Path(rl_ppo.__file__).parent / "presets/atari.toml").read_text())
    settings.pop("preset")
    small = {"num_envs": 2, "n_steps": 16, "minibatch_size": 16, "n_epochs": 1, "device": "cpu"}
    agent = PPO(apply_overrides(PPOConfig(), {**settings, **small}))
    assert agent.model.pi_torso.parts[0].cnn.flat_size == 3136  # Nature CNN on 84x84
    assert agent.model.v_torso is agent.model.pi_torso  # shared, as CleanRL's
    agent.reset_envs()
    buf, _ = agent.next_rollout()
    assert buf["obs"].dtype == np.uint8 and buf["obs"].shape == (16, 2, 84, 84, 4)
    record = agent.update_policy(buf)
    assert np.isfinite(record["losses/policy_loss"]) and record["charts/gradient_steps"] == 2
