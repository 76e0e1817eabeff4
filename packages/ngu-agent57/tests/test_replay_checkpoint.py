"""NGU/Agent57 checkpoints carry the prioritized sequence replay; policies do not."""

from __future__ import annotations

import numpy as np
import pytest
from rl_ngu_agent57 import NGU, NGUConfig

from rl_core.config import apply_overrides
from rl_core.replay import REPLAY_FILE


def small(**overrides) -> NGUConfig:
    base = {"env_kwargs": {"size": 4}, "device": "cpu", "learning_starts": 4, "batch_size": 4}
    return apply_overrides(NGUConfig(), {**base, "replay_capacity": 8, **overrides})


def test_checkpoint_round_trip_of_sequences_and_priorities(tmp_path):
    agent = NGU(small()).learn(200)
    assert agent.replay.is_full and agent.learner.steps > 0  # wrapped, priorities updated
    agent.save(tmp_path / "policy")
    assert not (tmp_path / "policy" / REPLAY_FILE).exists()
    agent.save(tmp_path / "ckpt", include_replay=True)
    loaded = NGU.load(tmp_path / "ckpt")
    saved, restored = agent.replay.state_dict(), loaded.replay.state_dict()
    assert saved.keys() == restored.keys()
    for key, value in saved.items():
        np.testing.assert_array_equal(restored[key], value, err_msg=key)
    np.testing.assert_array_equal(loaded.replay._tree._sum, agent.replay._tree._sum)
    draws = [a.replay.sample(6, np.random.default_rng(0)) for a in (agent, loaded)]
    for key in draws[0]:
        np.testing.assert_array_equal(draws[0][key], draws[1][key], err_msg=key)


@pytest.mark.parametrize("replay", [True, False])
def test_resume_without_replay_waits_for_learning_starts_sequences(tmp_path, replay):
    agent = NGU(small(checkpoint_replay=replay, learning_starts=6)).learn(200)
    agent.save(tmp_path / "ckpt", include_replay=True)
    assert (tmp_path / "ckpt" / REPLAY_FILE).exists() == replay
    loaded = NGU.load(tmp_path / "ckpt")
    steps = loaded.learner.steps
    loaded.learn(4)
    assert (loaded.learner.steps > steps) == replay
