"""The MPO learner: critic TD step, E-step, M-step and dual descent, K steps per graph call."""

from __future__ import annotations

import tensorflow as tf

from rl_core.optim import Adam
from rl_mpo import losses
from rl_mpo.config import MPOConfig
from rl_mpo.networks import Critic, Policy

METRICS = (
    "critic_loss",
    "policy_loss",
    "kl_penalty",
    "temperature_loss",
    "alpha_loss",
    "kl_mean",
    "kl_stddev",
    "temperature",
    "alpha_mean",
    "alpha_stddev",
    "q_mean",
    "policy_std",
)


class MPOLearner(tf.Module):
    """Owns the online and target networks, the dual variables and the three optimizers.

    ``update`` runs ``K`` gradient steps (one per batch of its ``[K, B, ...]`` inputs) in a
    single ``tf.function`` call; each step follows acme's MPO learner: the target networks
    give the critic's n-step target and the E-step's samples at the next states s', and the
    policy is improved at those same states.
    """

    def __init__(
        self,
        policy: Policy,
        critic: Critic,
        target_policy: Policy,
        target_critic: Critic,
        config: MPOConfig,
    ) -> None:
        super().__init__(name="mpo_learner")
        self.policy, self.critic = policy, critic
        self.target_policy, self.target_critic = target_policy, target_critic
        self.config = config
        self.discrete = policy.kind == "categorical"
        d = policy.action_dim
        per_dim = config.per_dim_constraining and policy.kind == "diagonal"
        n_alpha = d if per_dim else 1
        self.log_temperature = tf.Variable([config.init_log_temperature], name="log_temperature")
        if self.discrete:
            self.log_alpha_mean = tf.Variable([config.init_log_alpha_mean], name="log_alpha")
            self.duals = [self.log_temperature, self.log_alpha_mean]
        else:
            init_mean, init_std = config.init_log_alpha_mean, config.init_log_alpha_stddev
            self.log_alpha_mean = tf.Variable(tf.fill([n_alpha], init_mean), name="log_alpha_mean")
            self.log_alpha_stddev = tf.Variable(
                tf.fill([n_alpha], init_std), name="log_alpha_stddev"
            )
            self.duals = [self.log_temperature, self.log_alpha_mean, self.log_alpha_stddev]
            if config.action_penalization:
                self.log_penalty_temperature = tf.Variable(
                    [config.init_log_temperature], name="log_penalty_temperature"
                )
                self.duals.append(self.log_penalty_temperature)
        self.policy_vars = list(policy.named().values())
        self.critic_vars = list(critic.named().values())
        self.policy_opt = Adam(self.policy_vars, config.policy_learning_rate, name="policy_adam")
        self.critic_opt = Adam(self.critic_vars, config.critic_learning_rate, name="critic_adam")
        self.dual_opt = Adam(self.duals, config.dual_learning_rate, name="dual_adam")
        self.num_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="num_steps")
        self.update = tf.function(self._update, jit_compile=config.jit_compile)

    # ------------------------------------------------------------------ pieces

    def _copy_targets(self) -> None:
        pairs = zip(
            [*self.policy.named().values(), *self.critic.named().values()],
            [*self.target_policy.named().values(), *self.target_critic.named().values()],
            strict=True,
        )
        for online, target in pairs:
            target.assign(online)

    def _continuous_step(self, obs, actions, rewards, discounts, next_obs, noise):
        cfg = self.config
        full = self.policy.kind == "full"
        # Target policy at s': N samples for the E-step and the critic's expectation.
        target_mean, target_scale = self.target_policy(next_obs)
        # Reparametrised draws a = mu + L z from standard normal z [N, B, D] made on the host.
        if full:
            sampled = target_mean + tf.einsum("bij,nbj->nbi", target_scale, noise)
        else:
            sampled = target_mean + target_scale * noise
        sampled = tf.stop_gradient(sampled)
        # Q of all N x B pairs as one flat batch (one matmul per layer).
        n, b = cfg.num_samples, tf.shape(next_obs)[0]
        tiled_next = tf.reshape(tf.tile(next_obs[None], [n, 1, 1]), [n * b, -1])
        flat_q = self.target_critic(tiled_next, tf.reshape(sampled, [n * b, -1]))
        sampled_q = tf.reshape(flat_q, [n, b])
        q_target = tf.stop_gradient(rewards + discounts * tf.reduce_mean(sampled_q, axis=0))

        with tf.GradientTape() as tape:
            q = self.critic(obs, actions)
            critic_loss = 0.5 * tf.reduce_mean(tf.square(q_target - q))

            temperature = losses.multiplier(self.log_temperature[0])
            weights, temperature_loss = losses.weights_and_temperature_loss(
                sampled_q, cfg.epsilon, temperature
            )
            if cfg.action_penalization:
                penalty_weights, penalty_loss = losses.weights_and_temperature_loss(
                    losses.action_penalty_costs(sampled),
                    cfg.epsilon_penalty,
                    losses.multiplier(self.log_penalty_temperature[0]),
                )
                weights += penalty_weights
                temperature_loss += penalty_loss
            online_mean, online_scale = self.policy(next_obs)
            m_step = losses.decoupled_gaussian_losses(
                online_mean,
                online_scale,
                tf.stop_gradient(target_mean),
                tf.stop_gradient(target_scale),
                sampled,
                weights,
                losses.multiplier(self.log_alpha_mean),
                losses.multiplier(self.log_alpha_stddev),
                cfg.epsilon_mean,
                cfg.epsilon_stddev,
                full,
                cfg.per_dim_constraining,
            )
            policy_loss = m_step["policy_loss"] + m_step["kl_penalty"]
            dual_loss = temperature_loss + m_step["alpha_loss"]
            total_loss = critic_loss + policy_loss + dual_loss
        self._apply(tape, total_loss)
        std = online_scale if not full else tf.linalg.diag_part(online_scale)
        return {
            "critic_loss": critic_loss,
            "policy_loss": m_step["policy_loss"],
            "kl_penalty": m_step["kl_penalty"],
            "temperature_loss": temperature_loss,
            "alpha_loss": m_step["alpha_loss"],
            "kl_mean": m_step["kl_mean"],
            "kl_stddev": m_step["kl_stddev"],
            "temperature": temperature,
            "alpha_mean": tf.reduce_mean(losses.multiplier(self.log_alpha_mean)),
            "alpha_stddev": tf.reduce_mean(losses.multiplier(self.log_alpha_stddev)),
            "q_mean": tf.reduce_mean(q),
            "policy_std": tf.reduce_mean(std),
        }

    def _discrete_step(self, obs, actions, rewards, discounts, next_obs, noise):
        cfg = self.config
        target_logits, _ = self.target_policy(next_obs)
        target_log_probs = tf.nn.log_softmax(target_logits, axis=-1)  # [B, A]
        next_q = self.target_critic(next_obs)  # [B, A]
        expected_q = tf.reduce_sum(tf.exp(target_log_probs) * next_q, axis=-1)
        q_target = tf.stop_gradient(rewards + discounts * expected_q)

        with tf.GradientTape() as tape:
            q_all = self.critic(obs)
            q = tf.gather(q_all, actions, batch_dims=1)
            critic_loss = 0.5 * tf.reduce_mean(tf.square(q_target - q))
            temperature = losses.multiplier(self.log_temperature[0])
            # Exact E-step over all A actions, prior pi_target: [A, B] layout.
            weights, temperature_loss = losses.weights_and_temperature_loss(
                tf.transpose(next_q), cfg.epsilon, temperature, tf.transpose(target_log_probs)
            )
            online_logits, _ = self.policy(next_obs)
            alpha = losses.multiplier(self.log_alpha_mean)
            m_step = losses.categorical_losses(
                online_logits,
                tf.stop_gradient(target_logits),
                weights,
                alpha,
                cfg.epsilon_categorical,
            )
            policy_loss = m_step["policy_loss"] + m_step["kl_penalty"]
            dual_loss = temperature_loss + m_step["alpha_loss"]
            total_loss = critic_loss + policy_loss + dual_loss
        self._apply(tape, total_loss)
        probs = tf.nn.softmax(online_logits)
        return {
            "critic_loss": critic_loss,
            "policy_loss": m_step["policy_loss"],
            "kl_penalty": m_step["kl_penalty"],
            "temperature_loss": temperature_loss,
            "alpha_loss": m_step["alpha_loss"],
            "kl_mean": m_step["kl_mean"],
            "kl_stddev": tf.constant(0.0),
            "temperature": temperature,
            "alpha_mean": alpha[0],
            "alpha_stddev": tf.constant(0.0),
            "q_mean": tf.reduce_mean(q),
            # Entropy in place of a std: how far from greedy the categorical policy is.
            "policy_std": -tf.reduce_mean(tf.reduce_sum(probs * tf.math.log(probs + 1e-8), -1)),
        }

    def _apply(self, tape, total_loss) -> None:
        """One backward pass for critic + policy + dual losses: each touches only its own variables
        (the M-step sees constant weights and multipliers, the duals constant KLs and Qs),
        so the gradient of their sum splits into the three gradients."""
        cfg = self.config
        n_critic, n_policy = len(self.critic_vars), len(self.policy_vars)
        grads = tape.gradient(total_loss, self.critic_vars + self.policy_vars + self.duals)
        critic_grads, _ = tf.clip_by_global_norm(grads[:n_critic], cfg.max_grad_norm)
        policy_grads, _ = tf.clip_by_global_norm(
            grads[n_critic : n_critic + n_policy], cfg.max_grad_norm
        )
        self.critic_opt.apply(critic_grads)
        self.policy_opt.apply(policy_grads)
        self.dual_opt.apply(grads[n_critic + n_policy :])
        # acme's projection: keep each dual parameter above -18 so softplus stays > 0.
        for var in self.duals:
            var.assign(tf.maximum(var, losses.MIN_LOG_MULTIPLIER))

    # ------------------------------------------------------------------ update

    def _update(self, obs, actions, rewards, discounts, next_obs, noise):
        """K gradient steps on batches ``[K, B, ...]``; returns the metrics' means.

        ``noise`` [K, N, B, D] are the standard normal draws of the E-step's samples (drawn
        on the host: cheaper than an in-graph generator, and seeded with the agent's rng);
        discrete actions need none (the E-step is exact) and get a [K] placeholder.
        """
        step = self._discrete_step if self.discrete else self._continuous_step
        k = tf.shape(obs)[0]
        sums = {name: tf.constant(0.0) for name in METRICS}
        for i in tf.range(k):
            if self.num_steps % self.config.target_update_period == 0:
                self._copy_targets()
            out = step(obs[i], actions[i], rewards[i], discounts[i], next_obs[i], noise[i])
            self.num_steps.assign_add(1)
            sums = {name: sums[name] + out[name] for name in METRICS}
        n = tf.cast(tf.maximum(k, 1), tf.float32)
        return {name: value / n for name, value in sums.items()}

    def named(self) -> dict[str, tf.Variable]:
        """Every variable of the learner (networks, targets, duals, Adam slots), by name."""
        out: dict[str, tf.Variable] = {}
        for prefix, net in (
            ("online", self.policy),
            ("online", self.critic),
            ("target", self.target_policy),
            ("target", self.target_critic),
        ):
            out.update({f"{prefix}/{k}": v for k, v in net.named().items()})
        out.update({v.name.split(":")[0]: v for v in self.duals})
        names = {id(v): k for k, v in out.items()}
        for opt in (self.policy_opt, self.critic_opt, self.dual_opt):
            out.update(opt.named(names))
        out["num_steps"] = self.num_steps
        return out
