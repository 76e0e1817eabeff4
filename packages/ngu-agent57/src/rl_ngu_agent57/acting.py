"""The actor side: batched epsilon-greedy action selection over the env slots of one
process (each slot an actor with its own epsilon and policy index j), the intrinsic
reward of every arriving observation, and the sequence adder.

``select_action(obs)`` and ``observe(...)`` are the whole interface, so a distributed
runner can host the same Actor next to a remote replay.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from rl_core.math import RunningMeanStd
from rl_ngu_agent57.buffer import SequenceAdder
from rl_ngu_agent57.learning import mix_q
from rl_ngu_agent57.networks import EmbeddingNetwork, RecurrentQNetwork, RNDNetworks
from rl_ngu_agent57.novelty import (
    EpisodicMemory,
    ExponentialMeanStd,
    LifelongNovelty,
    intrinsic_rewards,
)


def behaviour_probabilities(greedy: np.ndarray, actions: np.ndarray, eps: np.ndarray, n: int):
    """mu(a|x) of epsilon-greedy: 1 - eps + eps/n for the greedy action, eps/n otherwise."""
    return np.where(actions == greedy, 1.0 - eps + eps / n, eps / n).astype(np.float32)


def _observation_tensor(obs: np.ndarray) -> tf.Tensor:
    """Stored observations as a tensor: uint8 images as they are (the networks scale
    them), anything else as float32."""
    obs = np.asarray(obs)
    return tf.constant(obs) if obs.dtype == np.uint8 else tf.constant(obs, tf.float32)


class QPolicy:
    """Batched recurrent Q-values of one or two networks (mixed through h for two)."""

    def __init__(
        self,
        networks: list[RecurrentQNetwork],
        betas: np.ndarray,
        ri_input_scale: Callable[[], float] | None = None,
    ) -> None:
        self.networks = networks
        self.betas = tf.constant(betas, tf.float32)
        # The running scale of the previous-intrinsic-reward input (intrinsic_input =
        # "running"), read at every call; the learner applies the same one.
        self.ri_input_scale = ri_input_scale
        self._step = tf.function(self._step_graph)

    def _step_graph(self, obs, policy, prev_action, prev_re, prev_ri, state):
        qs, new_state = [], []
        for i, net in enumerate(self.networks):
            q, h, c = net.step(
                obs, policy, prev_action, prev_re, prev_ri, state[:, i, 0], state[:, i, 1]
            )
            qs.append(q)
            new_state.append(tf.stack([h, c], axis=1))
        q = qs[0] if len(qs) == 1 else mix_q(qs[0], qs[1], tf.gather(self.betas, policy))
        return q, tf.stack(new_state, axis=1)

    def __call__(self, obs, policy, prev_action, prev_re, prev_ri, state):
        if self.ri_input_scale is not None:
            prev_ri = np.asarray(prev_ri, np.float32) * np.float32(self.ri_input_scale())
        q, state = self._step(
            _observation_tensor(obs),
            tf.constant(policy, tf.int32),
            tf.constant(prev_action, tf.int32),
            tf.constant(prev_re, tf.float32),
            tf.constant(prev_ri, tf.float32),
            tf.constant(state, tf.float32),
        )
        return q.numpy(), state.numpy()


class Novelty:
    """NGU's intrinsic reward of arriving observations: one graph call for the embeddings
    and RND errors, then the episodic memory and the lifelong modulator in NumPy."""

    def __init__(
        self,
        embedding: EmbeddingNetwork,
        rnd: RNDNetworks,
        memory: EpisodicMemory,
        lifelong: LifelongNovelty,
        obs_stats: RunningMeanStd | None = None,
        freeze_embedding: bool = False,
    ) -> None:
        self.embedding, self.rnd = embedding, rnd
        self.memory, self.lifelong = memory, lifelong
        self.obs_stats = obs_stats
        # Running second moment of r_i, for the scale of the previous-r_i input.
        self.ri_stats = ExponentialMeanStd(lifelong.error_stats.decay)
        # Per slot, the embedding weights of its current episode (NGU Table 6), as
        # [slots, ...] arrays per layer; filled by freeze().
        self.frozen: list[np.ndarray] | None = None
        self.freeze_embedding = freeze_embedding
        self._graph = tf.function(self._features_graph, reduce_retracing=True)

    def _features_graph(self, obs, mean, std, frozen):
        """Embeddings (rows of ``frozen`` weights first, then ``fresh`` rows with the
        current ones) and RND errors (normalized inputs where ``mean`` is given)."""
        if frozen is None:
            embeddings = self.embedding(obs)
        else:
            rows = tf.shape(frozen[0])[0]
            x = self.embedding.embed_rowwise(obs[:rows], frozen)
            embeddings = tf.concat([x, self.embedding(obs[rows:])], axis=0)
        return embeddings, self.rnd.error(obs, mean, std)

    def freeze(self, slots: np.ndarray, num_slots: int) -> None:
        """Slots whose episodes start: their embedding is the current one until they end."""
        current = [v.numpy() for v in self.embedding.embed_variables()]
        if self.frozen is None:
            self.frozen = [np.repeat(c[None], num_slots, axis=0) for c in current]
        for stored, value in zip(self.frozen, current, strict=True):
            stored[slots] = value

    def ri_input_scale(self) -> float:
        """1 / sqrt(running E[r_i^2]): the previous intrinsic reward enters the Q-network at
        a scale of about 1 whatever the environment's novelty levels (1 before any r_i)."""
        if not self.ri_stats.t:
            return 1.0
        second = self.ri_stats.m2 / (1 - self.ri_stats.decay**self.ri_stats.t)
        return float(1.0 / max(np.sqrt(second), 1e-8))

    def obs_normalizer(self) -> tuple[np.ndarray, np.ndarray] | None:
        """RND's input normalization (mean, std) from the running observation statistics,
        or None without them."""
        if self.obs_stats is None:
            return None
        std = np.sqrt(self.obs_stats.var + 1e-8)
        return self.obs_stats.mean.astype(np.float32), std.astype(np.float32)

    def features(
        self,
        obs: np.ndarray,
        update_stats: bool = True,
        frozen_slots: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and RND errors of arriving observations (which also update the
        observation statistics unless ``update_stats`` is False: evaluation). With
        ``frozen_slots`` (and ``freeze_embedding``), row i < len(frozen_slots) is embedded
        with the frozen weights of slot ``frozen_slots[i]``, later rows with the current."""
        if self.obs_stats is not None and update_stats:
            self.obs_stats.update(obs)
        normalizer = self.obs_normalizer()
        mean, std = (None, None) if normalizer is None else map(tf.constant, normalizer)
        frozen = None
        if self.freeze_embedding and frozen_slots is not None and len(frozen_slots):
            frozen = [tf.constant(layer[frozen_slots]) for layer in self.frozen]
        embeddings, errors = self._graph(_observation_tensor(obs), mean, std, frozen)
        return embeddings.numpy(), errors.numpy()


class Actor:
    """``num_slots`` actors stepping a vector env together."""

    def __init__(
        self,
        policy: QPolicy,
        novelty: Novelty,
        adder: SequenceAdder | None,
        num_actions: int,
        epsilons: np.ndarray,
        state_shape: tuple[int, ...],
        choose_policies: Callable[[np.ndarray], np.ndarray],
        end_of_episode: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
        rng: np.random.Generator,
    ) -> None:
        self.policy, self.novelty, self.adder = policy, novelty, adder
        self.num_actions = num_actions
        self.epsilons = np.asarray(epsilons, np.float64)
        n = len(self.epsilons)
        self.slots = np.arange(n)
        self.state = np.zeros((n, *state_shape), np.float32)
        self.prev_action = np.zeros(n, np.int32)
        self.prev_re = np.zeros(n, np.float32)
        self.prev_ri = np.zeros(n, np.float32)
        self.first = np.ones(n, np.float32)
        self.j = np.zeros(n, np.int32)
        self.episode_return = np.zeros(n)
        self.choose_policies = choose_policies
        self._episode_listeners = [end_of_episode]
        self.rng = rng
        self.last_novelty = (0.0, 1.0)  # mean episodic reward and lifelong modulator, last step
        self._obs: np.ndarray | None = None
        self._acted: dict[str, np.ndarray] = {}

    def set_epsilons(self, epsilons: np.ndarray) -> None:
        """The slots' exploration epsilons (a distributed actor takes its rungs of one
        ladder spread over every actor's slots)."""
        epsilons = np.asarray(epsilons, np.float64)
        if epsilons.shape != self.epsilons.shape:
            raise ValueError(f"need {len(self.epsilons)} epsilons, got shape {epsilons.shape}")
        self.epsilons = epsilons

    def add_episode_listener(
        self, listener: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
    ) -> None:
        """Also call ``listener(slots, policies, returns)`` when episodes end."""
        self._episode_listeners.append(listener)

    def reset(self, obs: np.ndarray) -> None:
        """Start episodes in every slot from their first observations."""
        self._start(self.slots, obs)

    def _start(self, slots: np.ndarray, first_obs: np.ndarray, embeddings=None) -> None:
        self.state[slots] = 0.0
        self.prev_action[slots] = 0
        self.prev_re[slots] = 0.0
        self.prev_ri[slots] = 0.0
        self.first[slots] = 1.0
        self.episode_return[slots] = 0.0
        self.j[slots] = self.choose_policies(slots)
        if self.novelty.freeze_embedding:
            self.novelty.freeze(slots, len(self.slots))
        if embeddings is None:
            embeddings, _ = self.novelty.features(first_obs)
        self.novelty.memory.reset(slots)
        self.novelty.memory.add(slots, embeddings)
        if self.adder is not None:
            self.adder.start_episodes(slots, self.j[slots])

    def select_action(self, obs: np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions for all slots (one graph call)."""
        q, next_state = self.policy(
            obs, self.j, self.prev_action, self.prev_re, self.prev_ri, self.state
        )
        greedy = q.argmax(axis=1).astype(np.int32)
        explore = self.rng.random(len(greedy)) < self.epsilons
        random_actions = self.rng.integers(self.num_actions, size=len(greedy), dtype=np.int32)
        actions = np.where(explore, random_actions, greedy).astype(np.int32)
        mu = behaviour_probabilities(greedy, actions, self.epsilons, self.num_actions)
        self._acted = {"obs": obs, "action": actions, "mu": mu, "state": self.state.copy()}
        self.state = next_state
        return actions

    def observe(
        self,
        next_obs: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        final_obs: np.ndarray | None,
    ) -> np.ndarray:
        """The outcome of the last actions (SAME_STEP autoreset: ``next_obs`` rows of ended
        episodes are the next episodes' first observations and ``final_obs`` holds the
        ended ones' last, one row per ended slot in slot order). Returns r_i."""
        done = np.flatnonzero(terminated | truncated)
        arrived = next_obs.copy()
        if len(done):
            arrived[done] = final_obs
        # One graph call: the arrived observations and, for ended slots, the new first ones.
        stacked = np.concatenate([arrived, next_obs[done]]) if len(done) else arrived
        # The arrived rows use their episodes' frozen embedding; the new first ones the
        # current weights, which _start freezes for those slots.
        embeddings, errors = self.novelty.features(stacked, frozen_slots=self.slots)
        n = len(self.slots)
        episodic = self.novelty.memory.query_and_add(self.slots, embeddings[:n])
        modulator = self.novelty.lifelong.modulator(errors[:n])
        ri = intrinsic_rewards(episodic, modulator)
        self.novelty.ri_stats.update(ri)
        self.last_novelty = (float(episodic.mean()), float(modulator.mean()))
        re = rewards.astype(np.float32)
        self.episode_return += rewards
        acted = self._acted
        if self.adder is not None:
            self.adder.add(
                acted["state"],
                obs=acted["obs"],
                action=acted["action"],
                prev_action=self.prev_action,
                prev_re=self.prev_re,
                prev_ri=self.prev_ri,
                re=re,
                ri=ri,
                term=terminated.astype(np.float32),
                first=self.first,
                mu=acted["mu"],
            )
        self.prev_action = acted["action"]
        self.prev_re, self.prev_ri = re, ri
        self.first = np.zeros(n, np.float32)
        if len(done):
            for listener in self._episode_listeners:
                listener(done, self.j[done], self.episode_return[done])
            if self.adder is not None:
                self.adder.end_episodes(
                    done, arrived[done], self.prev_action[done], re[done], ri[done]
                )
            self._start(done, next_obs[done], embeddings[n:])
        return ri
