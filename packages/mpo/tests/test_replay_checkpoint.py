"""MPO checkpoints carry the replay; without it a resume refills before training."""

from __future__ import annotations

import numpy as np
from rl_mpo import MPO, MPOConfig

from rl_core.config import config_from_dict
from rl_core.replay import REPLAY_FILE


def small(**overrides) -> MPOConfig:
    base = {
        "learning_starts": 64,
        "batch_size": 32,
        "steps_per_update": 16,
        "num_samples": 4,
        "policy_hidden_sizes": (16,),
        "critic_hidden_sizes": (16,),
        "device": "cpu",
        "buffer_size": 100,  # wraps within the run
    }
    return config_from_dict(MPOConfig, {**base, **overrides})


def test_checkpoint_round_trip_of_the_replay_and_refill_without_it(tmp_path):
    agent = MPO(small()).learn(160)
    assert agent.replay.is_full
    agent.save(tmp_path / "policy")
    assert not (tmp_path / "policy" / REPLAY_FILE).exists()
    agent.save(tmp_path / "ckpt", include_replay=True)
    loaded = MPO.load(tmp_path / "ckpt")
    saved, restored = agent.replay.state_dict(), loaded.replay.state_dict()
    assert saved.keys() == restored.keys()
    for key, value in saved.items():
        np.testing.assert_array_equal(restored[key], value, err_msg=key)
    steps = int(loaded.learner.num_steps.numpy())
    loaded.learn(16)  # trains on at once from the restored replay
    assert int(loaded.learner.num_steps.numpy()) > steps

    off = MPO(small(checkpoint_replay=False)).learn(160)
    off.save(tmp_path / "off", include_replay=True)
    assert not (tmp_path / "off" / REPLAY_FILE).exists()
    resumed = MPO.load(tmp_path / "off")
    steps = int(resumed.learner.num_steps.numpy())
    resumed.learn(16)  # 16 new items < learning_starts: no gradient step yet
    assert len(resumed.replay) < 64 and int(resumed.learner.num_steps.numpy()) == steps
