"""The full NGU and Agent57 learner losses on a tiny hand-made batch, the novelty losses'
masks, and the inputs stored with an episode's final observation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from rl_ngu_agent57 import NGU, Agent57, Agent57Config, NGUConfig
from rl_ngu_agent57.buffer import sequence_specs

from rl_core.config import apply_overrides

TINY = {
    "env_kwargs": {"size": 4},  # 16 inputs, 2 actions
    "device": "cpu",
    "num_envs": 2,
    "num_policies": 2,  # beta = (0, 0.5)
    "intrinsic_beta": 0.5,
    "burn_in": 0,
    "unroll_length": 2,
    "sequence_period": 1,
    "batch_size": 1,
    "learning_starts": 1,
}


def h(x: float) -> float:
    return math.copysign(math.sqrt(abs(x) + 1) - 1, x) + 1e-3 * x


def constant_q(network, raw: list[float]) -> None:
    """Make ``network`` output h(raw) for every input: all weights 0 (the LSTM state stays
    0), then the dueling head's biases V = mean(A), A = h(raw)."""
    for var in network.variables:
        var.assign(np.zeros(var.shape, np.float32))
    adv = np.array([h(x) for x in raw], np.float32)
    network.advantage.b.assign(adv)
    network.value.b.assign([adv.mean()])


def batch_of_one(agent, **fields) -> dict[str, np.ndarray]:
    specs = sequence_specs(agent.obs_dim, 3, agent.state_shape)
    batch = {k: np.zeros((1, *shape), dtype) for k, (shape, dtype) in specs.items()}
    for key, value in fields.items():
        batch[key][0] = value
    batch["weights"] = np.ones(1, np.float32)
    return batch


def test_ngu_loss_is_transformed_retrace_toward_an_epsilon_greedy_policy():
    # N = 2, j = 1: beta_1 = 0.5, gamma_1 = gamma_min = 0.9. Online raw Q = (2, 0) (greedy
    # action 0), target raw Q = (3, 1), everywhere. Two transitions, then the final
    # observation of a truncated episode (term 0: it bootstraps).
    #   r_t = r_e + 0.5 r_i = (1 + 0.5 * 2, 0 + 0.5 * 4) = (2, 2), d_t = 0.9
    #   pi = (0.995, 0.005): E_pi Q_target = 0.995 * 3 + 0.005 * 1 = 2.99
    #   c_1 = 0.95 * min(1, pi(a_1 = 1) / mu = 0.005 / 0.3) = 0.0158333
    #   Qret_1 = 2 + 0.9 * 2.99 = 4.691
    #   Qret_0 = 2 + 0.9 * (2.99 + 0.0158333 * (4.691 - Q_target(x_1, 1) = 1)) = 4.7435968
    #   delta = (h(4.7435968) - h(2), h(4.691) - h(0)) = (0.6672730, 1.3902727)
    #   loss = 0.5 * (0.6672730^2 + 1.3902727^2) = 1.1890557
    # (R2D2's 5-step target would be h(2 + 0.9 * (2 + 0.9 * 3)) = h(6.23) for t = 0; a greedy
    # target policy would give c_1 = 0 and E_pi Q_target = 3.)
    config = apply_overrides(NGUConfig(), {**TINY, "gamma_max": 0.95, "gamma_min": 0.9})
    agent = NGU(config)
    online, target = agent.q_networks["q"]
    constant_q(online, [2.0, 0.0])
    constant_q(target, [3.0, 1.0])
    batch = batch_of_one(
        agent,
        policy=1,
        valid=[1, 1, 0],
        first=[1, 0, 0],
        action=[0, 1, 0],
        mu=[0.9, 0.3, 0],
        re=[1, 0, 0],
        ri=[2, 4, 0],
    )
    td = [h(4.7435968) - h(2.0), h(4.691) - h(0.0)]
    assert td == pytest.approx([0.6672730, 1.3902727], rel=1e-6)
    metrics, priorities = agent.learner.step(batch)
    assert metrics["q_loss"] == pytest.approx(1.1890557, rel=1e-4)
    assert priorities[0] == pytest.approx(0.9 * max(td) + 0.1 * sum(td) / 2, rel=1e-4)


