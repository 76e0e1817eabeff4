"""PPO: collect rollouts from vector envs, estimate advantages with GAE, update."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

import numpy as np
from gymnasium import spaces

# First, before rl_core.math imports TensorFlow the slow way (see rl_ppo._tensorflow).
from rl_ppo._tensorflow import tf

# isort: split
from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.envs import make_training_envs
from rl_core.envs.atari import clip_reward as clip_to_sign
from rl_core.episode_stats import EpisodeStats
from rl_core.errors import ConfigError
from rl_core.math import RunningMeanStd, gae
from rl_core.weights import load_variables, save_variables
from rl_ppo.config import PPOConfig
from rl_ppo.learning import PPOLearner
from rl_ppo.networks import ActorCritic, NumpyPolicy, TensorFlowPolicy, acting_policy_for
from rl_ppo.observations import ObservationFormat, map_arrays, merge_leading, write

_MAX_SEED = 2**31 - 1


class PPO(Agent[PPOConfig]):
    """Proximal Policy Optimization with a clipped surrogate and GAE.

    >>> agent = PPO(PPOConfig(env="CartPole-v1", seed=0))
    >>> agent.learn(100_000)
    >>> actions = agent.predict(observations)
    """

    algorithm = "ppo"
    distribution = "rl-ppo"
    config_class = PPOConfig

    def __init__(self, config: PPOConfig) -> None:
        super().__init__(config)
        self.envs = make_training_envs(
            config, "ppo", vectorization=config.vectorization, box_observations=False
        )
        try:
            self._build(config)
        except ConfigError:
            self.envs.close()  # a space or setting that does not fit: one line, no leaked envs
            raise
        self.learner = PPOLearner(self.model, config)
        self.obs_rms = (
            RunningMeanStd(shape=(self.obs_dim,)) if config.normalize_observations else None
        )
        self.return_rms = RunningMeanStd(shape=()) if config.scale_rewards else None
        self._discounted_return = np.zeros(config.num_envs)
        self.rng = np.random.default_rng(config.seed)
        self.stats = EpisodeStats(config.num_envs)
        self._obs: Any = None
        # The step count at which the lr and clip range reach 0: the end of the current
        # learn() call (set by learn(); config.total_steps until one is made).
        self._schedule_end = config.total_steps
        # NumPy mirrors where a TF call costs more than the network (flat observations'
        # MLP, MinAtar's small CNN); one TF call per vector step otherwise.
        self.acting_policy: NumpyPolicy | TensorFlowPolicy = acting_policy_for(
            self.model, self.observations.kind, config.activation
        )
        self.acting_policy.load(self.model.policy_weights())
        # Where rollouts come from when not from self.envs (a distributed runner's workers).
        self.rollout_source: Any = None
        # reduce_retracing: the number of bootstrap states varies with the truncations.
        self._rollout_stats = tf.function(
            self._rollout_stats_graph, reduce_retracing=True, autograph=False
        )

    def _build(self, config: PPOConfig) -> None:
        """The observation format, the action mapping and the network for the envs'
        spaces: an unsupported space or a setting that does not fit it (a CNN too large
        for the image, normalization of images) is one line here, before any training."""
        obs_space = self.envs.single_observation_space
        self.observations = ObservationFormat(
            obs_space, config.env, normalize=config.normalize_observations
        )
        action_space = self.envs.single_action_space
        # The env's first action (Discrete(n, start=s) takes s .. s+n-1); the policy's are 0 .. n-1.
        self.action_start = 0
        if isinstance(action_space, spaces.Discrete):
            self.discrete, action_dim = True, int(action_space.n)
            self.action_start = int(action_space.start)
        elif isinstance(action_space, spaces.Box):
            self.discrete, action_dim = False, int(np.prod(action_space.shape))
            self.action_low = action_space.low.reshape(-1).astype(np.float32)
            self.action_high = action_space.high.reshape(-1).astype(np.float32)
        else:
            raise ConfigError(
                f"ppo supports Discrete and Box actions; {config.env} has "
                f"{type(action_space).__name__}"
            )
        # Flat observations only (None otherwise): the width of the MLP's input.
        self.obs_dim = self.observations.obs_dim
        self.model = ActorCritic(
            obs_space,
            action_dim,
            self.discrete,
            config.hidden_sizes,
            config.activation,
            config.shared_network,
            config.log_std_init,
            seed=config.seed,
            cnn=config.cnn,
        )

    # ------------------------------------------------------------------ acting

    def _rollout_stats_graph(self, obs, actions, bootstrap_obs):
        """log pi_old(a|s) and V(s) for a whole rollout, and V of the bootstrap states."""
        logp, values = self.model.evaluate(obs, actions)
        return logp, values, self.model.value(bootstrap_obs)

    def _prepare(self, obs: Any, update: bool = False) -> Any:
        """A batch as the policy reads it (``rl_ppo.observations``): flat observations as
        [batch, obs_dim] float32, normalized (updating the stats in rollouts); images as
        uint8, ``Discrete`` as int64, dicts key by key, never normalized."""
        flat = self.observations.batch(obs)
        if self.obs_rms is None:
            return flat
        if update:
            self.obs_rms.update(flat)
        clip = self.config.clip_observations
        return self.obs_rms.normalize(flat, clip=clip).astype(np.float32)

    def prepare_observations(self, obs: Any, update: bool = False) -> Any:
        """What the policy reads: flat ``obs`` as [batch, obs_dim] float32, normalized with
        the running statistics when ``normalize_observations`` (``update``: fold ``obs`` in
        first); other spaces as :mod:`rl_ppo.observations` keeps them."""
        return self._prepare(obs, update)

    def new_seed(self) -> tf.Tensor:
        """A fresh int32 [2] seed for TensorFlow's stateless random ops, drawn from the
        agent's generator (saved with the agent, so a resumed run continues the stream)."""
        return tf.constant(self.rng.integers(0, _MAX_SEED, size=2), dtype=tf.int32)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        if self.discrete:
            return actions.astype(np.int64) + self.action_start
        shape = (len(actions), *self.envs.single_action_space.shape)
        return np.clip(actions, self.action_low, self.action_high).reshape(shape)

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations (greedy: argmax or the Gaussian mean)."""
        actions = self.acting_policy.act(self._prepare(obs), self.rng, deterministic)
        return self._to_env(actions)

    # ---------------------------------------------------------------- learning

    def _scale_rewards(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """Divide by the running std of the discounted return (as SB3's VecNormalize)."""
        if self.return_rms is None:
            return rewards.astype(np.float32)
        self._discounted_return = self._discounted_return * self.config.gamma + rewards
        self.return_rms.update(self._discounted_return)
        self._discounted_return[dones] = 0.0
        scaled = rewards / np.sqrt(self.return_rms.var + 1e-8)
        return np.clip(scaled, -10.0, 10.0).astype(np.float32)

    def collect_rollout(self) -> dict[str, Any]:
        """Step the envs ``n_steps`` times with the current policy.

        Returns the observations as the env gave them (``raw_obs``) and as the policy
        saw them (``obs``, normalized), the actions, the env's rewards, the episode ends
        and, for each time-limit truncation, ``(t, env, normalized s_{t+1})``.
        Observations are stored as :mod:`rl_ppo.observations` says: images as uint8, dicts
        as dicts of arrays; where nothing is normalized, ``raw_obs`` is ``obs`` itself
        (one array, not a copy).
        """
        cfg = self.config
        T, N = cfg.n_steps, cfg.num_envs
        act_shape = () if self.discrete else (self.model.pi_head.b.shape[0],)
        obs_storage = self.observations.empty(T, N)
        normalized = self.obs_rms is not None
        buf: dict[str, Any] = {
            "raw_obs": self.observations.empty(T, N) if normalized else obs_storage,
            "obs": obs_storage,
            "actions": np.zeros((T, N, *act_shape), np.int64 if self.discrete else np.float32),
            "env_rewards": np.zeros((T, N), np.float32),
            "terminated": np.zeros((T, N), bool),
            "truncated": np.zeros((T, N), bool),
        }
        final_obs: list[tuple[int, int, np.ndarray]] = []
        with self.acting_policy.rollout():
            for t in range(T):
                if normalized:
                    buf["raw_obs"][t] = self.observations.batch(self._obs)
                x = self._prepare(self._obs, update=True)
                action = self.acting_policy.act(x, self.rng, deterministic=False)
                next_obs, rewards, terminated, truncated, info = self.envs.step(
                    self._to_env(action)
                )
                dones = terminated | truncated
                self.stats.update(rewards, dones)
                self.num_episodes += int(dones.sum())
                write(buf["obs"], t, x)
                buf["actions"][t], buf["env_rewards"][t] = action, rewards
                buf["terminated"][t], buf["truncated"][t] = terminated, truncated
                # Normalized now, with the statistics the policy saw at this step, like buf["obs"].
                for i in np.flatnonzero(truncated & ~terminated):
                    final_obs.append((t, int(i), self._prepare(info["final_obs"][i])))
                self._obs = next_obs
        self.num_timesteps += T * N
        buf["final_obs"] = final_obs
        return buf

    def estimate_advantages(self, buf: dict[str, Any], rewards: np.ndarray) -> None:
        """Fill ``buf`` with log pi_old, V, GAE advantages and returns for ``rewards``.

        ``rewards`` [n_steps, num_envs] are what PPO learns from: the env's, or their signs
        with ``clip_reward`` (:meth:`learning_rewards`); an imitation learner passes its
        own (GAIL: a function of the discriminator) and the env's reward is never used.
        """
        cfg = self.config
        T, N = cfg.n_steps, cfg.num_envs
        dones = buf["terminated"] | buf["truncated"]
        buf["rewards"] = np.stack([self._scale_rewards(rewards[t], dones[t]) for t in range(T)])
        final_obs = buf["final_obs"]
        act_shape = buf["actions"].shape[2:]
        # One graph call for the whole rollout: log pi_old(a|s), V(s), and V(s_{t+1}) where
        # it is not the next step's value: past the rollout end and after a time-limit
        # truncation (the true final observation).
        boot = [self._prepare(self._obs), *(o for _, _, o in final_obs)]
        logp, values, boot_values = self._rollout_stats(
            _tensors(merge_leading(buf["obs"])),
            tf.constant(buf["actions"].reshape(T * N, *act_shape)),
            _tensors(map_arrays(lambda *parts: np.concatenate(parts), *boot)),
        )
        buf["logp"] = logp.numpy().reshape(T, N)
        buf["values"] = values.numpy().reshape(T, N)
        boot_values = boot_values.numpy()
        next_values = np.empty_like(buf["values"])
        next_values[:-1] = buf["values"][1:]
        next_values[-1] = boot_values[:N]
        for (t, i, _), v in zip(final_obs, boot_values[N:], strict=True):
            next_values[t, i] = v
        buf["advantages"], buf["returns"] = gae(
            buf["rewards"],
            buf["values"],
            next_values,
            buf["terminated"],
            buf["truncated"],
            cfg.gamma,
            cfg.gae_lambda,
        )

    def learn(self, steps: int, callbacks: Callback | Iterable[Callback] = ()) -> Self:
        """Train for ``steps`` more environment steps (see :meth:`rl_core.agent.Agent.learn`).

        The annealed learning rate and clip range reach 0 at the end of this call:
        progress is ``num_timesteps / (num_timesteps at the start + steps)``, SB3's
        ``progress_remaining`` with ``reset_num_timesteps=False``. A fresh agent's
        ``learn(n)`` anneals over exactly n steps, a resumed run (``rl resume``) continues
        the schedule it was on, and a further ``learn(m)`` starts at the fraction
        ``m / (done + m)`` of the initial values instead of at 0.
        """
        self._schedule_end = self.num_timesteps + int(steps)
        return super().learn(steps, callbacks)

    def schedule(self) -> tuple[float, float]:
        """The learning rate and clip range of the next update (linear decay to 0)."""
        cfg = self.config
        progress = min(self.num_timesteps / max(self._schedule_end, 1), 1.0)
        lr = cfg.learning_rate * ((1.0 - progress) if cfg.anneal_lr else 1.0)
        clip = cfg.clip_range * ((1.0 - progress) if cfg.anneal_clip_range else 1.0)
        return lr, clip

    def update_policy(self, buf: dict[str, Any]) -> dict[str, float]:
        """All epochs and minibatches of one PPO update on a processed rollout; its metrics."""
        lr, clip = self.schedule()
        keys = ("obs", "actions", "logp", "advantages", "returns", "values")
        flat = {k: merge_leading(buf[k]) for k in keys}
        seed = tf.constant(self.rng.integers(0, _MAX_SEED, size=2), dtype=tf.int32)
        metrics = self.learner.update(
            _tensors(flat["obs"]),
            tf.constant(flat["actions"]),
            tf.constant(flat["logp"]),
            tf.constant(flat["advantages"]),
            tf.constant(flat["returns"]),
            tf.constant(flat["values"]),
            tf.constant(max(lr, 1e-12), tf.float32),
            tf.constant(max(clip, 1e-6), tf.float32),
            seed,
        )
        self.acting_policy.load(self.model.policy_weights())
        record = {f"losses/{k}": float(v) for k, v in metrics.items() if k != "gradient_steps"}
        y, v = flat["returns"], flat["values"]
        var_y = np.var(y)
        record["losses/explained_variance"] = float(1 - np.var(y - v) / var_y) if var_y > 0 else 0.0
        record["charts/learning_rate"] = lr
        record["charts/clip_range"] = clip
        record["charts/gradient_steps"] = float(metrics["gradient_steps"])
        return record

    def reset_envs(self) -> None:
        """Start fresh episodes unless a rollout is under way (also on resume: env states
        are not saved, so the running discounted return of reward scaling restarts too)."""
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.config.seed + self.num_timesteps)
            self._discounted_return[:] = 0.0

    def next_rollout(self) -> tuple[dict[str, Any], dict[str, float]]:
        """A processed rollout to update on, and metrics about how it was gathered.

        From this process's envs, or from ``self.rollout_source`` when a distributed
        runner has attached one (``rl_ppo.distributed``): the update is the same.
        """
        if self.rollout_source is not None:
            return self.rollout_source.next_rollout(self)
        buf = self.collect_rollout()
        self.estimate_advantages(buf, self.learning_rewards(buf["env_rewards"]))
        return buf, {}

    def learning_rewards(self, env_rewards: np.ndarray) -> np.ndarray:
        """The rewards PPO learns from: the env's, or with ``clip_reward`` their signs
        (-1, 0, +1), as DQN's Atari agents (Mnih et al., 2015) and CleanRL's
        ``ClipRewardEnv`` clip them. Only learning sees the clipped rewards: the episode
        statistics (``charts/episodic_return``) and evaluation keep the game score."""
        if self.config.clip_reward:
            return clip_to_sign(env_rewards)
        return env_rewards

    def _learn(self, target_steps: int, callback: Callback) -> None:
        self.reset_envs()
        while self.num_timesteps < target_steps:
            buf, gathered = self.next_rollout()
            record = self.update_policy(buf)
            if not self._emit(callback, {**self.stats.summary(), **record, **gathered}):
                break

    # ----------------------------------------------------------------- saving

    def _named_state(self) -> dict[str, tf.Variable]:
        """Network weights and Adam's moments, by name (see ``ActorCritic.named_variables``)."""
        named = self.model.named_variables()
        names = {id(v): name for name, v in named.items()}
        return {**named, **self.learner.optimizer.named(names)}

    def _save_state(self, path: Path) -> None:
        save_variables(path, self._named_state())
        state = {
            "rng": self.rng.bit_generator.state,
            "obs_rms": _plain(self.obs_rms.state_dict()) if self.obs_rms else None,
            "return_rms": _plain(self.return_rms.state_dict()) if self.return_rms else None,
        }
        (path / "state.json").write_text(json.dumps(state))

    def _load_state(self, path: Path) -> None:
        load_variables(path, self._named_state())
        self.acting_policy.load(self.model.policy_weights())
        state = json.loads((path / "state.json").read_text())
        self.rng.bit_generator.state = state["rng"]
        if self.obs_rms is not None and state["obs_rms"]:
            self.obs_rms.load_state_dict(_arrays(state["obs_rms"]))
        if self.return_rms is not None and state["return_rms"]:
            self.return_rms.load_state_dict(_arrays(state["return_rms"]))


def _tensors(batch: Any) -> Any:
    """A batch (or dict of batches) of arrays as tensors, for a graph call."""
    return map_arrays(tf.constant, batch)


def _plain(state: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in state.items()}


def _arrays(state: dict) -> dict:
    return {**state, "mean": np.asarray(state["mean"]), "var": np.asarray(state["var"])}
