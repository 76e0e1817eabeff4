"""The writers: windows cut at episode ends, held back until complete, true s_{t+m};
n-step transitions and Retrace sequences with padding."""

from __future__ import annotations

import numpy as np
import pytest
from rl_mpo.buffer import NStepWriter, SequenceWriter


def writer(n=3, gamma=0.5, capacity=8) -> NStepWriter:
    return NStepWriter(1, n, gamma, 1, (), np.dtype(np.int64), capacity)


def add(w, t, term=False, trunc=False):
    # obs = t, action = t, log mu = -t, reward = t + 1, true next obs = 100 + t (so s_{t+m}
    # is traceable).
    w.add([[t]], [t], [-t], [t + 1.0], [term], [trunc], [[100.0 + t]])


def transitions(out):
    """n-step items (sequences of one transition) as flat (s, a, R, d, s') columns."""
    assert out["obs"].shape[1:] == (2, 1) and np.all(out["mask"] == 1)
    return {
        "obs": out["obs"][:, 0, 0],
        "actions": out["actions"][:, 0],
        "rewards": out["rewards"][:, 0],
        "discounts": out["discounts"][:, 0],
        "next_obs": out["obs"][:, 1, 0],
    }


def test_windows_by_hand():
    # 5 steps, n = 3, gamma = 0.5; episode 1 is truncated at t = 2, episode 2 terminates at 4.
    w = writer()
    for t in range(5):
        add(w, t, term=t == 4, trunc=t == 2)
    out = transitions(w.flush())
    # t=0: 1 + 0.5*2 + 0.25*3 = 2.75, d = 0.5^3 = 0.125, s' = final obs of step 2 (102)
    # t=1: 2 + 0.5*3 = 3.5, d = 0.25, s' = 102 (window cut by the truncation)
    # t=2: 3, d = 0.5, s' = 102
    # t=3: 4 + 0.5*5 = 6.5, d = 0.25 * (1 - term) = 0, s' = 104
    # t=4: 5, d = 0
    np.testing.assert_array_equal(out["obs"], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(out["actions"], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(out["rewards"], [2.75, 3.5, 3.0, 6.5, 5.0])
    np.testing.assert_allclose(out["discounts"], [0.125, 0.25, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(out["next_obs"], [102, 102, 102, 104, 104])


def test_open_windows_wait_for_later_steps():
    w = writer()
    for t in range(4):
        add(w, t)
    first = transitions(w.flush())
    # Only t = 0, 1 have full windows (0..2, 1..3); t = 2, 3 wait.
    np.testing.assert_array_equal(first["obs"], [0, 1])
    np.testing.assert_allclose(first["rewards"], [2.75, 2 + 1.5 + 0.25 * 4])
    np.testing.assert_array_equal(first["next_obs"], [102, 103])
    add(w, 4)
    second = transitions(w.flush())
    # t = 2: 3 + 0.5*4 + 0.25*5 = 6.25 to s' = 104; t = 3 still waits.
    np.testing.assert_array_equal(second["obs"], [2])
    np.testing.assert_allclose(second["rewards"], [6.25])
    np.testing.assert_array_equal(second["next_obs"], [104])


@pytest.mark.parametrize("kind", [NStepWriter, SequenceWriter])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_flushing_in_chunks_gives_the_same_items(kind, chunk):
    rng = np.random.default_rng(0)
    ends = rng.random(40) < 0.15
    terms = ends & (rng.random(40) < 0.5)

    def run(every):
        w = kind(1, 4, 0.9, 1, (), np.dtype(np.int64), every)
        parts = []
        for t in range(40):
            add(w, t, term=bool(terms[t]), trunc=bool(ends[t] and not terms[t]))
            if (t + 1) % every == 0:
                parts.append(w.flush())
        parts.append(w.flush())
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    whole, chunked = run(40), run(chunk)
    for key in whole:
        np.testing.assert_allclose(chunked[key], whole[key], err_msg=key)


def test_vector_envs_are_independent():
    w = NStepWriter(2, 2, 0.5, 1, (), np.dtype(np.int64), 4)
    # env 0 terminates at t = 0; env 1 runs on.
    zero = [0.0, 0.0]
    w.add([[0], [10]], [0, 0], zero, [1.0, 2.0], [True, False], [False, False], [[50], [60]])
    w.add([[1], [11]], [0, 0], zero, [3.0, 4.0], [False, False], [False, False], [[51], [61]])
    out = transitions(w.flush())
    # env 0, t=0: 1, d=0; env 1, t=0: 2 + 0.5*4 = 4, d=0.25, s'=61; env 0, t=1 waits.
    got = sorted(zip(out["obs"], out["rewards"], out["discounts"], out["next_obs"], strict=True))
    assert got == [(0.0, 1.0, 0.0, 50.0), (10.0, 4.0, 0.25, 61.0)]


def test_retrace_sequences_by_hand():
    # The 5 steps of test_windows_by_hand (truncated at t = 2, terminated at t = 4), n = 3,
    # gamma = 0.5, as raw sequences x_0 a_0 .. x_3: steps past an episode end are padding
    # (mask 0, r = d = 0) whose states repeat the final observation.
    w = SequenceWriter(1, 3, 0.5, 1, (), np.dtype(np.int64), 8)
    for t in range(5):
        add(w, t, term=t == 4, trunc=t == 2)
    out = w.flush()
    assert w.fields()["obs"][0] == (4, 1)
    np.testing.assert_array_equal(
        out["obs"][..., 0],
        [
            [0, 1, 2, 102],  # t=0: full window, x_3 = final obs of the truncated step 2
            [1, 2, 102, 102],  # t=1: 2 steps, then padding
            [2, 102, 102, 102],
            [3, 4, 104, 104],  # t=3: 3, 4 (terminated), padding
            [4, 104, 104, 104],
        ],
    )
    np.testing.assert_array_equal(
        out["mask"], [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_allclose(
        out["rewards"], [[1, 2, 3], [2, 3, 0], [3, 0, 0], [4, 5, 0], [5, 0, 0]]
    )
    # d = gamma (1 - term) on valid steps: a truncation (t = 2) bootstraps, t = 4 does not.
    np.testing.assert_allclose(
        out["discounts"],
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0], [0.5, 0, 0], [0, 0, 0]],
    )
    # Behaviour log-probabilities travel with their actions (padding repeats the last one).
    np.testing.assert_array_equal(out["actions"][:2], [[0, 1, 2], [1, 2, 2]])
    np.testing.assert_array_equal(out["log_probs"][:2], [[0, -1, -2], [-1, -2, -2]])