@pytest.mark.parametrize("priority_td", ["heads", "mixed"])
def test_agent57_losses_and_priority_by_hand(priority_td):
    # N = 2, j = 1: beta_1 = 0.5, gamma_1 = gamma2 = 0.9 (N <= 9: log-linear gamma0 -> gamma2).
    # Online raw Q_e = (1, 0), Q_i = (0, 4): mixed h^-1 = (1, 0 + 0.5 * 4 = 2), greedy 1 (the
    # extrinsic head alone would pick 0). Targets raw Q_e = (3, 1), Q_i = (2, 6).
    # a = (0, 1), mu = (0.9, 0.3); pi = (0.005, 0.995); c_1 = 0.95 min(1, 0.995 / 0.3) = 0.95.
    # Extrinsic, r_e = (1, 0): E_pi = 0.005 * 3 + 0.995 * 1 = 1.01
    #   Qret_1 = 0.9 * 1.01 = 0.909; Qret_0 = 1 + 0.9 * (1.01 + 0.95 (0.909 - 1)) = 1.831195
    # Intrinsic, r_i = (2, 4): E_pi = 0.005 * 2 + 0.995 * 6 = 5.98
    #   Qret_1 = 4 + 0.9 * 5.98 = 9.382; Qret_0 = 2 + 0.9 * (5.98 + 0.95 (9.382 - 6)) = 10.27361
    # delta_e = (h(1.831195) - h(1), h(0.909) - h(0)); delta_i = (h(10.27361) - h(0),
    # h(9.382) - h(4)); loss = 0.5 sum delta_e^2 + 0.5 sum delta_i^2.
    # Priority on |delta_e| + |delta_i| (the default), or on the mixed error:
    # (h(1.831195 + 0.5 * 10.27361) - h(1 + 0.5 * 0), h(0.909 + 0.5 * 9.382) - h(0 + 0.5 * 4))
    # = (h(6.9680) - h(1), h(5.6) - h(2)).
    config = apply_overrides(
        Agent57Config(), {**TINY, "gamma0": 0.95, "gamma2": 0.9, "priority_td": priority_td}
    )
    agent = Agent57(config)
    for name, online_raw, target_raw in (
        ("extrinsic", [1.0, 0.0], [3.0, 1.0]),
        ("intrinsic", [0.0, 4.0], [2.0, 6.0]),
    ):
        online, target = agent.q_networks[name]
        constant_q(online, online_raw)
        constant_q(target, target_raw)
    batch = batch_of_one(
        agent,
        policy=1,
        valid=[1, 1, 0],
        first=[1, 0, 0],
        action=[0, 1, 0],
        mu=[0.9, 0.3, 0],
        re=[1, 0, 0],
        ri=[2, 4, 0],
    )
    td_e = [h(1.831195) - h(1.0), h(0.909) - h(0.0)]
    td_i = [h(10.27361) - h(0.0), h(9.382) - h(4.0)]
    mixed = [abs(h(1.831195 + 0.5 * 10.27361) - h(1.0)), abs(h(0.909 + 0.5 * 9.382) - h(2.0))]
    heads = [abs(e) + abs(i) for e, i in zip(td_e, td_i, strict=True)]
    td = heads if priority_td == "heads" else mixed
    metrics, priorities = agent.learner.step(batch)
    loss_e = 0.5 * sum(x * x for x in td_e)
    loss_i = 0.5 * sum(x * x for x in td_i)
    assert metrics["extrinsic_loss"] == pytest.approx(loss_e, rel=1e-4)
    assert metrics["intrinsic_loss"] == pytest.approx(loss_i, rel=1e-4)
    assert metrics["q_loss"] == pytest.approx(loss_e + loss_i, rel=1e-4)
    assert priorities[0] == pytest.approx(0.9 * max(td) + 0.1 * sum(td) / 2, rel=1e-4)


