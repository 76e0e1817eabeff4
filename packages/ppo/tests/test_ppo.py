from __future__ import annotations

import tomllib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import rl_ppo
import tensorflow as tf
from rl_ppo import PPO, PPOConfig
from rl_ppo.distributions import Categorical, DiagGaussian
from rl_ppo.learning import clipped_surrogate_loss, ppo_losses, value_loss

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.plugins import AlgorithmRegistry, make_plugin_manager

PRESETS = Path(rl_ppo.__file__).parent / "presets"


def preset(name: str) -> dict:
    """A shipped preset's settings, without its `preset` metadata (as `rl train` reads it)."""
    settings = tomllib.loads((PRESETS / f"{name}.toml").read_text())
    settings.pop("preset", None)
    return settings


def small(**overrides) -> PPOConfig:
    # Annealed, as the cartpole preset is: the schedule tests need the schedules on.
    base = {"num_envs": 2, "n_steps": 16, "minibatch_size": 16, "n_epochs": 2, "device": "cpu"}
    base.update(anneal_lr=True, anneal_clip_range=True)
    return apply_overrides(PPOConfig(), {**base, **overrides})


def test_clipped_surrogate_matches_hand_computation():
    ratio = tf.constant([0.5, 1.1, 1.5, 0.9])
    adv = tf.constant([1.0, 2.0, 1.0, -1.0])
    # eps = 0.2: per sample max(-A r, -A clip(r, 0.8, 1.2))
    #   r=0.5, A=1:  max(-0.5, -0.8) = -0.5   (unclipped is the pessimistic one)
    #   r=1.1, A=2:  max(-2.2, -2.2) = -2.2
    #   r=1.5, A=1:  max(-1.5, -1.2) = -1.2   (gain capped at 1 + eps)
    #   r=0.9, A=-1: max(0.9, 0.9)   =  0.9
    expected = (-0.5 - 2.2 - 1.2 + 0.9) / 4
    assert float(clipped_surrogate_loss(ratio, adv, 0.2)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ratio", "adv", "expected"),
    [
        # A > 0, r < 1 - eps: the unclipped r A is the smaller objective (no gain capped).
        (0.5, 2.0, -1.0),
        # A > 0, r > 1 + eps: the objective is capped at (1 + eps) A.
        (1.5, 2.0, -2.4),
        # A < 0, r < 1 - eps: capped at (1 - eps) A = -1.6 (pushing r lower gains nothing).
        (0.5, -2.0, 1.6),
        # A < 0, r > 1 + eps: the unclipped r A = -3 is smaller, so the loss keeps growing.
        (1.5, -2.0, 3.0),
        # inside the clip range: plain r A
        (1.1, -2.0, 2.2),
    ],
)
def test_clipped_surrogate_each_branch(ratio, adv, expected):
    loss = clipped_surrogate_loss(tf.constant([ratio]), tf.constant([adv]), 0.2)
    assert float(loss) == pytest.approx(expected)
    # and the gradient with respect to r is A where the unclipped term is active, else 0
    r = tf.Variable([ratio])
    with tf.GradientTape() as tape:
        out = clipped_surrogate_loss(r, tf.constant([adv]), 0.2)
    clipped = (adv > 0 and ratio > 1.2) or (adv < 0 and ratio < 0.8)
    assert float(tape.gradient(out, r)[0]) == pytest.approx(0.0 if clipped else -adv)


def test_value_loss_with_and_without_clipping():
    new, old, ret = tf.constant([1.0, 3.0]), tf.constant([0.0, 2.9]), tf.constant([2.0, 2.0])
    # unclipped: mean((1-2)^2, (3-2)^2) = 1, SB3's F.mse_loss (not CleanRL's half of it)
    assert float(value_loss(new, old, ret)) == pytest.approx(1.0)
    # clipped at 0.5: V_clip = (0.5, 3.0); losses max((1, 2.25), (1, 1)) = (2.25, 1) -> 1.625
    assert float(value_loss(new, old, ret, 0.5)) == pytest.approx(1.625)


