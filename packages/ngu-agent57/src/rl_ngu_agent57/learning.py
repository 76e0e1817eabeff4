"""Losses and the learner step: transformed n-step double Q (R2D2/NGU) and transformed
Retrace on two heads (Agent57), plus the embedding and RND losses of NGU's novelty.

Every learner step (all losses, all gradient updates) is one ``tf.function`` call.
Sequences arrive batch-major ``[B, S, ...]`` and are made time-major inside the graph.
Position t holds observation x_t and, where ``valid[t]``, the transition
(x_t, a_t, r_t, x_{t+1}) whose next observation is at position t+1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from rl_core.math import h, h_inv, retrace_targets, retrace_traces
from rl_core.optim import Adam
from rl_ngu_agent57.networks import EmbeddingNetwork, RecurrentQNetwork, RNDNetworks


def mix_q(q_extrinsic: tf.Tensor, q_intrinsic: tf.Tensor, beta: tf.Tensor) -> tf.Tensor:
    """Agent57's combination of rescaled heads: Q = h(h^-1(Q_e) + beta * h^-1(Q_i)).

    ``beta`` broadcasts against the leading dims of the Q-values ``[..., A]``.
    """
    beta = tf.convert_to_tensor(beta, q_extrinsic.dtype)[..., None]
    return h(h_inv(q_extrinsic) + beta * h_inv(q_intrinsic))


def n_step_targets(
    rewards: tf.Tensor,
    discounts: tf.Tensor,
    valid: tf.Tensor,
    bootstrap: tf.Tensor,
    n: int,
) -> tf.Tensor:
    r"""Raw n-step targets for transitions t = 0..T-1 of time-major ``[T, B]`` sequences.

    .. math::

        G^{(1)}_t = r_t + d_t V(x_{t+1}), \qquad
        G^{(k)}_t = r_t + d_t \begin{cases} V(x_{t+1}) & \mathrm{cut}_t \\
                                          G^{(k-1)}_{t+1} & \text{otherwise} \end{cases}

    with ``d_t = gamma (1 - terminated_t)``, ``bootstrap[s] = V(x_s)`` for s = 0..T
    (shape ``[T + 1, B]``) and ``cut_t`` where transition t+1 is not a real transition
    (the episode ended after t, or t = T-1): the window never looks past an episode end.
    """
    boot_next = bootstrap[1:]
    cut = tf.concat([1.0 - valid[1:], tf.ones_like(valid[:1])], axis=0)
    target = rewards + discounts * boot_next
    for _ in range(n - 1):
        following = tf.concat([target[1:], tf.zeros_like(target[:1])], axis=0)
        target = rewards + discounts * (cut * boot_next + (1.0 - cut) * following)
    return target


def sequence_priorities(td: tf.Tensor, mask: tf.Tensor, eta: float) -> tf.Tensor:
    """R2D2's priority per sequence: eta * max_t |delta_t| + (1 - eta) * mean_t |delta_t|
    over the trained steps ``mask`` (time-major ``[T, B]``)."""
    abs_td = tf.abs(td) * mask
    count = tf.maximum(tf.reduce_sum(mask, axis=0), 1.0)
    return eta * tf.reduce_max(abs_td, axis=0) + (1.0 - eta) * tf.reduce_sum(abs_td, 0) / count


def _take(q: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    return tf.gather(q, actions, axis=-1, batch_dims=actions.shape.rank)


def epsilon_greedy_probs(greedy: tf.Tensor, num_actions: int, epsilon: float, dtype) -> tf.Tensor:
    """pi(.|x) of the epsilon-greedy policy on ``greedy`` actions: ``[..., A]`` with
    1 - eps + eps/A on the greedy action and eps/A elsewhere."""
    one_hot = tf.one_hot(greedy, num_actions, dtype=dtype)
    return (1.0 - epsilon) * one_hot + epsilon / num_actions


def transformed_retrace(
    q_target: tf.Tensor,
    actions: tf.Tensor,
    greedy: tf.Tensor,
    mu: tf.Tensor,
    valid: tf.Tensor,
    rewards: tf.Tensor,
    discounts: tf.Tensor,
    lam: float,
    target_epsilon: float = 0.0,
) -> tf.Tensor:
    """Transformed Retrace targets h(Q^ret_t) (NGU section 3, Agent57 section 4.1) for the
    target policy pi epsilon-greedy (``target_epsilon``; NGU Table 6: 0.01) on ``greedy``.

    Time-major: ``q_target`` [T+1, B, A] are h-rescaled target-network values, ``actions``,
    ``greedy`` (the argmax of the online network: double Q), ``mu`` (stored behaviour
    probabilities) and ``valid`` are [T+1, B]; ``rewards`` and ``discounts`` [T, B].
    The traces are c_s = lambda min(1, pi(a_s|x_s) / mu(a_s|x_s)): with epsilon > 0 a
    non-greedy action keeps the trace lambda * (eps/A) / mu(a_s|x_s), so the stored mu
    matters (with epsilon = 0 it would not: c_s = lambda 1[a_s = greedy_s]). Positions
    without a real action (episode end, padding) get c_s = 0, which cuts the trace.
    E_pi h^-1(Q(x_s, .)) = sum_a pi(a|x_s) h^-1(Q(x_s, a)).
    """
    pi = epsilon_greedy_probs(greedy, q_target.shape[-1], target_epsilon, q_target.dtype)
    pi_taken = _take(pi, actions)
    mu = tf.where(valid > 0, mu, 1.0)  # no action taken there: any positive mu, trace is 0
    traces = retrace_traces(pi_taken, mu, lam) * valid
    return retrace_targets(
        rewards,
        discounts,
        _take(q_target, actions),
        tf.reduce_sum(pi * h_inv(q_target), axis=-1),
        traces,
        transform=(h, h_inv),
    )


def mixed_td(
    target_e: tf.Tensor,
    target_i: tf.Tensor,
    q_e: tf.Tensor,
    q_i: tf.Tensor,
    beta: tf.Tensor,
) -> tf.Tensor:
    """The TD error of Agent57's mixed Q, for the replay priority: with targets and Q-values
    of the two heads in h-space ``[T, B]`` and ``beta`` ``[B]``,
    delta = h(h^-1(y_e) + beta h^-1(y_i)) - h(h^-1(Q_e) + beta h^-1(Q_i)).

    Agent57 prioritizes as R2D2 (eta max|delta| + (1 - eta) mean|delta|); this is the error
    of the Q-function it acts with. The signed sum delta_e + delta_i used before cancels
    where the heads err in opposite directions and ignores beta_j."""
    return h(h_inv(target_e) + beta * h_inv(target_i)) - h(h_inv(q_e) + beta * h_inv(q_i))


def heads_td(td_e: tf.Tensor, td_i: tf.Tensor) -> tf.Tensor:
    """|delta_e| + |delta_i|: the TD error behind Agent57's replay priority
    (``priority_td = "heads"``). Both networks train on every sequence at full weight, so
    a sequence is worth sampling when either has something to learn from it. The mixed
    error (:func:`mixed_td`) weighs delta_i by beta_j: the sequences of j = 0 (beta 0) then
    carry only their extrinsic error, almost nil before the first reward, and the
    exploitative policies' own sequences are rarely replayed (benchmarks/ngu_agent57_notes.md)."""
    return tf.abs(td_e) + tf.abs(td_i)


