from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import rl_her
import tensorflow as tf
from rl_her import HER, HERConfig, HindsightReplayBuffer
from rl_her.learning import dqn_target, huber_loss, soft_update
from rl_her.networks import Actor, QNetwork, actor_numpy, dueling_combine, q_numpy

from rl_core.agent import AGENT_FILE
from rl_core.callbacks import Callback
from rl_core.config import apply_overrides
from rl_core.envs import BitFlippingEnv
from rl_core.errors import ConfigError, RunDirectoryError
from rl_core.evaluation import evaluate_policy

# ----------------------------------------------------------------------------- formulas


def test_huber_loss_matches_hand_computation():
    x = tf.constant([0.5, -2.0, 3.0])
    # delta 1: 0.5 * 0.25 = 0.125; |-2| > 1: 1 * (2 - 0.5) = 1.5; 3 -> 2.5
    np.testing.assert_allclose(huber_loss(x).numpy(), [0.125, 1.5, 2.5])
    # delta 2: 0.125; 0.5 * 4 = 2.0 (|x| <= delta is quadratic); 2 * (3 - 1) = 4
    np.testing.assert_allclose(huber_loss(x, 2.0).numpy(), [0.125, 2.0, 4.0])


def test_double_dqn_target_lets_the_online_net_choose_and_the_target_net_value():
    online = tf.constant([[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]])
    target = tf.constant([[10.0, 4.0, 20.0], [1.0, 7.0, 2.0]])
    rewards, discounts = tf.constant([-1.0, 0.0]), tf.constant([0.5, 0.0])
    # Double: a* = (1, 2) from the online net; Q'(s', a*) = (4, 2)
    #   y = (-1 + 0.5 * 4, 0 + 0 * 2) = (1, 0)
    np.testing.assert_allclose(dqn_target(online, target, rewards, discounts, True), [1.0, 0.0])
    # DQN: max_a Q'(s', a) = (20, 7): y = (-1 + 0.5 * 20, 0) = (9, 0)
    np.testing.assert_allclose(dqn_target(online, target, rewards, discounts, False), [9.0, 0.0])


def test_soft_and_hard_target_updates():
    target, online = [tf.Variable([0.0, 10.0])], [tf.Variable([1.0, 20.0])]
    soft_update(target, online, 0.1)  # 0.1 * (1, 20) + 0.9 * (0, 10) = (0.1, 11)
    np.testing.assert_allclose(target[0].numpy(), [0.1, 11.0])
    soft_update(target, online, 1.0)
    np.testing.assert_allclose(target[0].numpy(), [1.0, 20.0])


def test_dueling_combination():
    # V = 2, A = (1, 3, 5), mean A = 3: Q = 2 + A - 3 = (0, 2, 4)
    q = dueling_combine(np.array([[2.0]]), np.array([[1.0, 3.0, 5.0]]))
    np.testing.assert_allclose(q, [[0.0, 2.0, 4.0]])


@pytest.mark.parametrize("dueling", [False, True])
def test_numpy_acting_path_matches_tensorflow(dueling):
    net = QNetwork(6, 4, (16, 8), dueling, seed=0, name="q")
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    np.testing.assert_allclose(q_numpy(net.mlp.numpy_weights(), x, dueling), net(x), atol=1e-5)
    actor = Actor(6, 2, (16,), seed=0, name="actor")
    np.testing.assert_allclose(actor_numpy(actor.mlp.numpy_weights(), x), actor(x), atol=1e-5)


# ----------------------------------------------------------------------------- buffer


def bit_buffer(n_bits=3, num_envs=1, capacity=100, **kwargs) -> HindsightReplayBuffer:
    env = BitFlippingEnv(n_bits)
    return HindsightReplayBuffer(
        capacity,
        num_envs,
        n_bits,
        n_bits,
        (),
        np.int64,
        env.compute_reward,
        env.compute_terminated,
        **kwargs,
    )


def add_episode(buf, states, goal, terminated_last=False, env_count=1):
    """states[0] -> states[1] -> ... (one transition each); goal fixed; all envs alike."""
    goal = np.tile(np.asarray(goal, np.float32), (env_count, 1))
    for t in range(len(states) - 1):
        s, s2 = (np.tile(np.asarray(x, np.float32), (env_count, 1)) for x in states[t : t + 2])
        last = t == len(states) - 2
        buf.add(
            s,
            goal,
            np.full(env_count, t),
            s2,
            s2,
            np.full(env_count, last and terminated_last),
            np.full(env_count, last),
        )