class _FixedModel:
    """pi = softmax(0, 0) at every state and fixed V: a model whose loss is hand-computable."""

    def __init__(self, values):
        self.values = tf.constant(values)

    def __call__(self, obs):
        logits = tf.zeros([tf.shape(obs)[0], 2])
        return Categorical(logits), self.values


@pytest.mark.parametrize("clip_value_loss", [False, True])
def test_full_ppo_loss_matches_hand_computation(clip_value_loss):
    # Two samples, pi(a|s) = 1/2, old log-probabilities set so the ratios are 1.5 and 0.5.
    ratios = np.array([1.5, 0.5])
    old_logp = tf.constant(np.log(0.5) - np.log(ratios), tf.float32)
    advantages = tf.constant([3.0, 1.0])  # normalized: mean 2, std 1 -> (1, -1)
    returns, old_values = tf.constant([2.0, 2.0]), tf.constant([1.8, 0.0])
    config = small(
        ent_coef=0.01, vf_coef=0.5, clip_value_loss=clip_value_loss, clip_value_range=0.5
    )
    out = ppo_losses(
        _FixedModel([1.0, 2.0]),
        tf.zeros([2, 4]),
        tf.constant([0, 1]),
        old_logp,
        advantages,
        returns,
        old_values,
        tf.constant(0.2),
        config,
    )
    # r=1.5, A=+1: max(-1.5, -1.2) = -1.2;  r=0.5, A=-1: max(0.5, 0.8) = 0.8
    policy_loss = (-1.2 + 0.8) / 2
    # unclipped: V = (1, 2) against R = (2, 2): (1 + 0) / 2. Clipped: V_old = (1.8, 0) gives
    # V_clip = (1.3, 0.5), and max((1, 0), (0.49, 2.25)) = (1, 2.25).
    v_loss = (1.0 + 2.25) / 2 if clip_value_loss else (1.0 + 0.0) / 2
    entropy = np.log(2.0)
    assert float(out["policy_loss"]) == pytest.approx(policy_loss, abs=1e-6)
    assert float(out["value_loss"]) == pytest.approx(v_loss, abs=1e-6)
    assert float(out["entropy"]) == pytest.approx(entropy, abs=1e-6)
    expected = policy_loss - 0.01 * entropy + 0.5 * v_loss
    assert float(out["loss"]) == pytest.approx(expected, abs=1e-6)
    # k3 KL: mean((r - 1) - log r); both ratios lie outside [0.8, 1.2]
    kl = np.mean((ratios - 1) - np.log(ratios))
    assert float(out["approx_kl"]) == pytest.approx(kl, abs=1e-6)
    assert float(out["clipfrac"]) == 1.0


def test_reward_scaling_divides_by_the_running_std_of_the_discounted_return():
    from rl_core.math import RunningMeanStd

    agent = PPO(small(scale_rewards=True, gamma=0.5))
    agent.return_rms = RunningMeanStd(shape=(), epsilon=0.0)  # exact statistics by hand
    # step 1: G = (1, 2); var{1, 2} = 0.25 -> r / 0.5; env 1's episode ends: its G resets
    scaled = agent._scale_rewards(np.array([1.0, 2.0]), np.array([False, True]))
    np.testing.assert_allclose(scaled, [2.0, 4.0], rtol=1e-6)
    # step 2: G = (0.5 * 1 + 1, 0 + 1) = (1.5, 1); var{1, 2, 1.5, 1} = 0.171875
    scaled = agent._scale_rewards(np.array([1.0, 1.0]), np.array([False, False]))
    np.testing.assert_allclose(scaled, [1 / np.sqrt(0.171875)] * 2, rtol=1e-6)
    # scaled rewards are clipped to +-10, as SB3's VecNormalize clip_reward: after 300 steps
    # of zero return, G = (1, -1) has std sqrt(2 / 602) = 0.058, so 1 / std = 17 -> 10
    agent.return_rms = RunningMeanStd(shape=(), epsilon=0.0)
    agent._discounted_return[:] = 0.0
    for _ in range(300):
        agent._scale_rewards(np.zeros(2), np.array([True, True]))
    scaled = agent._scale_rewards(np.array([1.0, -1.0]), np.array([False, False]))
    np.testing.assert_array_equal(scaled, [10.0, -10.0])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"minibatch_size": 100}, "minibatch_size must divide"),
        ({"gamma": 1.5}, "gamma must be in"),
        ({"activation": "gelu"}, "activation must be"),
        ({"vf_coef": -1.0}, "vf_coef must be >= 0"),
        ({"num_envs": 0}, "num_envs must be >= 1"),
    ],
)
def test_config_validation(override, message):
    with pytest.raises(ConfigError, match=message):
        small(**override)


