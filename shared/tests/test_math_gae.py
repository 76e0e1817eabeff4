"""GAE, discounted and n-step returns against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rl_core.math.gae import discounted_returns, gae, n_step_returns

GAMMA, LAM = 0.9, 0.8  # gamma * lam = 0.72

# One shared 4-step rollout. next_values[t] = V(s_{t+1}); step 1 ends an episode
# (the tests mark it terminated or truncated), so next_values[1] = 5 is the value
# of that episode's final observation and values[2] = 3 belongs to a new episode.
REWARDS = np.array([1.0, 1.0, 1.0, 1.0], dtype=np.float32)
VALUES = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
NEXT_VALUES = np.array([2.0, 5.0, 4.0, 6.0], dtype=np.float32)
NONE = np.zeros(4, dtype=bool)
AT_1 = np.array([False, True, False, False])

# Deltas shared by both episode-end kinds (steps 0, 2, 3):
#   d0 = 1 + 0.9*2 - 1 = 1.8
#   d2 = 1 + 0.9*4 - 3 = 1.6
#   d3 = 1 + 0.9*6 - 4 = 2.4     (rollout end: bootstraps V(s_4) = 6)
#   A3 = 2.4;  A2 = 1.6 + 0.72*2.4 = 3.328
# Terminated at 1: d1 = 1 + 0 - 2 = -1;         A1 = -1;  A0 = 1.8 + 0.72*(-1) = 1.08
# Truncated at 1:  d1 = 1 + 0.9*5 - 2 = 3.5;    A1 = 3.5; A0 = 1.8 + 0.72*3.5 = 4.32
ADV_TERMINATED = [1.08, -1.0, 3.328, 2.4]
ADV_TRUNCATED = [4.32, 3.5, 3.328, 2.4]


def test_gae_termination_does_not_bootstrap() -> None:
    adv, ret = gae(REWARDS, VALUES, NEXT_VALUES, AT_1, NONE, GAMMA, LAM)
    np.testing.assert_allclose(adv, ADV_TERMINATED, rtol=1e-6)
    # returns = A + V = [2.08, 1.0, 6.328, 6.4]
    np.testing.assert_allclose(ret, [2.08, 1.0, 6.328, 6.4], rtol=1e-6)
    assert adv.dtype == np.float32 and ret.dtype == np.float32


def test_gae_truncation_bootstraps_from_final_observation() -> None:
    adv, ret = gae(REWARDS, VALUES, NEXT_VALUES, NONE, AT_1, GAMMA, LAM)
    np.testing.assert_allclose(adv, ADV_TRUNCATED, rtol=1e-6)
    np.testing.assert_allclose(ret, [5.32, 5.5, 6.328, 6.4], rtol=1e-6)


def test_gae_without_episode_end_runs_through_to_rollout_end() -> None:
    # d1 = 1 + 0.9*3 - 2 = 1.7 now (next state is s_2 with V = 3, as in a continuing episode)
    next_values = np.array([2.0, 3.0, 4.0, 6.0])
    adv, _ = gae(REWARDS, VALUES, next_values, NONE, NONE, GAMMA, LAM)
    # A3 = 2.4; A2 = 3.328; A1 = 1.7 + 0.72*3.328 = 4.09616; A0 = 1.8 + 0.72*4.09616 = 4.7492352
    np.testing.assert_allclose(adv, [4.7492352, 4.09616, 3.328, 2.4], rtol=1e-6)


def test_gae_terminated_and_truncated_together_counts_as_terminated() -> None:
    adv, _ = gae(REWARDS, VALUES, NEXT_VALUES, AT_1, AT_1, GAMMA, LAM)
    np.testing.assert_allclose(adv, ADV_TERMINATED, rtol=1e-6)


def test_gae_batched_over_envs_with_different_done_patterns() -> None:
    # env 0 terminates at t=1, env 1 is truncated at t=1, env 2 never ends;
    # each column must equal its single-env result above.
    stack = lambda *cols: np.stack(cols, axis=1)  # noqa: E731
    next_values_2 = np.array([2.0, 3.0, 4.0, 6.0])
    adv, ret = gae(
        stack(REWARDS, REWARDS, REWARDS),
        stack(VALUES, VALUES, VALUES),
        stack(NEXT_VALUES, NEXT_VALUES, next_values_2),
        stack(AT_1, NONE, NONE),
        stack(NONE, AT_1, NONE),
        GAMMA,
        LAM,
    )
    assert adv.shape == (4, 3)
    np.testing.assert_allclose(adv[:, 0], ADV_TERMINATED, rtol=1e-6)
    np.testing.assert_allclose(adv[:, 1], ADV_TRUNCATED, rtol=1e-6)
    np.testing.assert_allclose(adv[:, 2], [4.7492352, 4.09616, 3.328, 2.4], rtol=1e-6)
    np.testing.assert_allclose(ret, adv + stack(VALUES, VALUES, VALUES), rtol=1e-6)


def test_gae_lambda_limits() -> None:
    # lam = 0: A_t is the one-step TD error; lam = 1: returns are the discounted returns.
    adv0, _ = gae(REWARDS, VALUES, NEXT_VALUES, AT_1, NONE, GAMMA, 0.0)
    np.testing.assert_allclose(adv0, [1.8, -1.0, 1.6, 2.4], rtol=1e-6)
    _, ret1 = gae(REWARDS, VALUES, NEXT_VALUES, AT_1, NONE, GAMMA, 1.0)
    # G3 = 1 + 0.9*6 = 6.4; G2 = 1 + 0.9*6.4 = 6.76; G1 = 1; G0 = 1 + 0.9*1 = 1.9
    np.testing.assert_allclose(ret1, [1.9, 1.0, 6.76, 6.4], rtol=1e-6)


def test_discounted_returns_termination_and_truncation() -> None:
    # Terminated at 1: G3 = 1 + 0.9*6 = 6.4; G2 = 1 + 0.9*6.4 = 6.76; G1 = 1; G0 = 1.9
    terminated = discounted_returns(REWARDS, AT_1, NONE, NEXT_VALUES, GAMMA)
    np.testing.assert_allclose(terminated, [1.9, 1.0, 6.76, 6.4], rtol=1e-6)
    # Truncated at 1: G1 = 1 + 0.9*5 = 5.5; G0 = 1 + 0.9*5.5 = 5.95
    truncated = discounted_returns(REWARDS, NONE, AT_1, NEXT_VALUES, GAMMA)
    np.testing.assert_allclose(truncated, [5.95, 5.5, 6.76, 6.4], rtol=1e-6)
    assert truncated.dtype == np.float32


def test_discounted_returns_batched() -> None:
    out = discounted_returns(
        np.stack([REWARDS, REWARDS], 1),
        np.stack([AT_1, NONE], 1),
        np.stack([NONE, AT_1], 1),
        np.stack([NEXT_VALUES, NEXT_VALUES], 1),
        GAMMA,
    )
    np.testing.assert_allclose(out, [[1.9, 5.95], [1.0, 5.5], [6.76, 6.76], [6.4, 6.4]], rtol=1e-6)


def test_n_step_n1_is_one_step_td_target() -> None:
    # r + 0.9*(1 - term)*V(s_{t+1}) = [1 + 1.8, 1 + 0, 1 + 3.6, 1 + 5.4]
    out = n_step_returns(REWARDS, AT_1, NONE, NEXT_VALUES, GAMMA, 1)
    np.testing.assert_allclose(out, [2.8, 1.0, 4.6, 6.4], rtol=1e-6)
    _, gae_lam0_returns = gae(REWARDS, VALUES, NEXT_VALUES, AT_1, NONE, GAMMA, 0.0)
    np.testing.assert_allclose(out, gae_lam0_returns, rtol=1e-6)


def test_n_step_n3_with_termination_in_window() -> None:
    # G0 = 1 + 0.9*1 (terminated at 1: stop, no bootstrap)         = 1.9
    # G1 = 1                                                        = 1.0
    # G2 = 1 + 0.9*1 + 0.81*V(s_4) (array end after 2 steps)        = 1.9 + 4.86 = 6.76
    # G3 = 1 + 0.9*6                                                = 6.4
    out = n_step_returns(REWARDS, AT_1, NONE, NEXT_VALUES, GAMMA, 3)
    np.testing.assert_allclose(out, [1.9, 1.0, 6.76, 6.4], rtol=1e-6)


def test_n_step_n3_with_truncation_in_window() -> None:
    rewards = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    bootstrap = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]  # V(s_{t+1})
    truncated = [0, 0, 1, 0, 0, 0]
    # G0 = 1 + 0.9*2 + 0.81*3 + 0.729*V(s_3)=30 (full window)  = 5.23 + 21.87 = 27.1
    # G1 = 2 + 0.9*3 + 0.81*V(s_3)=30 (truncated at 2)          = 4.7 + 24.3 = 29.0
    # G2 = 3 + 0.9*30                                           = 30.0
    # G3 = 4 + 0.9*5 + 0.81*6 + 0.729*V(s_6)=60 (full window)   = 13.36 + 43.74 = 57.1
    # G4 = 5 + 0.9*6 + 0.81*60 (array end)                      = 59.0
    # G5 = 6 + 0.9*60                                           = 60.0
    out = n_step_returns(rewards, np.zeros(6), truncated, bootstrap, GAMMA, 3)
    np.testing.assert_allclose(out, [27.1, 29.0, 30.0, 57.1, 59.0, 60.0], rtol=1e-6)


def test_n_step_longer_than_rollout_equals_discounted_returns() -> None:
    expected = [1.9, 1.0, 6.76, 6.4]  # from test_discounted_returns_termination_and_truncation
    for n in (4, 10):
        out = n_step_returns(REWARDS, AT_1, NONE, NEXT_VALUES, GAMMA, n)
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    rng = np.random.default_rng(0)
    shape = (7, 3)
    args = (
        rng.normal(size=shape),
        rng.random(shape) < 0.2,
        rng.random(shape) < 0.2,
        rng.normal(size=shape),
    )
    np.testing.assert_allclose(
        n_step_returns(*args, 0.95, 50), discounted_returns(*args, 0.95), rtol=1e-5
    )


def test_n_step_batched_columns_match_single_env() -> None:
    out = n_step_returns(
        np.stack([REWARDS, REWARDS], 1),
        np.stack([AT_1, NONE], 1),
        np.stack([NONE, NONE], 1),
        np.stack([NEXT_VALUES, NEXT_VALUES], 1),
        GAMMA,
        2,
    )
    # n = 2, bootstrap V(s_{t+1}) = [2, 5, 4, 6]
    # env 0 (terminated at 1): G0 = 1 + 0.9*1 = 1.9; G1 = 1; G2 = 1 + 0.9*1 + 0.81*6 = 6.76;
    #   G3 = 1 + 0.9*6 = 6.4
    # env 1 (no end): G0 = 1 + 0.9*1 + 0.81*5 = 5.95; G1 = 1 + 0.9*1 + 0.81*4 = 5.14;
    #   G2 = 6.76; G3 = 6.4
    np.testing.assert_allclose(out[:, 0], [1.9, 1.0, 6.76, 6.4], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], [5.95, 5.14, 6.76, 6.4], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": -0.1}, "gamma"),
        ({"lam": 1.01}, "lam"),
        ({"lam": float("nan")}, "lam"),
        ({"values": np.zeros(3)}, "same shape"),
        ({"truncated": np.zeros((4, 2))}, "same shape"),
    ],
)
def test_gae_rejects_bad_input(kwargs: dict, match: str) -> None:
    args = {
        "rewards": REWARDS,
        "values": VALUES,
        "next_values": NEXT_VALUES,
        "terminated": NONE,
        "truncated": NONE,
        "gamma": GAMMA,
        "lam": LAM,
    }
    with pytest.raises(ValueError, match=match):
        gae(**{**args, **kwargs})


def test_returns_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="n must be a positive integer"):
        n_step_returns(REWARDS, NONE, NONE, NEXT_VALUES, GAMMA, 0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        n_step_returns(REWARDS, NONE, NONE, NEXT_VALUES, GAMMA, 2.5)
    with pytest.raises(ValueError, match="same shape"):
        n_step_returns(REWARDS, NONE, NONE, NEXT_VALUES[:3], GAMMA, 2)
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns(REWARDS, NONE, NONE, NEXT_VALUES, 1.1)
    with pytest.raises(ValueError, match="scalar"):
        discounted_returns(1.0, False, False, 2.0, 0.9)