EPISODE = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]]  # three flips, goal never reached
GOAL = [0, 1, 1]


def test_running_episodes_are_not_sampled_and_finished_ones_are():
    buf = bit_buffer()
    buf.add(*(np.zeros((1, 3), np.float32),) * 2, np.zeros(1, np.int64), *(np.ones((1, 3)),) * 2,
            np.zeros(1, bool), np.zeros(1, bool))  # fmt: skip
    assert len(buf) == 0
    with pytest.raises(ValueError, match="no finished episode"):
        buf.sample(4, np.random.default_rng(0))
    buf = bit_buffer()
    add_episode(buf, EPISODE, GOAL)
    assert len(buf) == 3
    np.testing.assert_array_equal(buf.ep_length[:4, 0], [3, 3, 3, 0])


def test_none_keeps_goals_and_recomputes_the_real_reward():
    buf = bit_buffer(strategy="none")
    add_episode(buf, EPISODE, GOAL)
    batch = buf.sample(64, np.random.default_rng(0))
    assert not batch["relabeled"].any()
    np.testing.assert_array_equal(batch["goal"], np.tile(GOAL, (64, 1)))
    np.testing.assert_array_equal(batch["reward"], -1.0)  # goal (0,1,1) is never reached
    np.testing.assert_allclose(batch["discount"], 0.98)  # last step truncated: bootstrap


def test_a_scalar_compute_terminated_answers_for_the_whole_batch():
    # gymnasium-robotics' Fetch tasks return one scalar False from compute_terminated.
    env = BitFlippingEnv(3)
    buf = HindsightReplayBuffer(
        100, 1, 3, 3, (), np.int64, env.compute_reward, lambda a, d, info: False, n_step=2
    )
    add_episode(buf, EPISODE, GOAL)
    batch = buf.sample(64, np.random.default_rng(0))
    reached = batch["reward"] > -1.5  # some relabeled goal reached within the window
    assert reached.any()
    assert np.all(batch["discount"] > 0)  # nothing terminal: every sample bootstraps


def test_final_strategy_relabels_with_the_last_achieved_goal():
    buf = bit_buffer(strategy="final", n_sampled_goal=4)
    add_episode(buf, EPISODE, GOAL)
    batch = buf.sample(4000, np.random.default_rng(0))
    rel = batch["relabeled"]
    assert abs(rel.mean() - 0.8) < 0.03  # k / (k + 1) = 4 / 5
    np.testing.assert_array_equal(batch["goal"][rel], np.tile([1, 1, 1], (rel.sum(), 1)))
    # The last transition (action 2) reaches the final goal: reward 0 and terminal.
    last = rel & (batch["action"] == 2)
    assert last.any()
    np.testing.assert_array_equal(batch["reward"][last], 0.0)
    np.testing.assert_array_equal(batch["discount"][last], 0.0)
    earlier = rel & (batch["action"] < 2)
    np.testing.assert_array_equal(batch["reward"][earlier], -1.0)


def test_future_goals_come_from_the_same_step_or_later():
    buf = bit_buffer(strategy="future", n_sampled_goal=1_000_000)
    add_episode(buf, EPISODE, GOAL)
    batch = buf.sample(3000, np.random.default_rng(1))
    achieved_after = {t: {tuple(s) for s in EPISODE[t + 1 :]} for t in range(3)}
    seen = {t: set() for t in range(3)}
    for t, g in zip(batch["action"], batch["goal"], strict=True):
        assert tuple(g) in achieved_after[int(t)]
        seen[int(t)].add(tuple(g))
    assert seen == achieved_after  # every later achieved goal is drawn
    # The future goal achieved by this very step gives reward 0.
    at_next = np.all(batch["goal"] == batch["next_observation"], axis=1)
    np.testing.assert_array_equal(batch["reward"][at_next], 0.0)