def test_dict_observations_of_flat_boxes_train_without_being_flattened_together():
    agent = PPO(small(env="rl/BitFlipping-v0"))
    agent.learn(32)
    assert agent.obs_dim is None and set(agent.model.pi_torso.keys) == {
        "achieved_goal",
        "desired_goal",
        "observation",
    }
    with pytest.raises(ConfigError, match="flat Box observations only"):
        PPO(small(env="rl/BitFlipping-v0", normalize_observations=True))


def test_discrete_predict_shapes_and_range():
    agent = PPO(small())
    obs = np.zeros((5, 4), np.float32)
    actions = agent.predict(obs)
    assert actions.shape == (5,) and actions.dtype == np.int64
    assert set(agent.predict(obs, deterministic=False)) <= {0, 1}


def test_continuous_actions_are_clipped_to_bounds():
    agent = PPO(small(env="Pendulum-v1", log_std_init=3.0))
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    actions = agent.predict(obs, deterministic=False)
    assert actions.shape == (64, 1)
    assert actions.min() >= -2.0 and actions.max() <= 2.0
    assert np.any(np.abs(actions) == 2.0)  # std e^3: many samples hit the bounds


def test_save_load_restores_policy_normalizer_and_optimizer(tmp_path):
    agent = PPO(small(normalize_observations=True, scale_rewards=True))
    agent.learn(64)
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    obs = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))
    np.testing.assert_allclose(agent.obs_rms.mean, again.obs_rms.mean)
    assert again.num_timesteps == 64


def test_adam_eps_after_correction_reaches_the_optimizer_and_changes_the_update():
    # The same seed and rollout: only where Adam adds epsilon differs, so the weights
    # after one update differ only if the setting reaches the optimizer.
    weights = {}
    for flag in (False, True):
        config = small(adam_eps_after_correction=flag, adam_eps=1e-2, anneal_lr=False)
        agent = PPO(config)
        assert agent.learner.optimizer.eps_after_correction is flag
        agent.learn(32)
        weights[flag] = agent.model.pi_head.w.numpy()
    # eps 1e-2 on sqrt(v) against 3e-4 on it at the first step: steps differ by far more
    # than float noise (a learning rate annealed to 0 would move neither).
    assert np.abs(weights[False] - weights[True]).max() > 1e-5


