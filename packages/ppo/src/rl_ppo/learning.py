"""The PPO update: clipped surrogate, value loss, entropy bonus, all epochs in one graph call."""

from __future__ import annotations

import tensorflow as tf

from rl_core.optim import Adam
from rl_ppo.config import PPOConfig
from rl_ppo.networks import ActorCritic


def clipped_surrogate_loss(ratio: tf.Tensor, advantages: tf.Tensor, clip) -> tf.Tensor:
    """-E[min(r A, clip(r, 1-eps, 1+eps) A)], written as the max of the negated terms."""
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * tf.clip_by_value(ratio, 1.0 - clip, 1.0 + clip)
    return tf.reduce_mean(tf.maximum(pg_loss1, pg_loss2))


def value_loss(new_values, old_values, returns, clip_range: float | None = None) -> tf.Tensor:
    """E[(V - R)^2], the mean squared error as in SB3 (whose ``vf_coef`` the presets use;
    CleanRL and baselines halve it). With ``clip_range``, the max with the error of V
    clipped to V_old +- clip_range, as in baselines and CleanRL (SB3 keeps only the
    clipped term)."""
    v_loss_unclipped = tf.square(new_values - returns)
    if clip_range is None:
        return tf.reduce_mean(v_loss_unclipped)
    v_clipped = old_values + tf.clip_by_value(new_values - old_values, -clip_range, clip_range)
    v_loss_clipped = tf.square(v_clipped - returns)
    return tf.reduce_mean(tf.maximum(v_loss_unclipped, v_loss_clipped))


@tf.autograph.experimental.do_not_convert  # straight-line code: nothing to convert
def ppo_losses(
    model: ActorCritic,
    obs: tf.Tensor,
    actions: tf.Tensor,
    old_logp: tf.Tensor,
    advantages: tf.Tensor,
    returns: tf.Tensor,
    old_values: tf.Tensor,
    clip: tf.Tensor,
    config: PPOConfig,
) -> dict[str, tf.Tensor]:
    """The PPO objective for one minibatch (Schulman et al., 2017, eq. 7 and 9)."""
    dist, new_values = model(obs)
    new_logp = dist.log_prob(actions)
    entropy = tf.reduce_mean(dist.entropy())
    logratio = new_logp - old_logp
    ratio = tf.exp(logratio)
    # k3 estimator of KL(old || new) (Schulman, "Approximating KL divergence"): unbiased, >= 0.
    approx_kl = tf.reduce_mean((ratio - 1.0) - logratio)
    clipfrac = tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip, tf.float32))

    if config.normalize_advantages:
        mean, var = tf.nn.moments(advantages, axes=[0])
        advantages = (advantages - mean) / (tf.sqrt(var) + 1e-8)
    pg_loss = clipped_surrogate_loss(ratio, advantages, clip)
    v_clip = config.clip_value_range if config.clip_value_loss else None
    v_loss = value_loss(new_values, old_values, returns, v_clip)
    loss = pg_loss - config.ent_coef * entropy + config.vf_coef * v_loss
    return {
        "loss": loss,
        "policy_loss": pg_loss,
        "value_loss": v_loss,
        "entropy": entropy,
        "approx_kl": approx_kl,
        "clipfrac": clipfrac,
    }


METRICS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")


def _gatherable(x: tf.Tensor) -> tf.Tensor:
    """uint8 images as float16, once per update, on the update's device.

    TensorFlow has no GPU kernel of ``GatherV2`` for uint8 (``gather_op.cc`` registers
    int32, int64 and the float/bool/complex types), so gathering uint8 minibatches would
    run on the CPU and copy every minibatch to the GPU. float16 holds 0..255 exactly, and
    the encoder casts to float32 and scales as it would the uint8 pixels.
    """
    return tf.cast(x, tf.float16) if x.dtype == tf.uint8 else x


class PPOLearner(tf.Module):
    """Runs every epoch and minibatch of one update inside a single ``tf.function`` call."""

    def __init__(self, model: ActorCritic, config: PPOConfig) -> None:
        super().__init__(name="ppo_learner")
        self.model = model
        self.config = config
        self.optimizer = Adam(
            model.trainable_variables,
            eps=config.adam_eps,
            eps_after_correction=config.adam_eps_after_correction,
        )
        # autograph=False: the loop is an explicit tf.while_loop, which spares the
        # autograph transform on every first call (most of a short run's tracing time).
        self.update = tf.function(self._update, autograph=False)

    def _update(self, obs, actions, old_logp, advantages, returns, old_values, lr, clip, seed):
        """n_epochs passes of minibatch steps as one loop over k = epoch * n_minibatches + i.

        Stops early, as Stable-Baselines3 does, at the first minibatch whose approximate
        KL exceeds 1.5 * target_kl (that step is not taken).
        """
        cfg = self.config
        obs = tf.nest.map_structure(_gatherable, obs)
        first = tf.nest.flatten(obs)[0]  # obs may be a dict (Dict observations)
        n = tf.shape(first)[0]
        mb = cfg.minibatch_size
        n_minibatches = n // mb
        total = cfg.n_epochs * n_minibatches
        variables = self.model.trainable_variables
        batch = (obs, actions, old_logp, advantages, returns, old_values)
        # Static at trace time: a batch from several rollout workers is larger.
        single = first.shape[0] == mb

        def minibatch(k):
            if single:
                return batch  # one minibatch per epoch: the sample order changes nothing
            epoch, i = k // n_minibatches, k % n_minibatches
            # Stateless shuffling: the same seed gives the same minibatches, also on resume.
            keys = tf.random.stateless_uniform([n], seed=seed + tf.stack([0, epoch]))
            idx = tf.argsort(keys)[i * mb : (i + 1) * mb]
            return tf.nest.map_structure(lambda x: tf.gather(x, idx), batch)

        def step(k, stop, steps, sums):
            with tf.GradientTape() as tape:
                out = ppo_losses(self.model, *minibatch(k), clip, cfg)
            too_far = out["approx_kl"] > 1.5 * cfg.target_kl if cfg.target_kl > 0 else False

            def apply():
                grads = tape.gradient(out["loss"], variables)
                grads, _ = tf.clip_by_global_norm(grads, cfg.max_grad_norm)
                self.optimizer.apply(grads, lr)
                return steps + 1.0, tuple(s + out[m] for s, m in zip(sums, METRICS, strict=True))

            if cfg.target_kl > 0:
                steps, sums = tf.cond(too_far, lambda: (steps, sums), apply)
            else:
                steps, sums = apply()
            return k + 1, tf.logical_or(stop, too_far), steps, sums

        zeros = tuple(tf.constant(0.0) for _ in METRICS)
        _, _, steps, sums = tf.while_loop(
            lambda k, stop, steps, sums: tf.logical_and(k < total, tf.logical_not(stop)),
            step,
            (tf.constant(0), tf.constant(False), tf.constant(0.0), zeros),
        )
        metrics = {m: s / tf.maximum(steps, 1.0) for m, s in zip(METRICS, sums, strict=True)}
        metrics["gradient_steps"] = steps
        return metrics