def test_episode_and_random_goals():
    buf = bit_buffer(strategy="episode", n_sampled_goal=1_000_000)
    add_episode(buf, EPISODE, GOAL)
    goals = {tuple(g) for g in buf.sample(2000, np.random.default_rng(2))["goal"]}
    assert goals == {tuple(s) for s in EPISODE[1:]}  # also goals achieved before the step
    buf = bit_buffer(strategy="random", n_sampled_goal=1_000_000)
    add_episode(buf, EPISODE, GOAL)
    other = [[0, 1, 1], [0, 1, 0], [0, 0, 0]]
    add_episode(buf, other, GOAL)
    batch = buf.sample(2000, np.random.default_rng(3))
    goals = {tuple(g) for g in batch["goal"]}
    assert goals == {tuple(s) for s in EPISODE[1:] + other[1:]}  # from any episode


def test_n_step_return_with_the_real_goal_reached_mid_episode():
    # gamma 0.5, n 2, goal (1,1,0) = the state after step 1 (of steps 0, 1, 2).
    buf = bit_buffer(strategy="none", gamma=0.5, n_step=2)
    add_episode(buf, EPISODE, [1, 1, 0])
    by_t = {}
    batch = buf.sample(200, np.random.default_rng(0))
    for i, t in enumerate(batch["action"]):
        by_t[int(t)] = (batch["reward"][i], batch["discount"][i], batch["next_observation"][i])
    # t=0: r0 = -1, then step 1 reaches the goal (r1 = 0, terminal) -> -1 + 0.5 * 0 = -1,
    #      window of 2 steps ending terminal: discount 0, bootstrap state s_2.
    r, d, s = by_t[0]
    assert (r, d) == (-1.0, 0.0)
    np.testing.assert_array_equal(s, [1, 1, 0])
    # t=1: reaches the goal at once: r = 0, terminal after one step.
    assert by_t[1][:2] == (0.0, 0.0)
    # t=2: the last step of the episode (truncated, goal left): r = -1, one step, gamma^1.
    assert by_t[2][:2] == (-1.0, 0.5)
    np.testing.assert_array_equal(by_t[2][2], [1, 1, 1])


def test_n_step_return_over_the_relabeled_window():
    # Every sample relabeled with the final achieved goal g' = s_3 = (1,1,1); the real goal
    # (0,1,1) is never reached, so with it every reward would be -1. gamma 0.5, n 2.
    buf = bit_buffer(strategy="final", n_sampled_goal=1_000_000, gamma=0.5, n_step=2)
    add_episode(buf, EPISODE, GOAL)
    batch = buf.sample(300, np.random.default_rng(0))
    assert batch["relabeled"].all()
    np.testing.assert_array_equal(batch["goal"], np.ones((300, 3)))
    by_t = {}
    for i, t in enumerate(batch["action"]):
        by_t[int(t)] = (batch["reward"][i], batch["discount"][i], batch["next_observation"][i])
    assert set(by_t) == {0, 1, 2}
    # t=0: r0(g') = -1 (s_1 != g'), r1(g') = -1 (s_2 != g'): R = -1 - 0.5 = -1.5, no
    #      terminal in the window: discount 0.5^2, bootstrap from s_2.
    r, d, s = by_t[0]
    assert (r, d) == (-1.5, 0.25)
    np.testing.assert_array_equal(s, [1, 1, 0])
    # t=1: r1(g') = -1, then s_3 = g': r2 = 0 and terminal for g': R = -1, discount 0.
    r, d, s = by_t[1]
    assert (r, d) == (-1.0, 0.0)
    np.testing.assert_array_equal(s, [1, 1, 1])
    # t=2: reaches g' at once: R = 0, terminal.
    assert by_t[2][:2] == (0.0, 0.0)


def test_n_step_window_stops_at_the_episode_end_with_truncation_bootstrap():
    buf = bit_buffer(strategy="none", gamma=0.5, n_step=3)
    add_episode(buf, EPISODE, GOAL)
    add_episode(buf, [[1, 1, 1], [0, 1, 1]], GOAL, terminated_last=True)  # reaches GOAL
    batch = buf.sample(500, np.random.default_rng(0))
    first = batch["action"] == 0
    first_ep = first & (batch["observation"][:, 0] == 0)
    # t=0 of episode 1: -1 - 0.5 - 0.25 = -1.75, bootstrap from s_3 with 0.5^3 (truncation)
    np.testing.assert_allclose(batch["reward"][first_ep], -1.75)
    np.testing.assert_allclose(batch["discount"][first_ep], 0.125)
    # Episode 2 (one step that terminates): reward 0, no bootstrap, nothing from episode 1.
    second = first & (batch["observation"][:, 0] == 1)
    np.testing.assert_array_equal(batch["reward"][second], 0.0)
    np.testing.assert_array_equal(batch["discount"][second], 0.0)


