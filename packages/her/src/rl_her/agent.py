"""HER: act in vector goal envs, store episodes once, relabel at sample time, learn off-policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.envs import GOAL_KEYS, is_goal_env, make_env, make_training_envs
from rl_core.episode_stats import EpisodeStats
from rl_core.errors import ConfigError
from rl_core.replay import (
    REPLAY_FILE,
    is_compact_space,
    linear_schedule,
    load_replay,
    save_replay,
)
from rl_core.weights import load_variables, save_variables
from rl_her.buffer import HindsightReplayBuffer
from rl_her.config import HERConfig
from rl_her.learning import ActorCriticLearner, DQNLearner
from rl_her.networks import actor_numpy, q_numpy
from rl_her.normalizer import InputNormalizer
from rl_her.sac import SACLearner, sac_actor_numpy

_MAX_SEED = 2**31 - 1


def _flat_box(space: spaces.Space, key: str, env_id: str) -> int:
    if not isinstance(space, spaces.Box):
        raise ConfigError(f"her: {env_id}'s {key!r} must be a Box, got {type(space).__name__}")
    return int(np.prod(space.shape))


class HER(Agent[HERConfig]):
    """Hindsight Experience Replay on DQN (Discrete actions) or DDPG/TD3/SAC (Box actions).

    >>> agent = HER(HERConfig(env="rl/BitFlipping-v0", env_kwargs={"n_bits": 15}))
    >>> agent.learn(30_000)
    >>> actions = agent.predict(observations)   # a dict of batched goal observations
    """

    algorithm = "her"
    distribution = "rl-her"
    config_class = HERConfig

    def __init__(self, config: HERConfig) -> None:
        super().__init__(config)
        # Every stored transition gets its real successor (SAME_STEP's info["final_obs"]).
        self.envs = make_training_envs(config, "her", box_observations=False)
        obs_space = self.envs.single_observation_space
        if not is_goal_env(obs_space):
            raise ConfigError(
                f"her needs a goal env: Dict observations with keys {', '.join(GOAL_KEYS)}; "
                f"{config.env} has {type(obs_space).__name__}"
            )
        self.obs_dim = _flat_box(obs_space["observation"], "observation", config.env)
        # Saved as uint8 in checkpoints where the env's values are (images, bits).
        self._compact_replay = [
            f"data/{field}"
            for key, fields in (
                ("observation", ("observation", "next_observation")),
                ("desired_goal", ("desired_goal", "next_achieved_goal")),
            )
            if is_compact_space(obs_space[key])
            for field in fields
        ]
        self.goal_dim = _flat_box(obs_space["desired_goal"], "desired_goal", config.env)
        # compute_reward (and compute_terminated) of the env's own class and parameters.
        self._reward_env = make_env(config.env, **config.env_kwargs).unwrapped
        if not callable(getattr(self._reward_env, "compute_reward", None)):
            raise ConfigError(f"her needs {config.env} to define compute_reward(achieved, desired)")
        compute_terminated = getattr(self._reward_env, "compute_terminated", None)

        action_space = self.envs.single_action_space
        if isinstance(action_space, spaces.Discrete):
            if config.learner not in ("auto", "dqn"):
                raise ConfigError(
                    f"learner {config.learner!r} needs Box actions; {config.env} has Discrete: "
                    "use learner=dqn or auto"
                )
            self.kind = "dqn"
            self.n_actions = int(action_space.n)
            action_shape, action_dtype = (), np.int64
        elif isinstance(action_space, spaces.Box):
            if config.learner == "dqn":
                raise ConfigError(
                    f"learner 'dqn' needs Discrete actions; {config.env} has Box: "
                    "use learner=td3, ddpg, sac or auto"
                )
            self.kind = "td3" if config.learner == "auto" else config.learner
            self.action_dim = int(np.prod(action_space.shape))
            self.action_low = action_space.low.reshape(-1).astype(np.float32)
            self.action_high = action_space.high.reshape(-1).astype(np.float32)
            if not (np.all(np.isfinite(self.action_low)) and np.all(np.isfinite(self.action_high))):
                raise ConfigError(f"her needs bounded Box actions; {config.env} has infinite ones")
            action_shape, action_dtype = (self.action_dim,), np.float32
        else:
            raise ConfigError(
                f"her supports Discrete and Box actions; {config.env} has "
                f"{type(action_space).__name__}"
            )

        self.buffer = HindsightReplayBuffer(
            config.buffer_size,
            config.num_envs,
            self.obs_dim,
            self.goal_dim,
            action_shape,
            action_dtype,
            self._reward_env.compute_reward,
            compute_terminated if callable(compute_terminated) else None,
            strategy=config.strategy,
            n_sampled_goal=config.n_sampled_goal,
            gamma=config.gamma,
            n_step=config.n_step,
            prioritized=config.prioritized,
            alpha=config.priority_alpha,
            eps=config.priority_eps,
        )
        n_in = self.obs_dim + self.goal_dim
        if self.kind == "dqn":
            self.learner: DQNLearner | ActorCriticLearner | SACLearner = DQNLearner(
                n_in, self.n_actions, config
            )
        elif self.kind == "sac":
            self.learner = SACLearner(n_in, self.action_dim, config)
        else:
            self.learner = ActorCriticLearner(n_in, self.action_dim, config, self.kind == "td3")
        self._acting_weights = self.learner.acting_weights()
        self.normalizer = InputNormalizer(
            self.obs_dim, self.goal_dim, config.obs_clip, config.norm_clip,
            config.normalize_inputs,
        )  # fmt: skip
        self.rng = np.random.default_rng(config.seed)
        self.stats = EpisodeStats(config.num_envs)
        self._obs: dict[str, np.ndarray] | None = None
        self._owed_steps = 0.0  # gradient steps due (replay_ratio per env step), not yet taken
        self._vector_steps = 0
        self._last_metrics: dict[str, float] = {}
        # Finished transitions the buffer must hold before training: raised to
        # learning_starts by a resume whose checkpoint held no replay.
        self._min_replay = 0

    # ------------------------------------------------------------------ acting

    def _inputs(self, obs: dict[str, Any]) -> np.ndarray:
        """[observation, desired_goal] flattened to (batch, obs_dim + goal_dim) float32."""
        o = np.asarray(obs["observation"], np.float32).reshape(-1, self.obs_dim)
        g = np.asarray(obs["desired_goal"], np.float32).reshape(-1, self.goal_dim)
        return np.concatenate([o, g], axis=1)

    def _scale(self, normalized: np.ndarray) -> np.ndarray:
        """[-1, 1] -> the env's action bounds."""
        return self.action_low + (normalized + 1.0) * 0.5 * (self.action_high - self.action_low)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        if self.kind == "dqn":  # indices from 0; the env's Discrete may start elsewhere
            return actions.astype(np.int64) + int(self.envs.single_action_space.start)
        shape = (len(actions), *self.envs.single_action_space.shape)
        return self._scale(actions).astype(np.float32).reshape(shape)

    def _act(self, x: np.ndarray, epsilon: float, explore: bool) -> np.ndarray:
        """Actions in the learner's space (indices, or normalized continuous actions)."""
        n = len(x)
        x = self.normalizer(x)
        if self.kind == "dqn":
            actions = q_numpy(self._acting_weights, x, self.config.dueling).argmax(axis=1)
            if explore:
                random = self.rng.random(n) < epsilon
                actions = np.where(random, self.rng.integers(0, self.n_actions, n), actions)
            return actions
        if self.kind == "sac":  # exploration is the policy's own sampling
            noise = self.rng.standard_normal((n, self.action_dim)) if explore else None
            return sac_actor_numpy(self._acting_weights, x, noise).astype(np.float32)
        actions = actor_numpy(self._acting_weights, x)
        if explore:
            noise = self.config.action_noise * self.rng.standard_normal(actions.shape)
            actions = np.clip(actions + noise, -1.0, 1.0)
            random = self.rng.random(n) < self.config.random_action_prob
            uniform = self.rng.uniform(-1.0, 1.0, actions.shape)
            actions = np.where(random[:, None], uniform, actions)
        return actions.astype(np.float32)

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of goal observations (a dict of batched arrays).

        Greedy (argmax Q, the actor's action, SAC's tanh(mean)) when ``deterministic``;
        otherwise epsilon-greedy at ``exploration_final`` (DQN), with the training noise
        (DDPG/TD3) or sampled from the policy (SAC).
        """
        if not isinstance(obs, dict) or any(k not in obs for k in ("observation", "desired_goal")):
            raise ConfigError("her.predict expects a dict with observation and desired_goal")
        x = self._inputs(obs)
        return self._to_env(self._act(x, self.config.exploration_final, not deterministic))

    # ---------------------------------------------------------------- learning

    def _epsilon(self) -> float:
        cfg = self.config
        decay = max(int(cfg.exploration_fraction * cfg.total_steps), 1)
        schedule = linear_schedule(cfg.exploration_initial, cfg.exploration_final, decay)
        return schedule(self.num_timesteps - cfg.learning_starts)

    def _beta(self) -> float:
        cfg = self.config
        return linear_schedule(cfg.priority_beta, 1.0, max(cfg.total_steps, 1))(self.num_timesteps)

    def _collect_step(self) -> None:
        cfg = self.config
        obs = self._obs
        x = self._inputs(obs)
        if self.num_timesteps < cfg.learning_starts:
            if self.kind == "dqn":
                actions = self.rng.integers(0, self.n_actions, cfg.num_envs)
            else:
                actions = self.rng.uniform(-1, 1, (cfg.num_envs, self.action_dim))
                actions = actions.astype(np.float32)
        else:
            actions = self._act(x, self._epsilon(), explore=True)
        next_obs, rewards, terminated, truncated, info = self.envs.step(self._to_env(actions))
        done = terminated | truncated
        next_o = np.asarray(next_obs["observation"], np.float32).reshape(cfg.num_envs, -1)
        next_ag = np.asarray(next_obs["achieved_goal"], np.float32).reshape(cfg.num_envs, -1)
        success = np.asarray(info.get("is_success", np.zeros(cfg.num_envs)), bool)
        if done.any():
            next_o, next_ag = next_o.copy(), next_ag.copy()
            final_success = info.get("final_info", {}).get("is_success")
            for i in np.flatnonzero(done):
                final = info["final_obs"][i]
                next_o[i] = np.asarray(final["observation"], np.float32).reshape(-1)
                next_ag[i] = np.asarray(final["achieved_goal"], np.float32).reshape(-1)
                if final_success is not None:
                    success[i] = bool(final_success[i])
        self.buffer.add(
            x[:, : self.obs_dim],
            x[:, self.obs_dim :],
            actions,
            next_o,
            next_ag,
            terminated,
            done,
        )
        # Goal statistics see real and achieved goals: relabeled goals are achieved ones.
        goals = np.concatenate([x[:, self.obs_dim :], next_ag])
        self.normalizer.update(x[:, : self.obs_dim], goals)
        self.stats.update(rewards, done, successes=success)
        self.num_episodes += int(done.sum())
        self.num_timesteps += cfg.num_envs
        self._vector_steps += 1
        self._obs = next_obs

    def _train(self) -> None:
        cfg = self.config
        k = int(self._owed_steps)
        if k < 1 or self.buffer.tree.total <= 0:
            return
        self._owed_steps -= k
        shaped = self.buffer.sample_minibatches(k, cfg.batch_size, self.rng, beta=self._beta())
        batch = {key: shaped.pop(key) for key in ("indices", "relabeled")}
        norm = self.normalizer
        inputs = norm(np.concatenate([shaped["observation"], shaped["goal"]], axis=-1))
        next_inputs = norm(np.concatenate([shaped["next_observation"], shaped["goal"]], axis=-1))
        seed = self.rng.integers(0, _MAX_SEED, size=2)
        td, metrics, weights = self.learner.update(
            tf.constant(inputs),
            tf.constant(shaped["action"]),
            tf.constant(shaped["reward"]),
            tf.constant(next_inputs),
            tf.constant(shaped["discount"]),
            tf.constant(shaped["weights"]),
            tf.constant(seed, tf.int32),
        )
        self.buffer.update_priorities(batch["indices"], td.numpy())
        self._acting_weights = [w.numpy() for w in weights]
        self._last_metrics = {f"losses/{name}": float(v) for name, v in metrics.items()}
        self._last_metrics["charts/relabeled_fraction"] = float(batch["relabeled"].mean())

    def _learn(self, target_steps: int, callback: Callback) -> None:
        cfg = self.config
        if self._obs is None:
            # Fresh episodes (also on resume: env states are not saved).
            self._obs, _ = self.envs.reset(seed=cfg.seed + self.num_timesteps)
            self.buffer.drop_unfinished()  # a restored buffer's running episodes are gone
        next_log = (self.num_timesteps // cfg.log_every + 1) * cfg.log_every
        while self.num_timesteps < target_steps:
            self._collect_step()
            # Nothing is owed while no episode has finished or a resume without replay
            # refills the buffer, so no burst of steps on the first episodes.
            if (
                self.num_timesteps > cfg.learning_starts
                and self.buffer.tree.total > 0
                and len(self.buffer) >= self._min_replay
            ):
                self._owed_steps += cfg.replay_ratio * cfg.num_envs
                if self._vector_steps % cfg.train_every == 0:
                    self._train()
            if self.num_timesteps >= next_log or self.num_timesteps >= target_steps:
                next_log = (self.num_timesteps // cfg.log_every + 1) * cfg.log_every
                record = {**self.stats.summary(), **self._last_metrics}
                record["charts/buffer_size"] = float(len(self.buffer))
                if self.kind == "dqn":
                    record["charts/epsilon"] = self._epsilon()
                if cfg.prioritized:
                    record["charts/beta"] = self._beta()
                record["charts/gradient_steps"] = float(self.learner.gradient_steps.numpy())
                if not self._emit(callback, record):
                    break

    # ----------------------------------------------------------------- saving

    def _named_state(self) -> dict[str, tf.Variable]:
        return self.learner.named_variables()

    def _save_state(self, path: Path) -> None:
        save_variables(path, self._named_state())
        state = {
            "rng": self.rng.bit_generator.state,
            "kind": self.kind,
            "normalizer": self.normalizer.state_dict(),  # part of the policy
            "normalize": self.normalizer.enabled,
        }
        (path / "state.json").write_text(json.dumps(state))

    def _save_replay(self, path: Path) -> None:
        if self.config.checkpoint_replay:
            save_replay(path / REPLAY_FILE, self.buffer.state_dict(), self._compact_replay)

    def _load_state(self, path: Path) -> None:
        load_variables(path, self._named_state())
        self._acting_weights = self.learner.acting_weights()
        state = json.loads((path / "state.json").read_text())
        self.rng.bit_generator.state = state["rng"]
        if "normalizer" in state:  # saves from before normalization have none
            self.normalizer.load_state_dict(state["normalizer"])
        # The networks were trained on what the saved agent fed them: saves from before
        # DQN normalized by default (2026-12-02) have no flag, and statistics that were
        # never updated mean it did not normalize.
        if "normalize" in state:
            self.normalizer.enabled = bool(state["normalize"])
        elif "normalizer" in state:
            self.normalizer.enabled = state["normalizer"]["obs"]["count"] > 0
        else:
            self.normalizer.enabled = False
        if (path / REPLAY_FILE).is_file():
            self.buffer.load_state_dict(load_replay(path / REPLAY_FILE))
        else:  # a policy, or a checkpoint without replay: refill before training again
            self._min_replay = min(self.config.learning_starts, self.buffer.capacity)