def test_a_restored_agent_updates_exactly_as_the_uninterrupted_one(tmp_path):
    # Constant lr and clip: the schedule is pinned by its own tests.
    agent = PPO(small(anneal_lr=False, anneal_clip_range=False, n_epochs=3, minibatch_size=8))
    agent.learn(64)
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    opt, opt2 = agent.learner.optimizer, again.learner.optimizer
    assert float(opt.iterations) == float(opt2.iterations) == 2 * 3 * 4
    for m, m2, v, v2 in zip(opt.m, opt2.m, opt.v, opt2.v, strict=True):
        assert np.abs(m.numpy()).max() > 0  # moments that a fresh optimizer would not have
        np.testing.assert_array_equal(m.numpy(), m2.numpy())
        np.testing.assert_array_equal(v.numpy(), v2.numpy())
    assert again.rng.bit_generator.state == agent.rng.bit_generator.state
    # One more update on the same rollout: with Adam's moments and step count (bias
    # correction) carried over, the weights agree to float precision.
    agent.reset_envs()
    buf = agent.collect_rollout()
    agent.estimate_advantages(buf, buf["env_rewards"])
    again.rng.bit_generator.state = agent.rng.bit_generator.state  # same minibatch order
    agent.update_policy({k: (v.copy() if hasattr(v, "copy") else v) for k, v in buf.items()})
    again.update_policy(buf)
    for name, var in agent.model.named_variables().items():
        np.testing.assert_allclose(
            var.numpy(), again.model.named_variables()[name].numpy(), atol=1e-7, err_msg=name
        )


def test_load_refuses_weights_of_another_network(tmp_path):
    from rl_core.errors import RunDirectoryError

    PPO(small()).save(tmp_path / "p")
    with pytest.raises(RunDirectoryError, match="do not fit this network"):
        PPO.load(tmp_path / "p", hidden_sizes=[32])


def test_continuous_save_load_round_trip(tmp_path):
    agent = PPO(small(env="Pendulum-v1", shared_network=False, normalize_observations=True))
    agent.learn(32)
    agent.save(tmp_path / "p")
    again = PPO.load(tmp_path / "p")
    obs = np.random.default_rng(2).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), again.predict(obs))
    np.testing.assert_array_equal(agent.model.log_std.numpy(), again.model.log_std.numpy())


def metrics_of(seed: int) -> list[tuple]:
    class Record(Callback):
        def __init__(self):
            self.rows = []

        def on_log(self, agent, metrics):
            # Everything but the wall-clock speed must repeat bit for bit.
            self.rows.append(tuple(sorted((k, v) for k, v in metrics.items() if k != "charts/SPS")))

    record = Record()
    PPO(small(seed=seed)).learn(96, callbacks=[record])
    return record.rows


def test_a_seeded_run_repeats_exactly():
    assert metrics_of(3) == metrics_of(3)
    assert metrics_of(3) != metrics_of(4)


def test_callback_returning_false_stops_training():
    class StopAfterFirst(Callback):
        def on_log(self, agent, metrics):
            return False

    agent = PPO(small()).learn(10_000, callbacks=StopAfterFirst())
    assert agent.num_timesteps == 32  # one rollout of 2 envs x 16 steps


def test_target_kl_stops_at_the_first_minibatch_over_the_limit():
    class Steps(Callback):
        def on_log(self, agent, metrics):
            self.steps = metrics["charts/gradient_steps"]

    def steps(target_kl):
        record = Steps()
        config = small(
            n_epochs=10, minibatch_size=8, learning_rate=0.05, target_kl=target_kl, anneal_lr=False
        )
        PPO(config).learn(32, record)
        return record.steps

    # 10 epochs x 4 minibatches without a limit (and with one never reached)
    assert steps(0.0) == 40 and steps(1e9) == 40
    # The first minibatch sees the rollout's own policy (KL 0): it is always taken; after one
    # step at lr 0.05 the KL exceeds 1.5e-12, so the second is not: exactly one step.
    assert steps(1e-12) == 1


def test_plugin_registers_ppo_in_process():
    import rl_ppo.plugin

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(rl_ppo.plugin, name="ppo")
    spec = AlgorithmRegistry(pm).get("ppo")
    assert spec.default_env == "CartPole-v1" and "pendulum" in spec.presets
    pendulum = apply_overrides(PPOConfig(), preset("pendulum"))
    assert pendulum.env == "Pendulum-v1"