def test_a_true_terminal_stays_terminal_for_relabeled_goals_without_compute_terminated():
    env = BitFlippingEnv(3)
    buf = HindsightReplayBuffer(
        100, 1, 3, 3, (), np.int64, env.compute_reward, None, "episode", 1_000_000, 0.5
    )
    add_episode(buf, EPISODE, GOAL, terminated_last=True)  # the env says s_3 is terminal
    batch = buf.sample(300, np.random.default_rng(0))
    last = batch["action"] == 2
    assert last.any() and batch["relabeled"][last].all()
    # Relabeled or not, the last transition must not bootstrap from the terminal s_3.
    np.testing.assert_array_equal(batch["discount"][last], 0.0)
    np.testing.assert_allclose(batch["discount"][~last], 0.5)


def test_a_failure_termination_stays_terminal_for_relabeled_goals():
    buf = bit_buffer(strategy="episode", n_sampled_goal=1_000_000, gamma=0.5)
    # The episode ends terminated at s_3 = (1,1,1), which is not its goal (0,1,1): a
    # failure, terminal for every goal. Relabeled with g' = s_1 or s_2 (not reached at
    # s_3) it used to bootstrap from s_3.
    add_episode(buf, EPISODE, GOAL, terminated_last=True)
    batch = buf.sample(400, np.random.default_rng(0))
    last = batch["action"] == 2
    not_reached = last & ~np.all(batch["goal"] == 1.0, axis=1)
    assert not_reached.any()
    np.testing.assert_array_equal(batch["discount"][last], 0.0)
    np.testing.assert_array_equal(batch["reward"][not_reached], -1.0)
    # A termination explained by reaching the real goal is no terminal for other goals.
    buf = bit_buffer(strategy="episode", n_sampled_goal=1_000_000, gamma=0.5)
    add_episode(buf, EPISODE, [1, 1, 1], terminated_last=True)  # success at s_3
    batch = buf.sample(400, np.random.default_rng(0))
    other = (batch["action"] == 2) & ~np.all(batch["goal"] == 1.0, axis=1)
    assert other.any()
    np.testing.assert_allclose(batch["discount"][other], 0.5)


def test_minibatches_of_one_update_each_spread_over_the_whole_buffer():
    buf = bit_buffer(capacity=2000, strategy="none")
    rng = np.random.default_rng(0)
    for _ in range(400):  # 1,200 transitions, oldest in the low slots
        add_episode(buf, [rng.integers(0, 2, 3) for _ in range(4)], GOAL)
    k, b = 8, 64
    batch = buf.sample_minibatches(k, b, np.random.default_rng(1))
    assert batch["observation"].shape == (k, b, 3) and batch["indices"].shape == (k * b,)
    slots = batch["indices"].reshape(k, b)
    for minibatch in slots:
        # An unshuffled stratified draw gives minibatch j the j-th eighth of the slots.
        assert minibatch.max() - minibatch.min() > 0.75 * len(buf)
    # Rows stay paired with their indices (for the priority update).
    np.testing.assert_array_equal(batch["action"].reshape(-1), buf.action[batch["indices"], 0])


def test_wraparound_invalidates_the_overwritten_episode():
    buf = bit_buffer(capacity=4)
    add_episode(buf, EPISODE, GOAL)  # rows 0..2
    add_episode(buf, EPISODE[:3], GOAL)  # rows 3, 0: overwrites the first episode's start
    np.testing.assert_array_equal(buf.ep_length[:, 0], [2, 0, 0, 2])
    assert len(buf) == 2
    assert len(buf) == np.count_nonzero(buf.ep_length)
    batch = buf.sample(100, np.random.default_rng(0))
    assert set(batch["indices"]) == {0, 3}
    # The wrapped episode is read in order: row 3 (t=0), then row 0 (t=1).
    t0 = batch["indices"] == 3
    np.testing.assert_array_equal(batch["next_observation"][t0][0], [1, 0, 0])


