"""The sequence adder, the action wrapper, config validation and space checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from rl_ngu_agent57 import Agent57Config, NGUConfig
from rl_ngu_agent57.buffer import SequenceAdder
from rl_ngu_agent57.wrappers import DiscretizeActions, action_grid

from rl_core.config import apply_overrides
from rl_core.errors import ConfigError


def _step(adder: SequenceAdder, t: int, slots: int = 1) -> None:
    """Add step t (obs = t) for every slot, with recurrent state t."""
    n = slots
    adder.add(
        np.full((n, 1, 2, 1), float(t), np.float32),
        obs=np.full((n, 1), float(t), np.float32),
        action=np.zeros(n, np.int32),
        prev_action=np.zeros(n, np.int32),
        prev_re=np.zeros(n, np.float32),
        prev_ri=np.zeros(n, np.float32),
        re=np.full(n, float(t), np.float32),
        ri=np.zeros(n, np.float32),
        term=np.zeros(n, np.float32),
        first=np.full(n, 1.0 if t == 0 else 0.0, np.float32),
        mu=np.ones(n, np.float32),
    )


def test_sequences_overlap_and_start_from_the_stored_state():
    # burn_in 2 + unroll 4 = length 6, period 2. A new episode starts with 2 padding rows.
    adder = SequenceAdder(1, 1, burn_in=2, unroll_length=4, period=2, state_shape=(1, 2, 1))
    adder.start_episodes(np.array([0]), np.array([3]))
    for t in range(6):
        _step(adder, t)
    seqs = adder.pop()
    # First window: [pad, pad, 0, 1, 2, 3] emitted when full; then shifted by 2.
    np.testing.assert_array_equal(seqs["obs"][0, :, 0], [0, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(seqs["valid"][0], [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(seqs["first"][0], [0, 0, 1, 0, 0, 0])
    # Second window [0..5] overlaps the first by 4 steps and starts from the state of step 0.
    np.testing.assert_array_equal(seqs["obs"][1, :, 0], [0, 1, 2, 3, 4, 5])
    assert seqs["state"][1].ravel()[0] == 0.0
    assert list(seqs["policy"]) == [3, 3]
    _step(adder, 6)
    _step(adder, 7)
    seqs = adder.pop()
    np.testing.assert_array_equal(seqs["obs"][0, :, 0], [2, 3, 4, 5, 6, 7])
    assert seqs["state"][0].ravel()[0] == 2.0  # stored state of the sequence's first step


def test_episode_end_pads_and_masks_and_never_crosses_into_the_next_episode():
    adder = SequenceAdder(2, 1, burn_in=1, unroll_length=4, period=2, state_shape=(1, 2, 1))
    adder.start_episodes(np.array([0, 1]), np.array([0, 1]))
    for t in range(2):
        _step(adder, t, slots=2)
    # slot 1's episode ends after 2 steps with final observation 99
    # (last action 1, its rewards 0.5 and 7: the inputs Q is conditioned on at the final obs)
    adder.end_episodes(
        np.array([1]), np.array([[99.0]]), np.array([1]), np.array([0.5]), np.array([7.0])
    )
    seqs = adder.pop()
    assert len(seqs["obs"]) == 1
    np.testing.assert_array_equal(seqs["obs"][0, :, 0], [0, 0, 1, 99, 0])
    np.testing.assert_array_equal(seqs["valid"][0], [0, 1, 1, 0, 0])  # final obs: no action
    np.testing.assert_array_equal(seqs["prev_action"][0], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(seqs["prev_re"][0], [0, 0, 0, 0.5, 0])
    np.testing.assert_array_equal(seqs["prev_ri"][0], [0, 0, 0, 7.0, 0])
    adder.start_episodes(np.array([1]), np.array([5]))
    for t in range(2, 6):
        _step(adder, t, slots=2)
    seqs = adder.pop()
    # slot 0 (full window) and slot 1 (its new episode, starting with padding + first)
    by_policy = {int(p): i for i, p in enumerate(seqs["policy"])}
    new = seqs["obs"][by_policy[5], :, 0]
    np.testing.assert_array_equal(new, [0, 2, 3, 4, 5])
    np.testing.assert_array_equal(seqs["valid"][by_policy[5]], [0, 1, 1, 1, 1])
    assert 99.0 not in new


def test_action_grid_and_wrapper():
    env = DiscretizeActions(gym.make("Pendulum-v1"), 5)
    assert env.action_space.n == 5
    np.testing.assert_allclose(env.grid[:, 0], [-2.0, -1.0, 0.0, 1.0, 2.0])
    box = gym.spaces.Box(np.array([-1.0, 0.0], np.float32), np.array([1.0, 1.0], np.float32))
    grid = action_grid(box, 3)
    assert grid.shape == (9, 2)
    np.testing.assert_allclose(grid[5], [0.0, 1.0])  # row-major product: (x index 1, y index 2)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"num_policies": 0}, "num_policies must be >= 1"),
        ({"sequence_period": 50}, "sequence_period must be in"),
        ({"sequence_period": 10, "unroll_length": 10}, "would never be trained"),
        ({"q_target": "td"}, "q_target must be"),
        ({"grad_clip": "none"}, "grad_clip must be"),
        ({"target_epsilon": 1.5}, "target_epsilon must be in"),
        ({"priority_eta": 2.0}, "priority_eta must be in"),
        ({"max_reward_scale": 0.5}, "max_reward_scale must be >= 1"),
        ({"gamma_min": 0.999}, "gamma_min <= gamma_max"),
        ({"action_bins": 1}, "action_bins must be 0 or >= 2"),
    ],
)
def test_ngu_config_validation(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(NGUConfig(), override)


def test_agent57_config_validation():
    with pytest.raises(ConfigError, match="retrace_lambda"):
        apply_overrides(Agent57Config(), {"retrace_lambda": 1.5})


def test_unsupported_spaces_are_clear_errors():
    from rl_ngu_agent57 import NGU

    with pytest.raises(ConfigError, match="set action_bins"):
        NGU(NGUConfig(env="Pendulum-v1", env_kwargs={}, device="cpu"))
    # Unsupported observation spaces: tests/test_observations.py.


def test_discretized_pendulum_trains_and_predicts_raw_actions():
    from rl_ngu_agent57 import NGU

    config = apply_overrides(
        NGUConfig(),
        {"env": "Pendulum-v1", "env_kwargs": {}, "action_bins": 5, "device": "cpu",
         "num_envs": 2, "learning_starts": 2, "batch_size": 2},
    )  # fmt: skip
    agent = NGU(config).learn(80)
    assert agent.learner.steps > 0
    actions = agent.predict(np.zeros((3, 3), np.float32))
    assert actions.shape == (3, 1) and np.all(np.isin(actions, [-2.0, -1.0, 0.0, 1.0, 2.0]))


def test_intrinsic_reward_input_is_scaled():
    from rl_ngu_agent57.networks import RecurrentQNetwork

    def network(scale):
        rng = np.random.default_rng(0)
        return RecurrentQNetwork(4, 2, 3, (8,), 8, rng, "q", intrinsic_input_scale=scale)

    scaled, plain = network(0.03), network(1.0)
    obs = np.ones((2, 4), np.float32)
    args = (np.array([0, 2]), np.array([1, 0]), np.zeros(2, np.float32))
    state = (np.zeros((2, 8), np.float32),) * 2
    ri = np.array([30.0, 150.0], np.float32)
    q_scaled = scaled.step(obs, *args, ri, *state)[0]
    np.testing.assert_allclose(q_scaled, plain.step(obs, *args, 0.03 * ri, *state)[0], rtol=1e-6)
    assert not np.allclose(q_scaled, plain.step(obs, *args, ri, *state)[0])


def _novelty_trained_steps(burn_in, unroll, period, episode_length, last_steps):
    """The steps of one episode (``episode_length`` actions, then the final observation
    numbered ``episode_length``) that the novelty networks train on, over every sequence
    the adder emits for it."""
    import tensorflow as tf
    from rl_ngu_agent57.learning import novelty_masks

    adder = SequenceAdder(1, 1, burn_in, unroll, period, (2,))
    adder.start_episodes(np.array([0]), np.array([0]))
    zero = np.zeros(1, np.float32)
    for t in range(episode_length):
        adder.add(
            np.zeros((1, 2), np.float32), obs=np.array([[t]], np.float32), action=np.zeros(1),
            prev_action=np.zeros(1), prev_re=zero, prev_ri=zero, re=zero, ri=zero, term=zero,
            first=zero, mu=np.ones(1, np.float32),
        )  # fmt: skip
    adder.end_episodes(np.array([0]), np.array([[episode_length]], np.float32), *[zero] * 3)
    sequences = adder.pop()
    observed, _ = novelty_masks(tf.constant(sequences["valid"].T), last_steps)
    steps = sequences["obs"][..., 0].T  # time-major, like the learner's batch
    trained = steps.ravel()[observed.numpy().ravel() > 0]
    return sorted({int(s) for s in trained})


def test_the_last_steps_rule_never_trains_novelty_on_an_episodes_first_steps():
    # The deepsea preset's 2 + 10-step sequences every 5 steps on a 20-step DeepSea episode:
    # training on the last 5 steps of each sequence leaves steps 0-4 (the top rows) out, as
    # the preset's comment says; 0 (every step) covers the episode and its final observation.
    assert _novelty_trained_steps(2, 10, 5, 20, last_steps=5) == list(range(5, 21))
    assert _novelty_trained_steps(2, 10, 5, 20, last_steps=0) == list(range(0, 21))
