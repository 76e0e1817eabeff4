"""MPO on Gymnasium's MuJoCo envs (`uv sync --extra mujoco`): a CI smoke test."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import rl_mpo
from rl_mpo import MPO, MPOConfig

from rl_core.config import config_from_dict

pytest.importorskip("mujoco")


def test_the_halfcheetah_preset_builds_and_takes_gradient_steps_on_halfcheetah_v5():
    settings = tomllib.loads(
        (Path(rl_mpo.__file__).parent / "presets" / "halfcheetah.toml").read_text()
    )
    settings.pop("preset")
    assert settings["env"] == "HalfCheetah-v5"
    # The preset's algorithm (acme's settings), on small networks and a short warm-up.
    small = {"learning_starts": 64, "batch_size": 32, "steps_per_update": 16, "num_samples": 4,
             "policy_hidden_sizes": (16,), "critic_hidden_sizes": (16,), "device": "cpu",
             "jit_compile": False}  # fmt: skip
    agent = MPO(config_from_dict(MPOConfig, {**settings, **small}))
    assert agent.envs.single_observation_space.shape == (17,)
    agent.learn(96)
    # 0.25 gradient steps per env step once 64 transitions are in: (96 - 64) / 4 = 8.
    assert int(agent.learner.num_steps.numpy()) == 8
    obs = np.zeros((3, 17), np.float32)
    actions = agent.predict(obs)
    assert actions.shape == (3, 6) and np.all(np.abs(actions) <= 1.0)