def test_parallel_envs_keep_separate_episodes():
    buf = bit_buffer(num_envs=2, strategy="final", n_sampled_goal=1_000_000)
    add_episode(buf, EPISODE, GOAL, env_count=2)
    assert len(buf) == 6
    batch = buf.sample(200, np.random.default_rng(0))
    np.testing.assert_array_equal(batch["goal"], np.tile([1, 1, 1], (200, 1)))


def test_priorities_drive_sampling_and_importance_weights():
    buf = bit_buffer(strategy="none", prioritized=True, alpha=1.0, eps=1e-6)
    add_episode(buf, EPISODE, GOAL)
    np.testing.assert_allclose(buf.tree.get(np.arange(3)), 1.0)  # new: max priority 1
    buf.update_priorities(np.array([0, 1, 2]), np.array([3.0, -1.0, 0.0]))
    # p = |delta| + eps (alpha 1) = (3, 1, ~0): slot 0 drawn 3/4 of the time, slot 2 never.
    p = buf.tree.get(np.arange(3))
    np.testing.assert_allclose(p, [3.0, 1.0, 1e-6], rtol=1e-5)
    batch = buf.sample(4000, np.random.default_rng(0), beta=1.0)
    assert abs((batch["indices"] == 0).mean() - 0.75) < 0.03
    # w = (N P)^-beta normalized by the batch max: w0 / w1 = P1 / P0 = 1/3
    w0 = batch["weights"][batch["indices"] == 0][0]
    w1 = batch["weights"][batch["indices"] == 1][0]
    assert w1 == pytest.approx(1.0) and w0 == pytest.approx(1 / 3, rel=1e-4)
    assert buf.max_priority == pytest.approx(3.0 + 1e-6)


# ----------------------------------------------------------------------------- agent


def preset(name: str) -> dict:
    """A shipped preset's settings, without its `preset` metadata (as `rl train` reads it)."""
    path = Path(rl_her.__file__).parent / "presets" / f"{name}.toml"
    settings = tomllib.loads(path.read_text())
    settings.pop("preset", None)
    return settings


def small(**overrides) -> HERConfig:
    base = {
        "num_envs": 2,
        "prioritized": True,  # the bitflip preset's replay
        "batch_size": 16,
        "learning_starts": 32,
        "hidden_sizes": [16],
        "device": "cpu",
        "log_every": 32,
        "env_kwargs": {"n_bits": 4},
        "xla": False,  # compiling takes seconds; the learning test covers the XLA path
    }
    return apply_overrides(HERConfig(), {**base, **overrides})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"strategy": "later"}, "strategy must be one of"),
        ({"learner": "ppo"}, "learner must be one of"),
        ({"alpha_init": 0.0}, "alpha_init must be > 0"),
        ({"gamma": 1.5}, "gamma must be in"),
        ({"tau": 0.0}, "tau must be in"),
        ({"n_step": 0}, "n_step must be >= 1"),
    ],
)
def test_config_validation(override, message):
    with pytest.raises(ConfigError, match=message):
        small(**override)


def test_her_ratio_is_k_over_k_plus_one():
    assert HERConfig(n_sampled_goal=4).her_ratio == pytest.approx(0.8)
    assert HERConfig(strategy="none").her_ratio == 0.0


def test_non_goal_env_and_wrong_learner_are_clear_errors():
    with pytest.raises(ConfigError, match="her needs a goal env"):
        HER(small(env="CartPole-v1", env_kwargs={}))
    with pytest.raises(ConfigError, match="learner 'td3' needs Box actions"):
        HER(small(learner="td3"))
    with pytest.raises(ConfigError, match="learner 'dqn' needs Discrete actions"):
        HER(small(env="rl/PointMassGoal-v0", env_kwargs={}, learner="dqn"))


def metrics_of(seed: int, **overrides) -> list[tuple]:
    class Record(Callback):
        def __init__(self):
            self.rows = []

        def on_log(self, agent, metrics):
            self.rows.append(tuple(sorted((k, v) for k, v in metrics.items() if k != "charts/SPS")))

    record = Record()
    HER(small(seed=seed, **overrides)).learn(96, callbacks=[record])
    return record.rows


