"""The MPO losses: critic targets, E-step weights and temperature dual, decoupled M-step, KL duals.

Pure functions of tensors, in the paper's names (Abdolmaleki et al., 2018, "Maximum a
Posteriori Policy Optimisation" and "Relative Entropy Regularized Policy Iteration"),
following deepmind/acme's ``MPO`` loss. Sample axes come first: ``[N, B]`` for N actions
sampled in each of B states (or A actions of a discrete space, exactly).
"""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_probability as tfp

from rl_core.math import retrace_targets, retrace_traces_from_log_probs

tfd = tfp.distributions

# acme's floors: a multiplier is softplus(log_param) + 1e-8 and log_param >= -18.
MPO_FLOAT_EPSILON = 1e-8
MIN_LOG_MULTIPLIER = -18.0


def multiplier(log_param: tf.Tensor) -> tf.Tensor:
    """A positive dual variable from its unconstrained parameter: softplus(x) + 1e-8."""
    return tf.nn.softplus(log_param) + MPO_FLOAT_EPSILON


def weights_and_temperature_loss(
    q_values: tf.Tensor,
    epsilon: float,
    temperature: tf.Tensor,
    log_prior: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    r"""Non-parametric E-step: q(a|s) weights and the temperature's dual loss.

    With ``log_prior = None`` the N actions were sampled from the target policy, so
    the prior weight of each is 1/N:

    .. math::

        w_{ij} = \mathrm{softmax}_i(Q_{ij}/\eta), \qquad
        g(\eta) = \eta\epsilon + \eta \frac{1}{B}\sum_j \log \frac{1}{N}\sum_i \exp(Q_{ij}/\eta)

    computed as ``logsumexp - log N`` for stability. With ``log_prior`` (the target
    policy's log-probabilities of every discrete action) the expectation is exact:
    ``w = softmax(Q/eta + log pi)`` and the inner mean becomes ``sum_i pi_i exp(Q_i/eta)``.
    Gradients reach only ``temperature`` through ``g``; the weights are constants.
    """
    q_values = tf.stop_gradient(q_values)
    tempered = q_values / temperature
    if log_prior is None:
        n = tf.cast(tf.shape(q_values)[0], q_values.dtype)
        logits, log_norm = tempered, tf.math.log(n)
    else:
        logits, log_norm = tempered + tf.stop_gradient(log_prior), 0.0
    # softmax and logsumexp over axis 0 from one shifted exp (a softmax kernel over a
    # non-last axis costs two transposes); shifting by the max keeps both exact.
    shift = tf.stop_gradient(tf.reduce_max(logits, axis=0))
    exp = tf.exp(logits - shift)
    total = tf.reduce_sum(exp, axis=0)
    weights = tf.stop_gradient(exp / total)
    log_sum_exp = shift + tf.math.log(total)
    log_mean_exp = log_sum_exp - log_norm
    loss = temperature * (epsilon + tf.reduce_mean(log_mean_exp))
    return weights, loss


def kl_penalty_and_dual_loss(
    kl: tf.Tensor, alpha: tf.Tensor, epsilon: float
) -> tuple[tf.Tensor, tf.Tensor]:
    r"""M-step trust region by Lagrangian relaxation (acme's ``compute_parametric_kl_...``).

    ``kl`` is ``[B]`` or ``[B, D]`` (one constraint per action dimension); ``alpha`` has
    the trailing shape. With :math:`\bar{KL}` the batch mean,

    .. math::

        L_{KL} = \sum \mathrm{sg}(\alpha)\,\bar{KL}, \qquad
        L_\alpha = \sum \alpha\,(\epsilon - \mathrm{sg}(\bar{KL}))

    so the policy pays for leaving the trust region and dual descent on ``L_alpha`` grows
    alpha while the KL exceeds epsilon and shrinks it otherwise.
    """
    mean_kl = tf.reduce_mean(kl, axis=0)
    penalty = tf.reduce_sum(tf.stop_gradient(alpha) * mean_kl)
    dual = tf.reduce_sum(alpha * (epsilon - tf.stop_gradient(mean_kl)))
    return penalty, dual


def action_penalty_costs(actions: tf.Tensor) -> tf.Tensor:
    """MO-MPO's action penalty: -||a - clip(a, -1, 1)|| over the last axis (0 inside bounds)."""
    return -tf.norm(actions - tf.clip_by_value(actions, -1.0, 1.0), axis=-1)


def weighted_log_likelihood(log_prob: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """The M-step's weighted maximum likelihood as a loss: -mean_j sum_i w_ij log pi(a_ij|s_j)."""
    return -tf.reduce_mean(tf.reduce_sum(weights * log_prob, axis=0))


def gaussian(mean: tf.Tensor, scale: tf.Tensor, full: bool) -> tfd.Distribution:
    """A diagonal (``scale`` [B, D]) or full (``scale`` = Cholesky factor [B, D, D]) Gaussian."""
    if full:
        return tfd.MultivariateNormalTriL(loc=mean, scale_tril=scale)
    return tfd.Independent(tfd.Normal(mean, scale), reinterpreted_batch_ndims=1)


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def normal_log_prob(x: tf.Tensor, mean: tf.Tensor, std: tf.Tensor) -> tf.Tensor:
    """log N(x; mean, diag(std^2)) summed over the last axis.

    Written out rather than through ``tfd.Independent(tfd.Normal)``: the same numbers
    (a test checks) with a third of the ops, which is most of a small update's cost.
    """
    z = (x - mean) / std
    return tf.reduce_sum(-0.5 * tf.square(z) - tf.math.log(std) - _HALF_LOG_2PI, axis=-1)


def normal_kl(mean1: tf.Tensor, std1: tf.Tensor, mean2: tf.Tensor, std2: tf.Tensor) -> tf.Tensor:
    """KL(N(mean1, std1^2) || N(mean2, std2^2)) per dimension:
    log(std2/std1) + (std1^2 + (mean1 - mean2)^2) / (2 std2^2) - 1/2."""
    return (
        tf.math.log(std2 / std1)
        + (tf.square(std1) + tf.square(mean1 - mean2)) / (2.0 * tf.square(std2))
        - 0.5
    )


def decoupled_gaussian_losses(
    online_mean: tf.Tensor,
    online_scale: tf.Tensor,
    target_mean: tf.Tensor,
    target_scale: tf.Tensor,
    actions: tf.Tensor,
    weights: tf.Tensor,
    alpha_mean: tf.Tensor,
    alpha_stddev: tf.Tensor,
    epsilon_mean: float,
    epsilon_stddev: float,
    full: bool,
    per_dim_constraining: bool,
) -> dict[str, tf.Tensor]:
    r"""Decoupled M-step (Abdolmaleki et al., 2018b, sec. 4.2; acme's ``MPO``).

    The mean is fitted through :math:`\pi(\mu_\theta, \Sigma_{target})` and the covariance
    through :math:`\pi(\mu_{target}, \Sigma_\theta)`, each under its own KL bound
    :math:`KL(\pi_{target} \| \cdot)`, so the covariance cannot shrink to chase the mean.
    ``actions`` [N, B, D] and ``weights`` [N, B] come from the E-step. ``*_scale`` are
    standard deviations [B, D], or Cholesky factors [B, D, D] when ``full``.
    """
    if full:
        fixed_stddev = gaussian(online_mean, target_scale, full)
        fixed_mean = gaussian(target_mean, online_scale, full)
        log_prob_mean = fixed_stddev.log_prob(actions)
        log_prob_stddev = fixed_mean.log_prob(actions)
        target = gaussian(target_mean, target_scale, full)
        kl_mean = target.kl_divergence(fixed_stddev)  # [B]
        kl_stddev = target.kl_divergence(fixed_mean)
    else:
        log_prob_mean = normal_log_prob(actions, online_mean, target_scale)
        log_prob_stddev = normal_log_prob(actions, target_mean, online_scale)
        kl_mean = normal_kl(target_mean, target_scale, online_mean, target_scale)  # [B, D]
        kl_stddev = normal_kl(target_mean, target_scale, target_mean, online_scale)
        if not per_dim_constraining:
            kl_mean = tf.reduce_sum(kl_mean, axis=-1)
            kl_stddev = tf.reduce_sum(kl_stddev, axis=-1)
    loss_policy_mean = weighted_log_likelihood(log_prob_mean, weights)
    loss_policy_stddev = weighted_log_likelihood(log_prob_stddev, weights)
    penalty_mean, dual_mean = kl_penalty_and_dual_loss(kl_mean, alpha_mean, epsilon_mean)
    penalty_stddev, dual_stddev = kl_penalty_and_dual_loss(kl_stddev, alpha_stddev, epsilon_stddev)

    def total_kl(kl: tf.Tensor) -> tf.Tensor:
        # Per state, summed over the dimensions when constrained per dimension.
        return tf.reduce_mean(kl if kl.shape.rank == 1 else tf.reduce_sum(kl, axis=-1))

    return {
        "policy_loss": loss_policy_mean + loss_policy_stddev,
        "kl_penalty": penalty_mean + penalty_stddev,
        "alpha_loss": dual_mean + dual_stddev,
        "kl_mean": total_kl(kl_mean),
        "kl_stddev": total_kl(kl_stddev),
    }


def categorical_losses(
    online_logits: tf.Tensor,
    target_logits: tf.Tensor,
    weights: tf.Tensor,
    alpha: tf.Tensor,
    epsilon: float,
) -> dict[str, tf.Tensor]:
    """M-step for a categorical policy over all A actions exactly.

    ``weights`` [A, B] are the E-step's q(a|s); the loss is -E_s sum_a q(a|s) log pi(a|s)
    plus the KL(pi_target || pi) trust region with its multiplier.
    """
    online_log_probs = tf.nn.log_softmax(online_logits, axis=-1)  # [B, A]
    target_log_probs = tf.nn.log_softmax(target_logits, axis=-1)
    # KL(pi_target || pi) = sum_a pi_target(a) (log pi_target(a) - log pi(a)), [B]
    kl = tf.reduce_sum(tf.exp(target_log_probs) * (target_log_probs - online_log_probs), -1)
    penalty, dual = kl_penalty_and_dual_loss(kl, alpha, epsilon)
    return {
        "policy_loss": weighted_log_likelihood(tf.transpose(online_log_probs), weights),
        "kl_penalty": penalty,
        "alpha_loss": dual,
        "kl_mean": tf.reduce_mean(kl),
    }


def retrace_critic_targets(
    rewards: tf.Tensor,
    discounts: tf.Tensor,
    mask: tf.Tensor,
    q_taken: tf.Tensor,
    expected_q: tf.Tensor,
    target_log_probs: tf.Tensor,
    behaviour_log_probs: tf.Tensor,
    lam: float,
) -> tf.Tensor:
    """Retrace targets [B, L] for Q(x_t, a_t), t = 0 .. L-1, of B replayed sequences.

    ``rewards``, ``discounts`` (gamma (1 - term)), ``mask`` and ``behaviour_log_probs``
    log mu(a_t|x_t) are [B, L]; ``expected_q`` = E_pi Q_target(x_s, .) is [B, L] for
    s = 1 .. L; ``q_taken`` = Q_target(x_s, a_s) and ``target_log_probs`` log pi(a_s|x_s)
    are [B, L-1] for s = 1 .. L-1. The trace c_s = lam min(1, pi/mu) is cut to 0 at padding
    (mask 0) and at x_L, whose action is not in the sequence, so the last valid step
    bootstraps from E_pi Q_target alone.
    """
    traces = retrace_traces_from_log_probs(target_log_probs, behaviour_log_probs[:, 1:], lam)
    traces *= mask[:, 1:]
    pad = tf.zeros_like(rewards[:, :1])
    # rl_core's per-state inputs run over x_0 .. x_L; the x_0 entries are never read.
    per_state = [
        tf.concat(parts, axis=1)
        for parts in ([pad, q_taken, pad], [pad, expected_q], [pad, traces, pad])
    ]
    targets = retrace_targets(
        tf.transpose(rewards), tf.transpose(discounts), *(tf.transpose(x) for x in per_state)
    )
    return tf.transpose(targets)
