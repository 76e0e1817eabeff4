"""The n-step writer: windows cut at episode ends, held back until complete, true s_{t+m}."""

from __future__ import annotations

import numpy as np
import pytest
from rl_mpo.buffer import NStepWriter


def writer(n=3, gamma=0.5, capacity=8) -> NStepWriter:
    return NStepWriter(1, n, gamma, 1, (), np.dtype(np.int64), capacity)


def add(w, t, term=False, trunc=False):
    # obs = t, action = t, reward = t + 1, true next obs = 100 + t (so s_{t+m} is traceable).
    w.add([[t]], [t], [t + 1.0], [term], [trunc], [[100.0 + t]])


def test_windows_by_hand():
    # 5 steps, n = 3, gamma = 0.5; episode 1 is truncated at t = 2, episode 2 terminates at 4.
    w = writer()
    for t in range(5):
        add(w, t, term=t == 4, trunc=t == 2)
    out = w.flush()
    # t=0: 1 + 0.5*2 + 0.25*3 = 2.75, d = 0.5^3 = 0.125, s' = final obs of step 2 (102)
    # t=1: 2 + 0.5*3 = 3.5, d = 0.25, s' = 102 (window cut by the truncation)
    # t=2: 3, d = 0.5, s' = 102
    # t=3: 4 + 0.5*5 = 6.5, d = 0.25 * (1 - term) = 0, s' = 104
    # t=4: 5, d = 0
    np.testing.assert_array_equal(out["obs"][:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(out["actions"], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(out["rewards"], [2.75, 3.5, 3.0, 6.5, 5.0])
    np.testing.assert_allclose(out["discounts"], [0.125, 0.25, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(out["next_obs"][:, 0], [102, 102, 102, 104, 104])


def test_open_windows_wait_for_later_steps():
    w = writer()
    for t in range(4):
        add(w, t)
    first = w.flush()
    # Only t = 0, 1 have full windows (0..2, 1..3); t = 2, 3 wait.
    np.testing.assert_array_equal(first["obs"][:, 0], [0, 1])
    np.testing.assert_allclose(first["rewards"], [2.75, 2 + 1.5 + 0.25 * 4])
    np.testing.assert_array_equal(first["next_obs"][:, 0], [102, 103])
    add(w, 4)
    second = w.flush()
    # t = 2: 3 + 0.5*4 + 0.25*5 = 6.25 to s' = 104; t = 3 still waits.
    np.testing.assert_array_equal(second["obs"][:, 0], [2])
    np.testing.assert_allclose(second["rewards"], [6.25])
    np.testing.assert_array_equal(second["next_obs"][:, 0], [104])


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_flushing_in_chunks_gives_the_same_transitions(chunk):
    rng = np.random.default_rng(0)
    ends = rng.random(40) < 0.15
    terms = ends & (rng.random(40) < 0.5)

    def run(every):
        w = writer(n=4, gamma=0.9, capacity=every)
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
    w.add([[0], [10]], [0, 0], [1.0, 2.0], [True, False], [False, False], [[50], [60]])
    w.add([[1], [11]], [0, 0], [3.0, 4.0], [False, False], [False, False], [[51], [61]])
    out = w.flush()
    # env 0, t=0: 1, d=0; env 1, t=0: 2 + 0.5*4 = 4, d=0.25, s'=61; env 0, t=1 waits.
    got = sorted(
        zip(out["obs"][:, 0], out["rewards"], out["discounts"], out["next_obs"][:, 0], strict=True)
    )
    assert got == [(0.0, 1.0, 0.0, 50.0), (10.0, 4.0, 0.25, 61.0)]