def test_a_seeded_run_repeats_exactly():
    first = metrics_of(3)
    assert first == metrics_of(3)
    assert first != metrics_of(4)


def test_one_gradient_step_per_env_step_after_learning_starts():
    agent = HER(small(train_every=1)).learn(96)
    # 32 random steps, then 2 steps per vector step: (96 - 32) = 64 gradient steps
    assert int(agent.learner.gradient_steps.numpy()) == 64


def test_save_load_round_trip_and_mismatch(tmp_path):
    agent = HER(small(dueling=True)).learn(64)
    agent.save(tmp_path / "a")
    again = HER.load(tmp_path / "a")
    obs = {k: np.random.default_rng(0).integers(0, 2, (5, 4)).astype(np.float32)
           for k in ("observation", "achieved_goal", "desired_goal")}  # fmt: skip
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))
    assert again.num_timesteps == 64
    with pytest.raises(RunDirectoryError, match="do not fit this network"):
        HER.load(tmp_path / "a", hidden_sizes=[8])


@pytest.mark.parametrize("learner", ["td3", "ddpg"])
def test_continuous_learners_run_and_act_within_bounds(learner):
    agent = HER(small(env="rl/PointMassGoal-v0", env_kwargs={}, learner=learner, n_step=2))
    agent.learn(160)
    assert int(agent.learner.gradient_steps.numpy()) > 0
    assert len(agent.learner.critics) == (2 if learner == "td3" else 1)
    obs = {
        k: np.zeros((3, 2), np.float32) for k in ("observation", "achieved_goal", "desired_goal")
    }
    for deterministic in (True, False):
        actions = agent.predict(obs, deterministic=deterministic)
        assert actions.shape == (3, 2) and np.all(np.abs(actions) <= 1.0)


def test_plugin_registers_her_in_process():
    import rl_her.plugin

    from rl_core.plugins import AlgorithmRegistry, make_plugin_manager

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(rl_her.plugin, name="her")
    spec = AlgorithmRegistry(pm).get("her")
    assert spec.default_env == "rl/BitFlipping-v0"
    assert {"bitflip", "bits50", "pointmass"} <= set(spec.presets)


def test_defaults_are_the_her_papers_and_bit_flipping_is_a_preset():
    c = HERConfig()
    # HER paper, App. A: k = 4 "future" goals, three 256-unit layers, batch 256, Adam 1e-3,
    # gamma 0.98, polyak 0.95 (tau 0.05), uniform replay, action L2 1, random actions 0.2.
    assert (c.strategy, c.n_sampled_goal, c.hidden_sizes) == ("future", 4, (256, 256, 256))
    assert (c.batch_size, c.learning_rate, c.gamma, c.tau) == (256, 1e-3, 0.98, 0.05)
    assert not c.prioritized and (c.action_l2, c.random_action_prob) == (1.0, 0.2)
    bits = apply_overrides(c, preset("bitflip"))
    # The measured bit-flipping setup (benchmarks/suite.d/her.toml): one 256-unit layer,
    # batch 128, prioritized replay, 30k steps.
    assert (bits.hidden_sizes, bits.batch_size, bits.prioritized) == ((256,), 128, True)
    assert (bits.env, bits.env_kwargs, bits.total_steps) == (
        "rl/BitFlipping-v0",
        {"n_bits": 10},
        30_000,
    )


@pytest.mark.learning
def test_learns_8_bit_flipping():
    """HER + Double DQN solves 8 bits (greedy success >= 0.9 over 100 episodes)."""
    config = apply_overrides(
        HERConfig(),
        {**preset("bitflip"), "env_kwargs": {"n_bits": 8}, "total_steps": 8000, "device": "cpu"},
    )
    agent = HER(config).learn(config.total_steps)
    result = evaluate_policy(agent, config.env, config.env_kwargs, episodes=100, seed=123)
    assert result.success_rate >= 0.9


# ------------------------------------------------------------------ DDPG/TD3 and stabilizers


def actor_critic(td3: bool, **overrides):
    from rl_her.learning import ActorCriticLearner

    config = small(env="rl/PointMassGoal-v0", env_kwargs={}, gamma=0.98, **overrides)
    learner = ActorCriticLearner(4, 1, config, td3)
    # Hand-made target networks: mu'(s') = 0.8, Q1'(s', a) = 2a - 3, Q2'(s', a) = -a - 1.
    learner.actor_target = lambda s: tf.fill([tf.shape(s)[0], 1], 0.8)
    learner.critic_targets = [
        lambda s, a: 2.0 * a[:, 0] - 3.0,
        lambda s, a: -a[:, 0] - 1.0,
    ][: 2 if td3 else 1]
    return learner