def test_rnd_trains_on_the_final_observation():
    # Two batches that differ only in the final observation's row (valid 0: no action):
    # the RND loss must see it; the inverse-dynamics loss does too (it is the next
    # observation of the last transition). The L2 term is 1e-5 sum w^2 of the predictor.
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "novelty_train_steps": 0}))
    fields = {"policy": 0, "valid": [1, 1, 0], "first": [1, 0, 0], "action": [0, 1, 0]}
    obs = np.zeros((3, agent.obs_dim), np.float32)
    obs[0, 0] = obs[1, 5] = 1.0
    losses = []
    for final in (0.0, 50.0):
        obs[2, -1] = final
        batch = batch_of_one(agent, obs=obs, **fields)
        b, _ = agent.learner._time_major({k: tf.constant(v) for k, v in batch.items()})
        total, parts = agent.learner._novelty_loss(b)
        l2 = sum(float(np.sum(w.numpy() ** 2)) for w in agent.embedding.classifier_weights())
        residual = float(total) - float(parts["inverse_dynamics_loss"]) - float(parts["rnd_loss"])
        assert residual == pytest.approx(1e-5 * l2, abs=5e-5)  # float32 sums of ~1e2
        losses.append(float(parts["rnd_loss"]))
    assert losses[1] > losses[0] + 1.0


def test_the_final_observation_row_keeps_the_last_action_and_rewards():
    # DeepSea 4 episodes last 4 steps. In every stored sequence the row after a real step
    # holds that step's action and rewards as its previous-action/reward inputs, including
    # the final observation's row (which a time-limit bootstrap reads Q at).
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "unroll_length": 6, "burn_in": 1}))
    parts = [s for s in (agent.step_actors() for _ in range(8)) if s]
    seqs = {k: np.concatenate([s[k] for s in parts]) for k in parts[0]}
    finals = 0
    for i in range(len(seqs["policy"])):
        valid = seqs["valid"][i]
        for t in range(1, len(valid)):
            if valid[t - 1] == 1 and seqs["first"][i, t] == 0:
                assert seqs["prev_action"][i, t] == seqs["action"][i, t - 1]
                assert seqs["prev_re"][i, t] == seqs["re"][i, t - 1]
                assert seqs["prev_ri"][i, t] == seqs["ri"][i, t - 1]
                finals += valid[t] == 0
    assert finals >= 4  # every slot ended an episode twice; the rows were checked
    assert (seqs["ri"][seqs["valid"] == 1] > 0).all()  # so a zeroed prev_ri would fail


def test_evaluation_policy_diagnostics():
    # NGU evaluates j = 0 unless asked for its best arm (highest mean extrinsic return in the
    # window); Agent57 evaluates its bandit's best arm unless asked for j = 0.
    ngu = NGU(apply_overrides(NGUConfig(), {**TINY, "evaluation_policy": "best_arm"}))
    ngu.end_of_episode(np.array([0, 1, 0]), np.array([0, 1, 1]), np.array([0.0, 1.0, 0.5]))
    assert ngu.evaluation_policy() == 1  # j = 1: mean 0.75 > j = 0: 0
    ngu.config.evaluation_policy = "default"
    assert ngu.evaluation_policy() == 0
    agent57 = Agent57(apply_overrides(Agent57Config(), TINY))
    agent57.end_of_episode(np.array([0, 1]), np.array([0, 1]), np.array([0.0, 1.0]))
    assert agent57.evaluation_policy() == 1
    agent57.config.evaluation_policy = "j0"
    assert agent57.evaluation_policy() == 0