def clip_per_network(grads: list, sizes: list[int], max_norm: float) -> list:
    """Clip the gradient norm of each network on its own: ``grads`` is the concatenation of
    the networks' gradient lists, ``sizes`` their lengths. Agent57's extrinsic and intrinsic
    networks are two networks; one global norm would let the intrinsic head's larger errors
    shrink the extrinsic head's steps."""
    clipped, start = [], 0
    for size in sizes:
        part, _ = tf.clip_by_global_norm(grads[start : start + size], max_norm)
        clipped += part
        start += size
    return clipped


def novelty_masks(valid: tf.Tensor, last_steps: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Which stored steps of time-major sequences ``valid`` [S, B] train the novelty networks.

    Returns ``observed`` [S, B] (RND: every real observation, including the final
    observation of an episode, which has no action and so ``valid`` 0 but follows a valid
    step) and ``transitions`` [S - 1, B] (inverse dynamics: real transitions whose next
    observation is stored). With ``last_steps`` > 0 each keeps only the last
    ``last_steps`` of its sequence (NGU App. A trains them on the last 5 steps).
    """
    previous = tf.concat([tf.zeros_like(valid[:1]), valid[:-1]], axis=0)
    observed = tf.maximum(valid, previous * (1.0 - valid))
    transitions = valid[:-1]
    if last_steps > 0:

        def last(mask: tf.Tensor) -> tf.Tensor:
            from_end = tf.cumsum(mask, axis=0, reverse=True)
            return mask * tf.cast(from_end <= last_steps, mask.dtype)

        observed, transitions = last(observed), last(transitions)
    return observed, transitions


class Learner:
    """The learner side: online and target networks, novelty networks, optimizers, and
    ``step(batch)``. Subclasses give the Q-loss (NGU: one network, Agent57: two)."""

    head_names: tuple[str, ...] = ("q",)

    def __init__(
        self,
        q_networks: dict[str, tuple[RecurrentQNetwork, RecurrentQNetwork]],
        embedding: EmbeddingNetwork,
        rnd: RNDNetworks,
        betas: np.ndarray,
        gammas: np.ndarray,
        config: Any,
        rnd_normalizer: Callable[[], tuple[np.ndarray, np.ndarray] | None] | None = None,
        ri_input_scale: Callable[[], float] | None = None,
    ) -> None:
        self.ri_input_scale = ri_input_scale
        self.q_networks = q_networks
        # The actors' running observation statistics for RND's inputs, read at each step.
        self.rnd_normalizer = rnd_normalizer
        self.embedding = embedding
        self.rnd = rnd
        self.betas = tf.constant(betas, tf.float32)
        self.gammas = tf.constant(gammas, tf.float32)
        self.config = config
        self.q_variables = [
            v for online, _ in q_networks.values() for v in online.trainable_variables
        ]
        self.head_sizes = [len(online.trainable_variables) for online, _ in q_networks.values()]
        self.novelty_variables = [
            *embedding.trainable_variables,
            *rnd.predictor.trainable_variables,
        ]
        self.q_optimizer = Adam(self.q_variables, config.learning_rate, eps=config.adam_eps)
        self.novelty_optimizer = Adam(
            self.novelty_variables, config.novelty_learning_rate, eps=config.adam_eps
        )
        self.steps = 0
        self.sync_target()
        self._step = tf.function(self._step_graph)
        # Actors send batches of varying size: trace once for any batch size.
        self._priorities = tf.function(self._priorities_graph, reduce_retracing=True)

    def _acting_inputs(self) -> dict[str, tf.Tensor]:
        """The actors' running statistics a step reads: RND's observation normalization and
        the scale of the previous-r_i input (where those are on)."""
        out = {}
        normalizer = self.rnd_normalizer() if self.rnd_normalizer is not None else None
        if normalizer is not None:
            out["rnd_obs_mean"], out["rnd_obs_std"] = map(tf.constant, normalizer)
        if self.ri_input_scale is not None:
            out["ri_input_scale"] = tf.constant(self.ri_input_scale(), tf.float32)
        return out

    def sync_target(self) -> None:
        for online, target in self.q_networks.values():
            for src, dst in zip(online.variables, target.variables, strict=True):
                dst.assign(src)

    def step(self, batch: dict[str, np.ndarray]) -> tuple[dict[str, float], np.ndarray]:
        """One gradient step on a batch of sequences; returns metrics and new priorities."""
        tensors = {k: tf.constant(v) for k, v in batch.items()} | self._acting_inputs()
        metrics, priorities = self._step(tensors)
        self.steps += 1
        if self.steps % self.config.target_update_period == 0:
            self.sync_target()
        return {k: float(v) for k, v in metrics.items()}, priorities.numpy()

    # ------------------------------------------------------------------ graph

    def _unroll(self, net: RecurrentQNetwork, b: dict, head: int, burn_in: int) -> tf.Tensor:
        return net.unroll(
            b["obs"], b["policy"], b["prev_action"], b["prev_re"],
            b["prev_ri"] * b.get("ri_input_scale", 1.0), b["first"],
            b["state"][:, head, 0], b["state"][:, head, 1], burn_in=burn_in,
        )  # fmt: skip

    def _q_loss(self, b: dict, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, dict]:
        raise NotImplementedError

    def _novelty_loss(self, b: dict) -> tuple[tf.Tensor, dict]:
        """Inverse-dynamics cross-entropy (+ L2 on the action predictor) and the RND error,
        on the novelty masks of :func:`novelty_masks` (NGU App. A)."""
        cfg = self.config
        obs = b["obs"]
        observed, transitions = novelty_masks(b["valid"], cfg.novelty_train_steps)
        # [T - 1, B, *obs_shape] -> [(T - 1) * B, *obs_shape] (flat vectors or images)
        shape = [-1, *obs.shape[2:]]
        flat = tf.reshape(obs[:-1], shape)
        next_flat = tf.reshape(obs[1:], shape)
        actions = tf.reshape(b["action"][:-1], [-1])
        mask = tf.reshape(transitions, [-1])
        logits = self.embedding.action_logits(flat, next_flat)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
        inverse_loss = tf.reduce_sum(ce * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
        l2 = tf.add_n([tf.reduce_sum(tf.square(w)) for w in self.embedding.classifier_weights()])
        all_obs = tf.reshape(obs, shape)
        obs_mask = tf.reshape(observed, [-1])
        rnd_errors = self.rnd.error(all_obs, b.get("rnd_obs_mean"), b.get("rnd_obs_std"))
        rnd_loss = tf.reduce_sum(rnd_errors * obs_mask) / tf.maximum(tf.reduce_sum(obs_mask), 1.0)
        return inverse_loss + cfg.inverse_dynamics_l2 * l2 + rnd_loss, {
            "inverse_dynamics_loss": inverse_loss,
            "rnd_loss": rnd_loss,
        }

    def _time_major(self, batch: dict) -> tuple[dict, tf.Tensor]:
        """The batch time-major, and the mask ``[T, B]`` of the transitions it trains."""
        b = dict(batch)
        for key, value in batch.items():
            if value.shape.rank >= 2 and key != "state":
                b[key] = tf.experimental.numpy.swapaxes(value, 0, 1)
        # Trained transitions: real ones after the burn-in, whose next state is stored.
        steps = b["valid"].shape[0]
        trained = np.zeros((steps - 1, 1), np.float32)
        trained[self.config.burn_in :] = 1.0
        # A sequence that starts at an episode start (after front padding) has nothing to
        # warm up, but its padding already sits inside the burn-in window, so the rule
        # "positions >= burn_in" trains every real step of it.
        return b, b["valid"][:-1] * trained

    def priorities(self, sequences: dict[str, np.ndarray]) -> np.ndarray:
        """The priorities :meth:`step` would give ``sequences``, without training on them.

        Distributed actors use it, on their copy of the networks, for the initial
        priorities of the sequences they send (as in Ape-X and R2D2).
        """
        batch = {k: tf.constant(v) for k, v in sequences.items()} | self._acting_inputs()
        batch["weights"] = tf.ones(len(sequences["policy"]), tf.float32)
        return self._priorities(batch).numpy()

    def _priorities_graph(self, batch: dict) -> tf.Tensor:
        b, mask = self._time_major(batch)
        _, td, _ = self._q_loss(b, mask)
        return sequence_priorities(td, mask, self.config.priority_eta)

    def _step_graph(self, batch: dict) -> tuple[dict, tf.Tensor]:
        b, mask = self._time_major(batch)
        with tf.GradientTape(persistent=True) as tape:
            q_loss, td, q_metrics = self._q_loss(b, mask)
            novelty_loss, novelty_metrics = self._novelty_loss(b)
        q_grads = tape.gradient(q_loss, self.q_variables)
        grad_norm = tf.linalg.global_norm(q_grads)
        if self.config.grad_clip == "per_head":
            q_grads = clip_per_network(q_grads, self.head_sizes, self.config.max_grad_norm)
        else:
            q_grads, _ = tf.clip_by_global_norm(q_grads, self.config.max_grad_norm)
        self.q_optimizer.apply(q_grads)
        self.novelty_optimizer.apply(tape.gradient(novelty_loss, self.novelty_variables))
        del tape
        priorities = sequence_priorities(td, mask, self.config.priority_eta)
        metrics = {"q_loss": q_loss, "grad_norm": grad_norm, **q_metrics, **novelty_metrics}
        return metrics, priorities


class NGULearner(Learner):
    """NGU: one Q-network on r_e + beta_j r_i with discount gamma_j, trained with transformed
    Retrace double Q-learning toward an epsilon-greedy target policy (NGU section 3 and
    Table 6: lambda 0.95, target epsilon 0.01); ``q_target = "nstep"`` gives R2D2's
    transformed n-step double Q instead: y = h(sum_k gamma^k r_{t+k} + gamma^n
    h^-1(Q_target(x_{t+n}, argmax_a Q(x_{t+n}, a))))."""

    head_names = ("q",)

    def _q_loss(self, b, mask):
        cfg = self.config
        online, target = self.q_networks["q"]
        q = self._unroll(online, b, 0, cfg.burn_in)
        q_target = tf.stop_gradient(self._unroll(target, b, 0, 0))
        beta = tf.gather(self.betas, b["policy"])
        gamma = tf.gather(self.gammas, b["policy"])
        rewards = (b["re"] + beta * b["ri"])[:-1]
        greedy = tf.argmax(q, axis=-1, output_type=tf.int32)
        if cfg.q_target == "retrace":
            discounts = gamma * (1.0 - b["term"][:-1]) * b["valid"][:-1]
            targets = transformed_retrace(
                q_target, b["action"], greedy, b["mu"], b["valid"], rewards, discounts,
                cfg.retrace_lambda, cfg.target_epsilon,
            )  # fmt: skip
        else:
            discounts = gamma * (1.0 - b["term"][:-1])
            bootstrap = h_inv(_take(q_target, greedy))
            targets = h(n_step_targets(rewards, discounts, b["valid"][:-1], bootstrap, cfg.n_step))
        td = tf.stop_gradient(targets) - _take(q[:-1], b["action"][:-1])
        per_sequence = tf.reduce_sum(0.5 * tf.square(td) * mask, axis=0)
        loss = tf.reduce_mean(b["weights"] * per_sequence)
        return loss, td, {"q_values": tf.reduce_sum(_take(q[:-1], greedy[:-1]) * mask)
                          / tf.maximum(tf.reduce_sum(mask), 1.0)}  # fmt: skip


class Agent57Learner(Learner):
    """Agent57: extrinsic and intrinsic Q-networks, each trained on its own reward with
    transformed Retrace(lambda) toward the epsilon-greedy policy (``target_epsilon``) of the
    mixed Q = h(h^-1(Q_e) + beta_j h^-1(Q_i)), with traces c_s = lambda min(1, pi/mu) from
    the stored behaviour probabilities mu(a_s|x_s). The replay priority is R2D2's, on
    |delta_e| + |delta_i| (:func:`heads_td`) or, with ``priority_td = "mixed"``, on the TD
    error of the mixed Q (:func:`mixed_td`)."""

    head_names = ("extrinsic", "intrinsic")

    def _q_loss(self, b, mask):
        cfg = self.config
        beta = tf.gather(self.betas, b["policy"])
        gamma = tf.gather(self.gammas, b["policy"])
        q_online, q_target = {}, {}
        for head, name in enumerate(self.head_names):
            online, target = self.q_networks[name]
            q_online[name] = self._unroll(online, b, head, cfg.burn_in)
            q_target[name] = tf.stop_gradient(self._unroll(target, b, head, 0))
        mixed = mix_q(q_online["extrinsic"], q_online["intrinsic"], beta[None])
        greedy = tf.argmax(mixed, axis=-1, output_type=tf.int32)  # the target policy pi
        actions = b["action"]
        valid = b["valid"]
        discounts = gamma * (1.0 - b["term"][:-1]) * valid[:-1]
        rewards = {"extrinsic": b["re"][:-1], "intrinsic": b["ri"][:-1]}
        total_loss, targets, metrics, td = 0.0, {}, {}, {}
        for name in self.head_names:
            targets[name] = transformed_retrace(
                q_target[name],
                actions,
                greedy,
                b["mu"],
                valid,
                rewards[name],
                discounts,
                cfg.retrace_lambda,
                cfg.target_epsilon,
            )
            td[name] = targets[name] - _take(q_online[name][:-1], actions[:-1])
            per_sequence = tf.reduce_sum(0.5 * tf.square(td[name]) * mask, axis=0)
            loss = tf.reduce_mean(b["weights"] * per_sequence)
            total_loss += loss
            metrics[f"{name}_loss"] = loss
        metrics["q_values"] = tf.reduce_sum(_take(mixed[:-1], greedy[:-1]) * mask) / tf.maximum(
            tf.reduce_sum(mask), 1.0
        )
        if cfg.priority_td == "heads":
            priority_td = heads_td(td["extrinsic"], td["intrinsic"])
        else:
            priority_td = mixed_td(
                targets["extrinsic"],
                targets["intrinsic"],
                _take(q_online["extrinsic"][:-1], actions[:-1]),
                _take(q_online["intrinsic"][:-1], actions[:-1]),
                beta,
            )
        return total_loss, tf.stop_gradient(priority_td), metrics