REWARDS = tf.constant([-1.0, 5.0, -60.0])
DISCOUNTS = tf.constant([0.5, 0.0, 1.0])
NEXT = tf.zeros([3, 4])
SEED = tf.constant([1, 2], tf.int32)


def test_ddpg_critic_target_with_clipping_to_the_return_range():
    # a' = 0.8, Q'(s', a') = 1.6 - 3 = -1.4; y = r + d Q' = (-1.7, 5, -61.4);
    # clipped to [-1/(1 - 0.98), 0] = [-50, 0]: (-1.7, 0, -50).
    y = actor_critic(False).critic_target(REWARDS, NEXT, DISCOUNTS, SEED)
    np.testing.assert_allclose(y, [-1.7, 0.0, -50.0], rtol=1e-6)
    y = actor_critic(False, clip_target=False).critic_target(REWARDS, NEXT, DISCOUNTS, SEED)
    np.testing.assert_allclose(y, [-1.7, 5.0, -61.4], rtol=1e-6)


def test_td3_critic_target_takes_the_twin_minimum_and_smooths_the_target_action():
    # No smoothing noise (clip 0): a' = 0.8, min(Q1', Q2') = min(-1.4, -1.8) = -1.8;
    # y = (-1 + 0.5 (-1.8), clip(5), clip(-60 - 1.8)) = (-1.9, 0, -50).
    learner = actor_critic(True, target_noise_clip=0.0)
    y = learner.critic_target(REWARDS, NEXT, DISCOUNTS, SEED)
    np.testing.assert_allclose(y, [-1.9, 0.0, -50.0], rtol=1e-6)
    # Huge noise clipped to +-0.5: a' = clip(0.8 +- 0.5, -1, 1) = 1.0 or 0.3 by the sign of
    # the draw; min(Q1', Q2') = min(-1, -2) = -2 at 1.0 and min(-2.4, -1.3) = -2.4 at 0.3.
    learner = actor_critic(True, target_noise=1e6, target_noise_clip=0.5, clip_target=False)
    sign = tf.random.stateless_normal([3, 1], SEED).numpy()[:, 0] > 0
    q_min = np.where(sign, -2.0, -2.4)
    y = learner.critic_target(REWARDS, NEXT, DISCOUNTS, SEED)
    np.testing.assert_allclose(y, REWARDS.numpy() + DISCOUNTS.numpy() * q_min, rtol=1e-6)


def test_actor_loss_is_minus_q_plus_the_action_penalty():
    learner = actor_critic(False, action_l2=1.0)

    class FixedActor:
        def preactivation(self, s):
            return tf.constant([[0.0], [np.arctanh(0.5)]], tf.float32)  # actions 0, 0.5

    learner.actor = FixedActor()
    learner.critics = [lambda s, a: 3.0 * a[:, 0] + 1.0]  # Q = (1, 2.5)
    # -mean Q + 1.0 * mean a^2 = -1.75 + (0 + 0.25) / 2 = -1.625
    np.testing.assert_allclose(learner.actor_loss(tf.zeros([2, 4])), -1.625, rtol=1e-6)


def test_targets_move_once_per_40_gradient_steps_for_ddpg_by_default():
    from rl_her.learning import ActorCriticLearner

    config = small(env="rl/PointMassGoal-v0", env_kwargs={})
    assert (config.target_every("dqn"), config.target_every("ddpg")) == (1, 40)
    assert config.target_every("td3") == 20  # 20 delayed actor steps = 40 gradient steps
    assert small(target_update_interval=3).target_every("td3") == 3
    learner = ActorCriticLearner(4, 1, config, td3=False)
    before = [v.numpy() for v in learner.critic_target_vars]

    def update(k):
        z = tf.zeros([k, 8])
        return learner.update(tf.random.normal([k, 8, 4]), tf.zeros([k, 8, 1]), z,
                              tf.random.normal([k, 8, 4]), z + 0.9, z + 1.0,
                              tf.constant([0, 0], tf.int32))  # fmt: skip

    update(39)
    for old, var in zip(before, learner.critic_target_vars, strict=True):
        np.testing.assert_array_equal(var.numpy(), old)
    update(1)  # the 40th step: Polyak with tau 0.05
    assert any(
        not np.array_equal(var.numpy(), old)
        for old, var in zip(before, learner.critic_target_vars, strict=True)
    )