def test_defaults_are_stable_baselines3s():
    c = PPOConfig()
    # SB3's PPO (the paper's MuJoCo values): a 2048-transition rollout, minibatches of 64,
    # 10 epochs, Adam 3e-4 held constant, gamma 0.99, GAE 0.95, clip 0.2 held constant,
    # no entropy bonus, separate 64-64 tanh policy and value networks.
    assert (c.num_envs * c.n_steps, c.minibatch_size, c.n_epochs) == (2048, 64, 10)
    assert (c.learning_rate, c.gamma, c.gae_lambda, c.clip_range) == (3e-4, 0.99, 0.95, 0.2)
    assert not (c.anneal_lr or c.anneal_clip_range or c.shared_network)
    assert (c.ent_coef, c.vf_coef, c.max_grad_norm, c.target_kl) == (0.0, 0.5, 0.5, 0.0)
    assert c.hidden_sizes == (64, 64) and c.activation == "tanh" and c.log_std_init == 0.0
    assert not (c.normalize_observations or c.scale_rewards)


def test_cartpole_preset_is_the_measured_cartpole_tuning():
    # The settings behind "500.0 ± 0.0 at 100k steps" (benchmarks/suite.d/ppo.toml): the
    # rl-zoo3 CartPole tuning, picked for CartPole-v1 and for no other env.
    c = apply_overrides(PPOConfig(), preset("cartpole"))
    assert (c.num_envs, c.n_steps, c.n_epochs, c.minibatch_size) == (8, 32, 20, 256)
    assert (c.learning_rate, c.gamma, c.gae_lambda) == (1e-3, 0.98, 0.8)
    assert c.anneal_lr and c.anneal_clip_range and c.shared_network
    assert c.total_steps == 100_000
    assert tomllib.loads((PRESETS / "cartpole.toml").read_text())["preset"]["envs"] == [
        "CartPole-v1"
    ]


@pytest.mark.learning
def test_learns_cartpole():
    config = {**preset("cartpole"), "total_steps": 40_000, "seed": 1, "device": "cpu"}
    agent = PPO(apply_overrides(PPOConfig(), config))
    agent.learn(40_000)
    result = evaluate_policy(agent, "CartPole-v1", episodes=10, seed=123)
    assert result.return_mean >= 150, result.returns


@pytest.mark.parametrize(
    ("env", "shared", "activation"),
    [
        ("CartPole-v1", True, "tanh"),
        ("CartPole-v1", False, "relu"),
        ("Pendulum-v1", False, "tanh"),
        ("Pendulum-v1", True, "relu"),
    ],
)
def test_numpy_acting_path_matches_the_tensorflow_policy(env, shared, activation):
    agent = PPO(small(env=env, shared_network=shared, activation=activation, anneal_lr=False))
    agent.learn(32)  # move the weights off their initial values
    obs = np.random.default_rng(0).normal(size=(16, agent.obs_dim)).astype(np.float32)
    obs *= 3.0  # reach the saturating part of tanh, where a relu-for-tanh mix-up shows
    dist, _ = agent.model(tf.constant(obs))
    reference = dist.logits if agent.discrete else dist.loc
    np.testing.assert_allclose(
        agent.acting_policy.head(obs), reference.numpy(), rtol=1e-5, atol=1e-5
    )
    if not agent.discrete:  # the sampling std is the model's exp(log_std)
        np.testing.assert_allclose(
            np.exp(agent.acting_policy.weights[-1]), dist.scale.numpy()[0], rtol=1e-6
        )


def test_numpy_sampling_follows_the_policy_distribution():
    from rl_ppo.networks import NumpyPolicy

    policy = NumpyPolicy(discrete=True, activation="tanh")
    logits = np.log(np.array([[0.2, 0.3, 0.5]], np.float32))
    # no hidden layer: weights are just the head, identity on a one-hot input
    policy.load([np.diag(logits[0]).astype(np.float32), np.zeros(3, np.float32)])
    draws = policy.act(np.ones((40_000, 3), np.float32), np.random.default_rng(0), False)
    np.testing.assert_allclose(np.bincount(draws) / len(draws), [0.2, 0.3, 0.5], atol=0.01)


