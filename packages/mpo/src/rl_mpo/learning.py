"""The MPO learner: critic step (n-step TD or Retrace), E-step, M-step and dual descent,
K steps per graph call."""

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
)
"""Metrics of every policy kind; a Gaussian policy adds ``policy_std`` (the mean standard
deviation per action dimension), a categorical one ``policy_entropy`` (nats)."""


class MPOLearner(tf.Module):
    """Owns the online and target networks, the dual variables and the three optimizers.

    ``update`` runs ``K`` gradient steps (one per batch of its ``[K, B, ...]`` inputs) in a
    single ``tf.function`` call; each step follows acme's MPO learner on sequences
    x_0, a_0, .., x_L: the target networks give the critic's target (n-step TD for the
    n-step transitions, L = 1; Retrace for raw sequences, L = n) and the E-step's samples
    at the states x_1 .. x_L, and the policy is improved at those same states.
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
        self.retrace = config.critic_target == "retrace"
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

    def _critic_targets(self, rewards, discounts, mask, log_mu, expected_q, q_taken, log_pi):
        """[B, L] targets: n-step TD (L = 1, the n-step return is in ``rewards``) or Retrace."""
        if not self.retrace:
            return rewards + discounts * expected_q
        return losses.retrace_critic_targets(
            rewards,
            discounts,
            mask,
            q_taken,
            expected_q,
            log_pi,
            log_mu,
            self.config.retrace_lambda,
        )

    @staticmethod
    def _masked_td_loss(q_target, q, mask):
        return 0.5 * tf.reduce_sum(mask * tf.square(q_target - q)) / tf.reduce_sum(mask)

    def _continuous_losses(self, obs, actions, log_mu, rewards, discounts, mask, noise):
        """The critic, policy (M-step) and dual losses of one batch, and the step's metrics.

        Each loss reaches only its own variables (a test checks): the critic's target and
        the E-step's Q values come from the target networks, the M-step sees the E-step's
        weights and the multipliers as constants, and the duals see constant KLs and Qs.
        """
        cfg = self.config
        full = self.policy.kind == "full"
        b, length, d = tf.shape(obs)[0], actions.shape[1], actions.shape[2]
        # The states after each step, x_1 .. x_L, as one flat batch: E_pi Q_target for the
        # critic's target and the E- and M-steps all work there.
        states = tf.reshape(obs[:, 1:], [-1, obs.shape[-1]])
        target_mean, target_scale = self.target_policy(states)
        # Reparametrised draws a = mu + L z from standard normal z [N, B*L, D] made on the host.
        if full:
            sampled = target_mean + tf.einsum("bij,nbj->nbi", target_scale, noise)
        else:
            sampled = target_mean + target_scale * noise
        sampled = tf.stop_gradient(sampled)
        # Q of all N x B*L pairs as one flat batch (one matmul per layer).
        n, bl = cfg.num_samples, tf.shape(states)[0]
        tiled_states = tf.reshape(tf.tile(states[None], [n, 1, 1]), [n * bl, -1])
        flat_q = self.target_critic(tiled_states, tf.reshape(sampled, [n * bl, -1]))
        sampled_q = tf.reshape(flat_q, [n, bl])
        expected_q = tf.reshape(tf.reduce_mean(sampled_q, axis=0), [b, length])
        q_taken = log_pi = None
        if self.retrace:
            # Q_target(x_s, a_s) and log pi_target(a_s|x_s) for the replayed a_1 .. a_{L-1}.
            taken_actions = tf.reshape(actions[:, 1:], [-1, d])
            flat_states = tf.reshape(obs[:, 1:length], [-1, obs.shape[-1]])
            q_taken = tf.reshape(self.target_critic(flat_states, taken_actions), [b, length - 1])

            def first_steps(x):  # [B*L, ...] at x_1 .. x_L -> [B*(L-1), ...] at x_1 .. x_{L-1}
                x = tf.reshape(x, [b, length, *x.shape[1:]])[:, :-1]
                return tf.reshape(x, [-1, *x.shape[2:]])

            taken_mean, taken_scale = first_steps(target_mean), first_steps(target_scale)
            if full:
                flat_log_pi = losses.gaussian(taken_mean, taken_scale, True).log_prob(taken_actions)
            else:
                flat_log_pi = losses.normal_log_prob(taken_actions, taken_mean, taken_scale)
            log_pi = tf.reshape(flat_log_pi, [b, length - 1])
        q_target = tf.stop_gradient(
            self._critic_targets(rewards, discounts, mask, log_mu, expected_q, q_taken, log_pi)
        )

        flat_obs = tf.reshape(obs[:, :length], [-1, obs.shape[-1]])
        q = tf.reshape(self.critic(flat_obs, tf.reshape(actions, [-1, d])), [b, length])
        critic_loss = self._masked_td_loss(q_target, q, mask)

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
        online_mean, online_scale = self.policy(states)
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
        # Full: Sigma = L L^T, so the std of dimension i is the norm of row i of L (not L_ii).
        std = tf.norm(online_scale, axis=-1) if full else online_scale
        return {
            "losses": (
                critic_loss,
                m_step["policy_loss"] + m_step["kl_penalty"],
                temperature_loss + m_step["alpha_loss"],
            ),
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
            "q_mean": tf.reduce_sum(mask * q) / tf.reduce_sum(mask),
            "policy_std": tf.reduce_mean(std),
        }

    def _discrete_losses(self, obs, actions, log_mu, rewards, discounts, mask, noise):
        """As :meth:`_continuous_losses`, for a categorical policy (exact E-step)."""
        cfg = self.config
        b, length = tf.shape(obs)[0], actions.shape[1]
        states = tf.reshape(obs[:, 1:], [-1, obs.shape[-1]])  # x_1 .. x_L, as above
        target_logits, _ = self.target_policy(states)
        target_log_probs = tf.nn.log_softmax(target_logits, axis=-1)  # [B*L, A]
        next_q = self.target_critic(states)  # [B*L, A]
        expected_q = tf.reduce_sum(tf.exp(target_log_probs) * next_q, axis=-1)
        expected_q = tf.reshape(expected_q, [b, length])
        q_taken = log_pi = None
        if self.retrace:
            n_actions = self.policy.action_dim
            taken = actions[:, 1:]

            def at_taken(per_action):  # [B*L, A] at x_1 .. x_L -> [B, L-1] at a_1 .. a_{L-1}
                per_step = tf.reshape(per_action, [b, length, n_actions])[:, :-1]
                return tf.gather(per_step, taken, batch_dims=2)

            q_taken, log_pi = at_taken(next_q), at_taken(target_log_probs)
        q_target = tf.stop_gradient(
            self._critic_targets(rewards, discounts, mask, log_mu, expected_q, q_taken, log_pi)
        )

        q_all = self.critic(tf.reshape(obs[:, :length], [-1, obs.shape[-1]]))
        q = tf.gather(q_all, tf.reshape(actions, [-1]), batch_dims=1)
        q = tf.reshape(q, [b, length])
        critic_loss = self._masked_td_loss(q_target, q, mask)
        temperature = losses.multiplier(self.log_temperature[0])
        # Exact E-step over all A actions, prior pi_target: [A, B*L] layout.
        weights, temperature_loss = losses.weights_and_temperature_loss(
            tf.transpose(next_q), cfg.epsilon, temperature, tf.transpose(target_log_probs)
        )
        online_logits, _ = self.policy(states)
        alpha = losses.multiplier(self.log_alpha_mean)
        m_step = losses.categorical_losses(
            online_logits,
            tf.stop_gradient(target_logits),
            weights,
            alpha,
            cfg.epsilon_categorical,
        )
        log_probs = tf.nn.log_softmax(online_logits)
        return {
            "losses": (
                critic_loss,
                m_step["policy_loss"] + m_step["kl_penalty"],
                temperature_loss + m_step["alpha_loss"],
            ),
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
            "q_mean": tf.reduce_sum(mask * q) / tf.reduce_sum(mask),
            # How far from greedy the categorical policy is (a std has no meaning here).
            "policy_entropy": -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, -1)),
        }

    def _step(self, *batch) -> dict[str, tf.Tensor]:
        """One gradient step: the three losses under one tape, then :meth:`_apply`."""
        compute = self._discrete_losses if self.discrete else self._continuous_losses
        with tf.GradientTape() as tape:
            out = compute(*batch)
            total_loss = tf.add_n(out.pop("losses"))
        self._apply(tape, total_loss)
        return out

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

    def _update(self, obs, actions, log_probs, rewards, discounts, mask, noise):
        """K gradient steps on batches ``[K, B, ...]`` of replayed sequences (the layout of
        :mod:`rl_mpo.buffer`); returns the metrics' means.

        ``noise`` [K, N, B*L, D] are the standard normal draws of the E-step's samples (drawn
        on the host: cheaper than an in-graph generator, and seeded with the agent's rng);
        discrete actions need none (the E-step is exact) and get a [K] placeholder.
        """
        k = tf.shape(obs)[0]
        names = (*METRICS, "policy_entropy" if self.discrete else "policy_std")
        sums = {name: tf.constant(0.0) for name in names}
        for i in tf.range(k):
            if self.num_steps % self.config.target_update_period == 0:
                self._copy_targets()
            out = self._step(
                obs[i], actions[i], log_probs[i], rewards[i], discounts[i], mask[i], noise[i]
            )
            self.num_steps.assign_add(1)
            sums = {name: sums[name] + out[name] for name in names}
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
