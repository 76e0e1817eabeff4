"""EpisodeStats: episodes from vector steps, and episodes handed over from elsewhere."""

from __future__ import annotations

import numpy as np

from rl_core.episode_stats import EpisodeStats


def test_new_episodes_round_trip_through_record():
    actor = EpisodeStats(2)
    actor.update(np.array([1.0, 2.0]), np.array([False, True]), successes=np.array([0, 1]))
    before = actor.episodes
    actor.update(np.array([3.0, 4.0]), np.array([True, True]), successes=np.array([1, 0]))
    new = actor.new_episodes(since=before)
    np.testing.assert_array_equal(new["returns"], [4.0, 4.0])  # 1 + 3, then 4
    np.testing.assert_array_equal(new["lengths"], [2, 1])
    np.testing.assert_array_equal(new["successes"], [1.0, 0.0])
    learner = EpisodeStats(1)
    learner.record(**new)
    assert learner.episodes == 2
    assert learner.summary()["charts/episodic_return"] == 4.0
    assert learner.summary()["charts/success_rate"] == 0.5


def test_new_episodes_without_success_reports():
    actor = EpisodeStats(1)
    actor.update(np.array([1.0]), np.array([True]))
    assert actor.new_episodes(since=0)["successes"] is None
