"""MPO: act with the online policy, stage n-step transitions or Retrace sequences, replay,
fused learner calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.envs import make_training_envs
from rl_core.episode_stats import EpisodeStats
from rl_core.errors import ConfigError
from rl_core.replay import REPLAY_FILE, ReplayBuffer, is_compact_space, load_replay, save_replay
from rl_core.spaces import check_observation_space
from rl_core.weights import load_variables, save_variables
from rl_mpo.buffer import NStepWriter, SequenceWriter
from rl_mpo.config import MPOConfig
from rl_mpo.learning import MPOLearner
from rl_mpo.networks import Critic, NumpyPolicy, Policy

OBSERVATIONS = ("flat",)
"""The observation kinds MPO trains on (:mod:`rl_core.spaces`): its torso is an MLP."""


class MPO(Agent[MPOConfig]):
    """Maximum a Posteriori Policy Optimisation with decoupled KL constraints.

    >>> agent = MPO(MPOConfig(env="Pendulum-v1", seed=0))
    >>> agent.learn(20_000)
    >>> actions = agent.predict(observations)
    """

    algorithm = "mpo"
    distribution = "rl-mpo"
    config_class = MPOConfig

    def __init__(self, config: MPOConfig) -> None:
        super().__init__(config)
        self.envs = make_training_envs(config, "mpo")
        obs_space = self.envs.single_observation_space
        check_observation_space(obs_space, OBSERVATIONS, "mpo", config.env)
        action_space = self.envs.single_action_space
        # The env's first action (Discrete(n, start=s) takes s .. s+n-1); the policy's and
        # the replay's are 0 .. n-1.
        self.action_start = 0
        if isinstance(action_space, spaces.Discrete):
            kind, action_dim, action_shape = "categorical", int(action_space.n), ()
            action_dtype = np.dtype(np.int64)
            self.action_start = int(action_space.start)
        elif isinstance(action_space, spaces.Box):
            if not (
                np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))
            ):
                raise ConfigError(
                    f"mpo needs bounded Box actions; {config.env} has infinite bounds"
                )
            kind, action_dim = config.covariance, int(np.prod(action_space.shape))
            action_shape, action_dtype = (action_dim,), np.dtype(np.float32)
            self.action_low = action_space.low.reshape(-1).astype(np.float32)
            self.action_high = action_space.high.reshape(-1).astype(np.float32)
        else:
            raise ConfigError(
                f"mpo supports Discrete and Box actions; {config.env} has "
                f"{type(action_space).__name__}"
            )
        self.discrete = kind == "categorical"
        self.obs_dim = int(np.prod(obs_space.shape))
        rng = np.random.default_rng(config.seed)

        def networks(prefix: str) -> tuple[Policy, Critic]:
            # Targets start as copies: the learner copies at its first step.
            policy = Policy(
                self.obs_dim,
                action_dim,
                kind,
                config.policy_hidden_sizes,
                config.init_scale,
                config.min_scale,
                rng,
                name=f"{prefix}policy",
            )
            critic = Critic(
                self.obs_dim,
                action_dim,
                self.discrete,
                config.critic_hidden_sizes,
                rng,
                name=f"{prefix}critic",
            )
            return policy, critic

        self.policy, self.critic = networks("")
        target_policy, target_critic = networks("target_")
        self.learner = MPOLearner(self.policy, self.critic, target_policy, target_critic, config)
        self.acting_policy = NumpyPolicy(self.policy)
        writer = SequenceWriter if config.critic_target == "retrace" else NStepWriter
        self.writer = writer(
            config.num_envs,
            config.n_step,
            config.gamma,
            self.obs_dim,
            action_shape,
            action_dtype,
            capacity=config.steps_per_update,
        )
        self.replay = ReplayBuffer(config.buffer_size, self.writer.fields())
        # Checkpoints write pixel or bit observations as uint8.
        self._compact_replay = ["data/obs"] if is_compact_space(obs_space) else []
        self.rng = np.random.default_rng(config.seed)
        self.stats = EpisodeStats(config.num_envs)
        self._obs: np.ndarray | None = None
        self._grad_credit = 0.0  # gradient steps owed by the replay ratio

    # ------------------------------------------------------------------ acting

    def _flat(self, obs: Any) -> np.ndarray:
        return np.asarray(obs, dtype=np.float32).reshape(-1, self.obs_dim)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        """Policy actions to env actions: indices, or [-1, 1] clipped and scaled to the bounds."""
        if self.discrete:
            return actions.astype(np.int64) + self.action_start
        unit = np.clip(actions, -1.0, 1.0)
        scaled = self.action_low + (unit + 1.0) * 0.5 * (self.action_high - self.action_low)
        return scaled.reshape(len(actions), *self.envs.single_action_space.shape)

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations (greedy: argmax or the Gaussian mean)."""
        return self._to_env(self.acting_policy.act(self._flat(obs), self.rng, deterministic))

    # ---------------------------------------------------------------- learning

    def _train(self, steps_taken: int) -> dict[str, float] | None:
        """The gradient steps the replay ratio owes for ``steps_taken``, in one learner call."""
        cfg = self.config
        if len(self.replay) < max(cfg.learning_starts, cfg.batch_size):
            return None
        self._grad_credit += steps_taken * cfg.replay_ratio
        k = int(self._grad_credit)
        if k == 0:
            return None
        self._grad_credit -= k
        batch = self.replay.sample(k * cfg.batch_size, self.rng)

        def stack(name: str) -> tf.Tensor:
            value = batch[name]
            return tf.constant(value.reshape(k, cfg.batch_size, *value.shape[1:]))

        if self.discrete:
            noise = np.zeros(k, np.float32)
        else:
            states = cfg.batch_size * self.writer.sequence_length
            shape = (k, cfg.num_samples, states, self.policy.action_dim)
            noise = self.rng.standard_normal(shape, dtype=np.float32)
        metrics = self.learner.update(
            **{name: stack(name) for name in self.writer.fields()}, noise=tf.constant(noise)
        )
        self.acting_policy.load()
        out = {f"losses/{name}": float(value) for name, value in metrics.items()}
        out["charts/gradient_steps"] = float(self.learner.num_steps.numpy())
        return out

    def _learn(self, target_steps: int, callback: Callback) -> None:
        cfg = self.config
        if self._obs is None:
            # Fresh episodes (also on resume: env states are not saved).
            self._obs, _ = self.envs.reset(seed=cfg.seed + self.num_timesteps)
            self.writer.reset()
        record: dict[str, float] = {}
        while self.num_timesteps < target_steps:
            start = self.num_timesteps
            for _ in range(cfg.steps_per_update):
                obs = self._flat(self._obs)
                actions, log_probs = self.acting_policy.sample(obs, self.rng)
                next_obs, rewards, terminated, truncated, info = self.envs.step(
                    self._to_env(actions)
                )
                dones = terminated | truncated
                true_next = self._flat(next_obs)
                if dones.any():
                    done_idx = np.flatnonzero(dones)
                    true_next = true_next.copy()
                    true_next[done_idx] = self._flat(np.stack(info["final_obs"][done_idx]))
                self.writer.add(obs, actions, log_probs, rewards, terminated, truncated, true_next)
                self.stats.update(rewards, dones)
                self.num_episodes += int(dones.sum())
                self._obs = next_obs
                self.num_timesteps += cfg.num_envs
                if self.num_timesteps >= target_steps:
                    break
            transitions = self.writer.flush()
            if len(transitions["rewards"]):
                self.replay.add_batch(**transitions)
            record = self._train(self.num_timesteps - start) or record
            if not self._emit(callback, {**self.stats.summary(), **record}):
                break

    # ----------------------------------------------------------------- saving

    def _save_state(self, path: Path) -> None:
        save_variables(path, self.learner.named())
        state = {"rng": self.rng.bit_generator.state, "grad_credit": self._grad_credit}
        (path / "state.json").write_text(json.dumps(state))

    def _load_state(self, path: Path) -> None:
        load_variables(path, self.learner.named())
        self.acting_policy.load()
        state = json.loads((path / "state.json").read_text())
        self.rng.bit_generator.state = state["rng"]
        self._grad_credit = float(state["grad_credit"])
        # Without a saved replay the buffer starts empty, and _train waits for
        # learning_starts items again.
        if (path / REPLAY_FILE).is_file():
            self.replay.load_state_dict(load_replay(path / REPLAY_FILE))

    def _save_replay(self, path: Path) -> None:
        if self.config.checkpoint_replay:
            save_replay(path / REPLAY_FILE, self.replay.state_dict(), self._compact_replay)