def test_rnd_sees_normalized_clipped_observations():
    # mean (1, 0), std (2, 2): x = (3, -20) -> ((3 - 1) / 2, -20 / 2) = (1, -10) -> clip (1, -5)
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "env_kwargs": {"size": 2}}))
    rnd = agent.rnd
    x = tf.constant([[3.0, -20.0, 0.0, 0.0]])
    mean, std = tf.constant([1.0, 0.0, 0.0, 0.0]), tf.constant([2.0, 2.0, 1.0, 1.0])
    expected = rnd.error(tf.constant([[1.0, -5.0, 0.0, 0.0]]))
    np.testing.assert_allclose(rnd.error(x, mean, std).numpy(), expected.numpy(), rtol=1e-6)
    # The actors' observations update the statistics; evaluation's do not.
    stats = agent.novelty.obs_stats
    before = stats.count
    agent.novelty.features(np.ones((3, 4), np.float32))
    assert stats.count == before + 3
    agent.novelty.features(np.ones((3, 4), np.float32), update_stats=False)
    assert stats.count == before + 3
    assert (
        NGU(
            apply_overrides(NGUConfig(), {**TINY, "rnd_obs_normalization": False})
        ).novelty.obs_normalizer()
        is None
    )


def test_the_episodic_embedding_is_frozen_per_episode():
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "env_kwargs": {"size": 2}}))
    novelty, slots = agent.novelty, np.array([0, 1])
    obs = np.ones((2, 4), np.float32)
    novelty.freeze(slots, 2)
    before, _ = novelty.features(obs, frozen_slots=slots)
    for var in agent.embedding.embed.variables:  # a learner step changes the weights
        var.assign(var + 0.5)
    during, _ = novelty.features(obs, frozen_slots=slots)
    np.testing.assert_allclose(during, before, rtol=1e-5)  # both episodes still going
    current, _ = novelty.features(obs)
    assert not np.allclose(current, before)
    novelty.freeze(np.array([1]), 2)  # slot 1 starts a new episode
    mixed, _ = novelty.features(obs, frozen_slots=slots)
    np.testing.assert_allclose(mixed[0], before[0], rtol=1e-5)
    np.testing.assert_allclose(mixed[1], current[1], rtol=1e-5)


def test_previous_intrinsic_reward_input_is_scaled_by_its_running_rms():
    # r_i batch (3, 4), decay 0.5: m2 = 0.5 * 12.5 = 6.25, bias-corrected E[r_i^2] = 12.5,
    # scale = 1 / sqrt(12.5) = 0.2828427. The acting policy feeds prev_ri * scale.
    config = apply_overrides(
        NGUConfig(), {**TINY, "env_kwargs": {"size": 2}, "novelty_stats_decay": 0.5}
    )
    agent = NGU(config)
    assert agent.novelty.ri_input_scale() == 1.0  # nothing seen yet
    agent.novelty.ri_stats.update(np.array([3.0, 4.0]))
    assert agent.novelty.ri_input_scale() == pytest.approx(0.2828427, rel=1e-6)
    online = agent.q_networks["q"][0]
    obs, state = np.ones((1, 4), np.float32), np.zeros((1, 1, 2, config.lstm_units), np.float32)
    args = (np.array([1]), np.array([0]), np.array([0.0], np.float32))
    q, _ = agent.q_policy(obs, *args, np.array([40.0], np.float32), state)
    zero = np.zeros((1, config.lstm_units), np.float32)
    expected, _, _ = online.step(obs, *args, np.array([40.0 * 0.2828427], np.float32), zero, zero)
    np.testing.assert_allclose(q, expected.numpy(), rtol=1e-5)
    # The first version's constant sqrt(k eps) lives in the network instead.
    fixed = NGU(apply_overrides(config, {"intrinsic_input": "fixed"}))
    assert fixed.q_policy.ri_input_scale is None
    assert fixed.q_networks["q"][0].intrinsic_input_scale == pytest.approx(math.sqrt(10 * 1e-4))
