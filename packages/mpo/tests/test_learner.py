"""The assembled MPO learner step: its numbers against NumPy, and which loss trains what."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from rl_mpo import MPOConfig
from rl_mpo.learning import MPOLearner
from rl_mpo.networks import Critic, Policy

from rl_core.config import config_from_dict

OBS, B, N = 3, 4, 5


def make_learner(kind: str, action_dim: int, **overrides) -> MPOLearner:
    config = config_from_dict(
        MPOConfig,
        {
            "num_samples": N,
            "jit_compile": False,
            "target_update_period": 1000,
            "device": "cpu",
            **overrides,
        },
    )
    rng = np.random.default_rng(0)
    discrete = kind == "categorical"

    def networks(prefix):
        policy = Policy(OBS, action_dim, kind, (8,), 0.7, 1e-6, rng, name=f"{prefix}policy")
        return policy, Critic(OBS, action_dim, discrete, (8,), rng, name=f"{prefix}critic")

    policy, critic = networks("")
    target_policy, target_critic = networks("target_")
    # Drawn from the same rng after the online ones: the targets differ from the online
    # networks, so a step that reads one where it should read the other gets other numbers.
    return MPOLearner(policy, critic, target_policy, target_critic, config)


def make_batch(learner: MPOLearner, length: int = 1, seed: int = 1) -> tuple[tf.Tensor, ...]:
    rng = np.random.default_rng(seed)
    d = learner.policy.action_dim
    obs = rng.normal(size=(B, length + 1, OBS)).astype(np.float32)
    if learner.discrete:
        actions = rng.integers(0, d, size=(B, length))
        noise = np.zeros((), np.float32)
    else:
        actions = rng.uniform(-1, 1, size=(B, length, d)).astype(np.float32)
        # scaled up so that some E-step samples leave [-1, 1] (the action penalty's case)
        noise = 2.0 * rng.normal(size=(N, B * length, d)).astype(np.float32)
    log_mu = np.log(rng.uniform(0.2, 0.9, size=(B, length))).astype(np.float32)
    rewards = rng.normal(size=(B, length)).astype(np.float32)
    discounts = np.full((B, length), 0.9, np.float32)
    discounts[0, -1] = 0.0  # one terminal transition
    mask = np.ones((B, length), np.float32)
    return tuple(tf.constant(x) for x in (obs, actions, log_mu, rewards, discounts, mask, noise))


def softplus(x):
    return np.log1p(np.exp(x)) + 1e-8


def log_normal(x, mean, std):
    return (-0.5 * ((x - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)).sum(-1)


def logsumexp(x, axis=0):
    m = x.max(axis)
    return m + np.log(np.exp(x - m).sum(axis))


def test_one_continuous_step_against_numpy():
    learner = make_learner("diagonal", 1)
    learner.num_steps.assign(1)  # no target copy at this step: the targets stay different
    obs, actions, log_mu, rewards, discounts, mask, noise = make_batch(learner)
    cfg = learner.config
    # Everything the step reads, evaluated before it changes anything.
    states = obs[:, 1].numpy()
    mu_t, std_t = (x.numpy() for x in learner.target_policy(states))
    mu_o, std_o = (x.numpy() for x in learner.policy(states))
    sampled = mu_t + std_t * noise.numpy()  # [N, B, 1]
    q_s = learner.target_critic(np.repeat(states[None], N, 0), sampled).numpy()  # [N, B]
    q = learner.critic(obs[:, 0], actions[:, 0]).numpy()
    log_t, log_pt = learner.log_temperature.numpy()[0], learner.log_penalty_temperature.numpy()[0]
    log_am, log_as = learner.log_alpha_mean.numpy(), learner.log_alpha_stddev.numpy()
    critic_bias = learner.critic.head.b.numpy().copy()

    # critic: n-step TD to E_{a ~ pi_target} Q_target(x_1, a), 0.5 MSE
    q_target = rewards[:, 0].numpy() + discounts[:, 0].numpy() * q_s.mean(0)
    critic_loss = 0.5 * np.mean((q_target - q) ** 2)
    # E-step: softmax(Q/eta) over the samples, and its temperature dual
    eta = softplus(log_t)
    weights = np.exp(q_s / eta - logsumexp(q_s / eta))
    temperature_loss = eta * (cfg.epsilon + np.mean(logsumexp(q_s / eta) - np.log(N)))
    # MO-MPO action penalty: a second E-step on -|a - clip(a)|
    cost = -np.abs(sampled - np.clip(sampled, -1, 1))[..., 0]
    assert cost.min() < 0  # some samples are out of bounds
    eta_p = softplus(log_pt)
    weights += np.exp(cost / eta_p - logsumexp(cost / eta_p))
    temperature_loss += eta_p * (cfg.epsilon_penalty + np.mean(logsumexp(cost / eta_p) - np.log(N)))
    # decoupled M-step: the mean through N(mu_online, std_target), the std through
    # N(mu_target, std_online), each against the *target* policy's KL
    policy_loss = -np.mean((weights * log_normal(sampled, mu_o, std_t)).sum(0))
    policy_loss -= np.mean((weights * log_normal(sampled, mu_t, std_o)).sum(0))
    kl_mean = ((mu_t - mu_o) ** 2 / (2 * std_t**2)).mean(0)  # per dimension, batch mean
    kl_std = (np.log(std_o / std_t) + std_t**2 / (2 * std_o**2) - 0.5).mean(0)
    alpha_m, alpha_s = softplus(log_am), softplus(log_as)
    kl_penalty = np.sum(alpha_m * kl_mean) + np.sum(alpha_s * kl_std)
    alpha_loss = np.sum(alpha_m * (cfg.epsilon_mean - kl_mean))
    alpha_loss += np.sum(alpha_s * (cfg.epsilon_stddev - kl_std))

    out = learner.update(
        *(x[None] for x in (obs, actions, log_mu, rewards, discounts, mask)), noise=noise[None]
    )
    expected = {
        "critic_loss": critic_loss,
        "temperature_loss": temperature_loss,
        "policy_loss": policy_loss,
        "kl_penalty": kl_penalty,
        "alpha_loss": alpha_loss,
        "kl_mean": kl_mean.sum(),
        "kl_stddev": kl_std.sum(),
        "temperature": eta,
        "alpha_mean": alpha_m.mean(),
        "alpha_stddev": alpha_s.mean(),
        "q_mean": q.mean(),
        "policy_std": std_o.mean(),
    }
    for name, value in expected.items():
        assert float(out[name]) == pytest.approx(float(value), rel=1e-4, abs=1e-5), name

    # Adam's first step moves a parameter by lr g / (|g| + eps / sqrt(1 - beta2)), about lr
    # times the sign of its gradient g. The duals' g carry softplus'(x) = sigmoid(x).
    def adam_step(g, lr):
        return lr * g / (np.abs(g) + 1e-8 / np.sqrt(1 - 0.999))

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    # d/d eta of the temperature dual: eps + mean log mean exp(Q/eta) - E_w[Q] / eta
    d_eta = (
        cfg.epsilon
        + np.mean(logsumexp(q_s / eta) - np.log(N))
        - np.mean((np.exp(q_s / eta - logsumexp(q_s / eta)) * q_s).sum(0)) / eta
    )
    lr = cfg.dual_learning_rate
    expected_t = log_t - adam_step(sigmoid(log_t) * d_eta, lr)
    assert learner.log_temperature.numpy()[0] == pytest.approx(expected_t, abs=1e-6)
    # the multipliers' gradients are epsilon - KL: they fall while the KL is inside its bound
    for var, log_alpha, eps, kl in (
        (learner.log_alpha_mean, log_am, cfg.epsilon_mean, kl_mean),
        (learner.log_alpha_stddev, log_as, cfg.epsilon_stddev, kl_std),
    ):
        expected_alpha = log_alpha - adam_step(sigmoid(log_alpha) * (eps - kl), lr)
        np.testing.assert_allclose(var.numpy(), expected_alpha, atol=1e-6)
    # the critic head's bias: d(critic loss)/db = mean(q - q_target)
    step = adam_step(np.mean(q - q_target), cfg.critic_learning_rate)
    np.testing.assert_allclose(learner.critic.head.b.numpy(), critic_bias - step, atol=1e-6)
    assert int(learner.num_steps.numpy()) == 2


@pytest.mark.parametrize(
    ("kind", "critic_target"),
    [
        ("diagonal", "nstep"),
        ("full", "retrace"),
        ("categorical", "nstep"),
        ("categorical", "retrace"),
    ],
)
def test_critic_policy_and_dual_losses_train_only_their_own_variables(kind, critic_target):
    action_dim = 3 if kind == "categorical" else 2
    learner = make_learner(kind, action_dim, critic_target=critic_target, n_step=3)
    length = 3 if critic_target == "retrace" else 1
    compute = learner._discrete_losses if learner.discrete else learner._continuous_losses
    with tf.GradientTape(persistent=True) as tape:
        out = compute(*make_batch(learner, length))
    critic_loss, policy_loss, dual_loss = out["losses"]
    targets = [*learner.target_policy.named().values(), *learner.target_critic.named().values()]
    groups = {
        "critic": learner.critic_vars,
        "policy": learner.policy_vars,
        "duals": learner.duals,
        "targets": targets,
    }
    for loss_name, loss in (("critic", critic_loss), ("policy", policy_loss), ("duals", dual_loss)):
        for group, variables in groups.items():
            grads = tape.gradient(
                loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
            largest = max(float(tf.reduce_max(tf.abs(g))) for g in grads)
            if group == loss_name:
                assert largest > 0, f"the {loss_name} loss does not train its own variables"
            else:
                assert largest == 0, f"the {loss_name} loss leaks into the {group} variables"


def test_full_covariance_logs_the_standard_deviation_of_sigma():
    learner = make_learner("full", 2)
    # Large off-diagonal entries of the Cholesky factor L: sqrt((L L^T)_ii) differs from L_ii.
    learner.policy.scale_head.b.assign(tf.ones_like(learner.policy.scale_head.b))
    batch = make_batch(learner)
    _, chol = learner.policy(batch[0][:, 1])
    sigma = chol.numpy() @ np.swapaxes(chol.numpy(), -1, -2)
    std = np.sqrt(np.diagonal(sigma, axis1=-2, axis2=-1))
    out = learner._continuous_losses(*batch)
    assert float(out["policy_std"]) == pytest.approx(std.mean(), rel=1e-5)
    assert abs(std.mean() - np.diagonal(chol.numpy(), axis1=-2, axis2=-1).mean()) > 0.1


def test_categorical_policy_logs_its_entropy_not_a_std():
    learner = make_learner("categorical", 3)
    batch = make_batch(learner)
    logits, _ = learner.policy(batch[0][:, 1])
    p = tf.nn.softmax(logits).numpy()
    out = learner.update(*(x[None] for x in batch[:6]), noise=tf.zeros([1]))
    assert "policy_std" not in out
    assert float(out["policy_entropy"]) == pytest.approx(-(p * np.log(p)).sum(-1).mean(), 1e-5)