def test_input_normalizer_clips_raw_values_normalizes_and_clips_again():
    from rl_her.normalizer import InputNormalizer

    norm = InputNormalizer(2, 1, obs_clip=200.0, norm_clip=5.0, enabled=True)
    norm.update(np.array([[0.0, 3.0], [2.0, 3.0]]), np.array([[1.0], [5.0], [1000.0]]))
    # obs: mean (1, 3), std (1, 0 -> floor 0.01); goals clipped to 200 first:
    # (1, 5, 200) -> mean 206 / 3, population std sqrt(mean of squares - mean^2)
    g_mean = 206 / 3
    g_std = np.sqrt(np.mean(np.square([1.0, 5.0, 200.0])) - g_mean**2)
    out = norm(np.array([[3.0, 3.02, 100.0], [1e6, 2.0, -1e6]]))
    want = [
        [2.0, 2.0, (100.0 - g_mean) / g_std],  # (3 - 1) / 1; (3.02 - 3) / 0.01
        [5.0, -5.0, max((-200.0 - g_mean) / g_std, -5.0)],  # 1e6 -> 200 -> 199 -> 5
    ]
    np.testing.assert_allclose(out, want, rtol=1e-5)
    off = InputNormalizer(2, 1, 200.0, 5.0, enabled=False)
    x = np.array([[300.0, 1.0, 2.0]])
    assert off(x) is x


def test_a_save_that_did_not_normalize_loads_without_normalizing(tmp_path):
    # A DQN policy saved before normalization became its default: no flag in state.json,
    # statistics never updated. Loading it with today's defaults must not normalize.
    agent = HER(small(normalize_inputs=False)).learn(64)
    agent.save(tmp_path / "policy")
    state_file = tmp_path / "policy" / "state.json"
    state = json.loads(state_file.read_text())
    assert state["normalize"] is False
    del state["normalize"]
    state_file.write_text(json.dumps(state))
    # Its config had normalize_inputs unset, which today's default reads as true.
    meta_file = tmp_path / "policy" / AGENT_FILE
    meta = json.loads(meta_file.read_text())
    del meta["config"]["normalize_inputs"]
    meta_file.write_text(json.dumps(meta))
    again = HER.load(tmp_path / "policy")
    assert not again.normalizer.enabled
    obs = agent.envs.reset(seed=3)[0]
    np.testing.assert_array_equal(again.predict(obs), agent.predict(obs))
    on = HER(small()).learn(64)
    on.save(tmp_path / "on")
    assert HER.load(tmp_path / "on").normalizer.enabled


def test_normalizer_is_on_for_every_learner_by_default_and_saved_with_the_policy(tmp_path):
    # DQN (bit flipping) normalizes by default too; the setting turns it off.
    assert HER(small()).normalizer.enabled
    assert not HER(small(normalize_inputs=False)).normalizer.enabled
    agent = HER(small(env="rl/PointMassGoal-v0", env_kwargs={})).learn(96)
    assert agent.normalizer.enabled and agent.normalizer.obs.count == 96
    agent.save(tmp_path / "policy")
    again = HER.load(tmp_path / "policy")
    np.testing.assert_array_equal(again.normalizer.obs.mean, agent.normalizer.obs.mean)
    np.testing.assert_array_equal(again.normalizer.goal.var, agent.normalizer.goal.var)
    obs = {k: np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
           for k in ("observation", "desired_goal")}  # fmt: skip
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))


def test_predict_needs_observation_and_desired_goal_only():
    agent = HER(small())
    obs = {k: np.zeros((2, 4), np.float32) for k in ("observation", "desired_goal")}
    assert agent.predict(obs).shape == (2,)  # no achieved_goal needed to act
    with pytest.raises(ConfigError, match="observation and desired_goal"):
        agent.predict({k: np.zeros((2, 4)) for k in ("achieved_goal", "desired_goal")})