def test_truncated_steps_bootstrap_from_the_true_final_observation():
    # Pendulum never terminates and is truncated at 200 steps: a 208-step rollout crosses
    # one time limit per env, where the advantage must use V(final_obs), not V(reset obs).
    agent = PPO(small(env="Pendulum-v1", n_steps=208, minibatch_size=208, gae_lambda=0.9))
    real_step, final = agent.envs.step, {}

    def step(actions):
        out = real_step(actions)
        for i in np.flatnonzero(out[3]):
            final[i] = out[4]["final_obs"][i]
        return out

    agent.envs.step = step
    agent._obs, _ = agent.envs.reset(seed=0)
    buf = agent.collect_rollout()
    agent.estimate_advantages(buf, buf["env_rewards"])
    t_trunc = np.argwhere(buf["truncated"])
    assert sorted(i for _, i in t_trunc) == [0, 1] and not buf["terminated"].any()
    for t, i in t_trunc:
        v_final = float(agent.model.value(tf.constant(final[i][None], tf.float32))[0])
        # carry is 0 at an episode end, so A_t is the one-step TD error with the bootstrap.
        expected = buf["rewards"][t, i] + agent.config.gamma * v_final - buf["values"][t, i]
        assert buf["advantages"][t, i] == pytest.approx(expected, abs=1e-5)
        # and the step before reaches across to it, not to the next episode's first state
        delta = buf["rewards"][t - 1, i] + agent.config.gamma * buf["values"][t, i]
        delta -= buf["values"][t - 1, i]
        lam_gamma = agent.config.gamma * agent.config.gae_lambda
        assert buf["advantages"][t - 1, i] == pytest.approx(delta + lam_gamma * expected, abs=1e-4)


# ------------------------------------------------------------------ schedules


class _Schedule(Callback):
    """The learning rate and clip range of every update, and the weights after each."""

    def __init__(self):
        self.lr, self.clip, self.weights = [], [], []

    def on_log(self, agent, metrics):
        self.lr.append(metrics["charts/learning_rate"])
        self.clip.append(metrics["charts/clip_range"])
        self.weights.append([v.numpy().copy() for v in agent.model.trainable_variables])


def _max_change(before, after):
    return max(float(np.abs(a - b).max()) for a, b in zip(before, after, strict=True))


def test_schedules_anneal_over_the_learn_call_not_total_steps():
    # total_steps says 100k; learn(64) is two rollouts of 32 steps: the updates come after
    # 32 and 64 steps, at progress 1/2 and 1.
    record = _Schedule()
    agent = PPO(small(total_steps=100_000, learning_rate=0.01, clip_range=0.2))
    start = [v.numpy().copy() for v in agent.model.trainable_variables]
    agent.learn(64, record)
    assert record.lr == pytest.approx([0.005, 0.0])
    assert record.clip == pytest.approx([0.1, 0.0])
    # and those are the rates the optimizer used: the first update moves the weights, the
    # last (lr floored at 1e-12) leaves them where they were
    assert _max_change(start, record.weights[0]) > 1e-4
    assert _max_change(record.weights[0], record.weights[1]) < 1e-7


def test_a_second_learn_call_still_learns():
    # total_steps = 64 = the first call: a schedule tied to total_steps would leave the
    # second call at lr 1e-12. Continued, it runs from 64 to 128: updates at 96 and 128.
    agent = PPO(small(total_steps=64, learning_rate=0.01))
    agent.learn(64)
    before = [v.numpy().copy() for v in agent.model.trainable_variables]
    record = _Schedule()
    agent.learn(64, record)
    assert record.lr == pytest.approx([0.01 * (1 - 96 / 128), 0.0])
    assert _max_change(before, record.weights[0]) > 1e-4


def test_a_resumed_run_continues_its_schedule(tmp_path):
    from rl_core.run import RunDirectory
    from rl_core.training import train_agent

    class StopAt(Callback):
        def on_log(self, agent, metrics):
            return agent.num_timesteps < 32

    config = small(total_steps=128, checkpoint_every=32, learning_rate=0.01)
    run = RunDirectory.create("ppo", config.env, path=tmp_path / "run")
    run.write_config("ppo", config, device="cpu")
    train_agent(PPO, config, run, progress=False, callbacks=[StopAt()])  # killed at 32
    # `rl resume`: from the checkpoint at 32 to the run's 128 steps, on the run's schedule;
    # a schedule restarted at each learn() call would run (32 -> 128) from the full lr.
    train_agent(PPO, config, run, progress=False)
    lr = {r["global_step"]: r["charts/learning_rate"] for r in run.read_metrics()}
    assert lr == pytest.approx({s: 0.01 * (1 - s / 128) for s in (32, 64, 96, 128)})
    # `rl resume --steps 256`: the horizon moves to 256 and the lr follows 1 - t / 256
    longer = apply_overrides(config, {"total_steps": 256})
    train_agent(PPO, longer, run, progress=False)
    lr = {r["global_step"]: r["charts/learning_rate"] for r in run.read_metrics()}
    assert lr[160] == pytest.approx(0.01 * (1 - 160 / 256))
    assert lr[256] == 0.0


# ------------------------------------------------------------------ action spaces


class _ShiftedActions(gym.Wrapper):
    """CartPole whose actions are Discrete(2, start=5): 5 pushes left, 6 right."""

    def __init__(self, env):
        super().__init__(env)
        self.action_space = gym.spaces.Discrete(2, start=5)

    def step(self, action):
        if not 5 <= int(action) <= 6:
            raise ValueError(f"action {action} is outside Discrete(2, start=5)")
        return self.env.step(int(action) - 5)


def test_discrete_actions_with_a_start_offset():
    env_id = "rl_test/ShiftedCartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=lambda **kw: _ShiftedActions(gym.make("CartPole-v1")))
    agent = PPO(small(env=env_id))
    agent.learn(32)  # every env step checks its action
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    assert set(agent.predict(obs, deterministic=False)) == {5, 6}
    assert set(agent.predict(obs)) <= {5, 6}


def test_distributions_match_their_closed_forms():
    # Categorical: softmax(log(0.2, 0.3, 0.5)); H = -sum p log p
    p = np.array([0.2, 0.3, 0.5])
    cat = Categorical(tf.constant(np.log(p)[None].repeat(2, 0), tf.float32))
    np.testing.assert_allclose(cat.log_prob(tf.constant([2, 0])), np.log([0.5, 0.2]), rtol=1e-6)
    np.testing.assert_allclose(cat.entropy(), [-(p * np.log(p)).sum()] * 2, rtol=1e-6)
    # Gaussian: two independent dimensions N(1, 0.5^2) and N(-1, 2^2) at a = (2, 0):
    # log N(x; m, s) = -(x - m)^2 / (2 s^2) - log s - log(2 pi) / 2, summed
    gauss = DiagGaussian(tf.constant([[1.0, -1.0]]), tf.math.log(tf.constant([0.5, 2.0])))
    expected = (-2.0 - np.log(0.5)) + (-0.125 - np.log(2.0)) - np.log(2 * np.pi)
    assert float(gauss.log_prob(tf.constant([[2.0, 0.0]]))[0]) == pytest.approx(expected, 1e-6)
    # H = sum(log s + (1 + log 2 pi) / 2)
    entropy = np.log(0.5) + np.log(2.0) + (1 + np.log(2 * np.pi))
    assert float(gauss.entropy()[0]) == pytest.approx(entropy, 1e-6)


def test_importing_ppo_skips_tensorflow_probability_and_keras():
    # Start-up time is most of a short run: TFP (2-8 s) and Keras 3 with matplotlib (about a
    # third of TensorFlow's import) are not needed to train, and must not creep back in.
    import subprocess
    import sys

    code = (
        "import sys, rl_ppo.agent; "
        "print(sorted(m for m in ('tensorflow_probability', 'keras', 'matplotlib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
