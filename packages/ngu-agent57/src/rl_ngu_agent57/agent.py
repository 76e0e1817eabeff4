"""NGU and Agent57 agents: wire envs, actor, sequence replay and learner in one process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.agent import Agent
from rl_core.callbacks import Callback
from rl_core.envs import make_env
from rl_core.episode_stats import EpisodeStats
from rl_core.errors import ConfigError
from rl_core.math import RunningMeanStd
from rl_core.replay import (
    REPLAY_FILE,
    PrioritizedReplayBuffer,
    is_compact_space,
    load_replay,
    save_replay,
)
from rl_core.weights import load_variables, save_variables
from rl_ngu_agent57.acting import Actor, Novelty, QPolicy
from rl_ngu_agent57.buffer import SequenceAdder
from rl_ngu_agent57.config import Agent57Config, CommonConfig, NGUConfig
from rl_ngu_agent57.evaluator import Evaluator
from rl_ngu_agent57.learning import Agent57Learner, Learner, NGULearner
from rl_ngu_agent57.meta import SlidingWindowUCB, SlotBandits
from rl_ngu_agent57.networks import EmbeddingNetwork, ImageInput, RecurrentQNetwork, RNDNetworks
from rl_ngu_agent57.novelty import (
    EpisodicMemory,
    ExponentialMeanStd,
    LifelongNovelty,
    intrinsic_rewards,
)
from rl_ngu_agent57.observations import ObservationFormat
from rl_ngu_agent57.schedules import actor_epsilons, agent57_gammas, ngu_betas, ngu_gammas
from rl_ngu_agent57.wrappers import DiscretizeActions


def _checked_env(config: CommonConfig, algorithm: str) -> gym.Env:
    """One env, wrapped to Discrete actions where asked; refuses unsupported spaces."""
    env = make_env(config.env, **config.env_kwargs)
    # A one-line error for an unsupported space.
    ObservationFormat(env.observation_space, algorithm, config.env)
    action_space = env.action_space
    if isinstance(action_space, spaces.Box):
        if config.action_bins == 0:
            raise ConfigError(
                f"{config.env} has continuous actions; {algorithm} needs Discrete ones: "
                "set action_bins (e.g. --set action_bins=11) to discretize them"
            )
        if not action_space.is_bounded():
            raise ConfigError(f"action_bins needs a bounded Box action space; {config.env}")
        env = DiscretizeActions(env, config.action_bins)
    elif not isinstance(action_space, spaces.Discrete):
        raise ConfigError(
            f"{algorithm} supports Discrete (or discretized Box) actions; {config.env} has "
            f"{type(action_space).__name__}"
        )
    return env


# The evaluator's env and generator are seeded apart from the actors' (seed + step).
EVALUATOR_SEED_OFFSET = 10**6


class _RecurrentAgent(Agent):
    """What NGU and Agent57 share; subclasses name the Q-networks, schedules and learner."""

    head_names: ClassVar[tuple[str, ...]]
    learner_class: ClassVar[type[Learner]]

    def __init__(self, config: CommonConfig) -> None:
        super().__init__(config)
        cfg = config
        probe = _checked_env(cfg, self.algorithm)
        # Images stay uint8 [H, W, C] (the CNN path); everything else becomes float32 [D].
        self.observations = ObservationFormat(probe.observation_space, self.algorithm, cfg.env)
        self.obs_dim = self.observations.size
        fmt = self.observations
        image = ImageInput(fmt.image_space, cfg.cnn) if fmt.image else None
        # Checkpoints write pixel or bit observations as uint8 (images are uint8 already).
        self._compact_replay = ["data/obs"] if is_compact_space(probe.observation_space) else []
        self.num_actions = int(probe.action_space.n)
        self.action_grid = getattr(probe, "grid", None)
        probe.close()
        self.envs = gym.vector.SyncVectorEnv(
            [lambda: _checked_env(cfg, self.algorithm) for _ in range(cfg.num_envs)],
            autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
        )
        self.rng = np.random.default_rng(cfg.seed)
        net_rng = np.random.default_rng(cfg.seed + 1)
        n = cfg.num_policies
        self.betas = ngu_betas(n, cfg.intrinsic_beta)
        self.gammas = self._gammas()
        # The network's own constant scale of the previous-r_i input: sqrt(k eps) for
        # "fixed" (the first version), 1 otherwise ("running" scales outside, "raw" not).
        fixed = cfg.intrinsic_input == "fixed"
        ri_scale = float(np.sqrt(cfg.num_neighbors * cfg.kernel_epsilon)) if fixed else 1.0
        running = cfg.intrinsic_input == "running"
        self.q_networks = {
            name: tuple(
                RecurrentQNetwork(
                    self.obs_dim, self.num_actions, n, cfg.hidden_sizes, cfg.lstm_units,
                    net_rng, f"{name}_{role}", ri_scale, image,
                )
                for role in ("online", "target")
            )
            for name in self.head_names
        }  # fmt: skip
        self.embedding = EmbeddingNetwork(
            self.obs_dim, self.num_actions, cfg.hidden_sizes, cfg.embedding_size, net_rng, image
        )
        self.rnd = RNDNetworks(self.obs_dim, cfg.hidden_sizes, cfg.rnd_output_size, net_rng, image)
        self.learner = self.learner_class(
            self.q_networks, self.embedding, self.rnd, self.betas, self.gammas, cfg,
            rnd_normalizer=lambda: self.novelty.obs_normalizer(),
            ri_input_scale=(lambda: self.novelty.ri_input_scale()) if running else None,
        )  # fmt: skip
        self.state_shape = (len(self.head_names), 2, cfg.lstm_units)
        self.q_policy = QPolicy(
            [online for online, _ in self.q_networks.values()],
            self.betas,
            (lambda: self.novelty.ri_input_scale()) if running else None,
        )
        memory = EpisodicMemory(
            cfg.num_envs,
            cfg.episodic_memory_capacity,
            cfg.embedding_size,
            cfg.num_neighbors,
            cfg.kernel_epsilon,
            cfg.cluster_distance,
            cfg.pseudo_count,
            cfg.max_similarity,
            cfg.novelty_stats_decay,
        )
        self.novelty = Novelty(
            self.embedding,
            self.rnd,
            memory,
            LifelongNovelty(cfg.max_reward_scale, cfg.novelty_stats_decay),
            # Per feature: per pixel for images (Burda et al., 2019, section 2.4).
            RunningMeanStd(shape=self.observations.shape) if cfg.rnd_obs_normalization else None,
            freeze_embedding=cfg.freeze_embedding,
        )
        self.adder = SequenceAdder(
            cfg.num_envs, self.observations.shape, cfg.burn_in, cfg.unroll_length,
            cfg.sequence_period, self.state_shape, obs_dtype=self.observations.dtype.name,
        )  # fmt: skip
        self.replay = PrioritizedReplayBuffer(
            cfg.replay_capacity,
            self.adder.specs,
            alpha=cfg.priority_exponent,
            beta=cfg.importance_sampling_exponent,
        )
        self.actor = Actor(
            self.q_policy,
            self.novelty,
            self.adder,
            self.num_actions,
            actor_epsilons(cfg.num_envs, cfg.epsilon, cfg.epsilon_alpha),
            self.state_shape,
            self._choose_policies,
            self.end_of_episode,
            self.rng,
        )
        self.stats = EpisodeStats(cfg.num_envs)
        self.reward_stats = RunningMeanStd(shape=(), epsilon=0.0)
        self._obs: np.ndarray | None = None
        self._eval: dict[str, np.ndarray] | None = None
        self._recent_metrics: dict[str, float] = {}
        # (mean r_i, mean episodic reward, mean lifelong modulator) per vector step.
        self._novelty_log: list[tuple[float, float, float]] = []
        # Set by a distributed runner (rl_ngu_agent57.distributed): it then trains this
        # agent's learner from remote actors instead of this process's envs.
        self.remote: Any = None

    # ------------------------------------------------------------ per algorithm

    def _gammas(self) -> np.ndarray:
        raise NotImplementedError

    def _choose_policies(self, slots: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def end_of_episode(self, slots: np.ndarray, policies: np.ndarray, returns: np.ndarray):
        """Record finished episodes: their slots, policies j and extrinsic returns (Agent57's
        meta-controller, NGU's per-j returns; a distributed learner: its actors')."""

    def evaluation_policy(self) -> int:
        """The policy index j that greedy evaluation acts with (``evaluation_policy``)."""
        mode = self.config.evaluation_policy
        if mode == "j0":
            return 0
        if mode == "best_arm":
            return self._best_arm()
        return self._default_evaluation_policy()

    def _default_evaluation_policy(self) -> int:
        raise NotImplementedError

    def run_evaluator(self) -> None:
        """Play the evaluator episodes that the training episodes so far have made due
        (Agent57's ``evaluator_period``; nothing for NGU)."""

    def _best_arm(self) -> int:
        """The policy with the highest mean extrinsic return over the recent episodes."""
        raise NotImplementedError

    # ------------------------------------------------------------------ acting

    def _flat(self, obs: Any) -> np.ndarray:
        """A batch of env observations as stored: float32 [B, D], or uint8 images."""
        return self.observations.batch(obs)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        """Indices to the actions of the unwrapped env (``predict`` serves raw envs)."""
        if self.action_grid is None:
            return actions.astype(np.int64)
        return self.action_grid[actions]

    def reset_policy_state(self, rows: np.ndarray | None = None) -> None:
        """Forget what :meth:`predict` carries for batch rows ``rows`` (every row if None):
        their episodes start over (:class:`rl_core.algorithm.RecurrentPolicy`)."""
        if rows is None or self._eval is None:
            self._eval = None
        else:
            self._eval["fresh"][rows] = True

    def observe_rewards(self, rewards: np.ndarray) -> None:
        """The extrinsic rewards of the last :meth:`predict` batch's actions, row by row:
        the next call feeds them to the Q-network as the previous extrinsic reward, as in
        training (:class:`rl_core.algorithm.RewardConditionedPolicy`)."""
        if self._eval is None:
            return  # nothing predicted yet: there is no step these rewards belong to
        rewards = np.asarray(rewards, np.float32).reshape(-1)
        if len(rewards) != len(self._eval["fresh"]):
            raise ValueError(
                f"observe_rewards got {len(rewards)} rewards for a batch of "
                f"{len(self._eval['fresh'])} rows"
            )
        self._eval["rewards"] = rewards

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Greedy actions of policy j = :meth:`evaluation_policy` for a batch of observations.

        The policy is recurrent and conditioned on the previous action and rewards, so
        :meth:`predict` carries per batch row the LSTM state, the previous action and its own
        episodic memory (the intrinsic-reward input is computed as in training, with the
        statistics frozen); row b of consecutive calls is one episode until
        :meth:`reset_policy_state` starts it over (everything starts afresh when the batch
        size changes). The previous-extrinsic-reward input is the reward handed to
        :meth:`observe_rewards` after the last call (``rl_core.evaluation.evaluate_policy``
        does); a caller that passes none gets the mean extrinsic reward seen in training.
        """
        x = self._flat(obs)
        if self._eval is None or len(self._eval["fresh"]) != len(x):
            self._eval = self.new_acting_state(len(x))
        epsilon = 0.0 if deterministic else 0.01
        return self._to_env(self.act(x, self.evaluation_policy(), self._eval, epsilon, self.rng))

    def new_acting_state(self, b: int) -> dict[str, Any]:
        """What :meth:`act` carries for ``b`` episodes played side by side."""
        cfg = self.config
        memory = EpisodicMemory(
            b, cfg.episodic_memory_capacity, cfg.embedding_size, cfg.num_neighbors,
            cfg.kernel_epsilon, cfg.cluster_distance, cfg.pseudo_count, cfg.max_similarity,
        )  # fmt: skip
        memory.sq_distance_stats = self.novelty.memory.sq_distance_stats
        return {
            "state": np.zeros((b, *self.state_shape), np.float32),
            "prev_action": np.zeros(b, np.int32),
            "prev_re": np.zeros(b, np.float32),
            "prev_ri": np.zeros(b, np.float32),
            "fresh": np.ones(b, bool),
            "memory": memory,
        }

    def act(
        self,
        x: np.ndarray,
        policy: int,
        ev: dict[str, Any],
        epsilon: float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Epsilon-greedy action indices of policy j = ``policy`` for one step of the
        episodes in ``ev`` (:meth:`new_acting_state`), without touching training state.
        ``x`` is a batch as stored (``self.observations.batch`` or ``.stack``);
        ``ev["rewards"]``, when set, holds the extrinsic rewards of the previous step."""
        b = len(x)
        embeddings, errors = self.novelty.features(x, update_stats=False)
        told = ev.pop("rewards", None)  # only the step just taken's rewards, never older ones
        going = np.flatnonzero(~ev["fresh"])
        if len(going):  # this observation's novelty is the intrinsic reward of the last step
            episodic = ev["memory"].query_and_add(going, embeddings[going], update_stats=False)
            modulator = self.novelty.lifelong.modulator(errors[going], update_stats=False)
            ev["prev_ri"][going] = intrinsic_rewards(episodic, modulator)
            ev["prev_re"][going] = self.reward_stats.mean if told is None else told[going]
        starting = np.flatnonzero(ev["fresh"])
        if len(starting):
            ev["memory"].reset(starting)
            ev["memory"].add(starting, embeddings[starting])
            for key in ("state", "prev_action", "prev_re", "prev_ri"):
                ev[key][starting] = 0
            ev["fresh"][:] = False
        q, ev["state"] = self.q_policy(
            x, np.full(b, policy, np.int32), ev["prev_action"], ev["prev_re"], ev["prev_ri"],
            ev["state"],
        )  # fmt: skip
        actions = q.argmax(axis=1).astype(np.int32)
        if epsilon > 0:
            explore = rng.random(b) < epsilon
            actions = np.where(explore, rng.integers(self.num_actions, size=b), actions)
        ev["prev_action"] = actions
        return actions.copy()

    # ---------------------------------------------------------------- learning

    def step_actors(self) -> dict[str, np.ndarray] | None:
        """One vector step of every actor slot; returns the sequences it completed, if any.

        The acting half of training, shared by :meth:`_learn` and the Ray actors of
        ``rl_ngu_agent57.distributed``.
        """
        cfg = self.config
        if self._obs is None:
            obs, _ = self.envs.reset(seed=cfg.seed + self.num_timesteps)
            self._obs = self._flat(obs)
            self.actor.reset(self._obs)
        actions = self.actor.select_action(self._obs)
        # The training envs are wrapped (DiscretizeActions), so they take the index.
        next_obs, rewards, terminated, truncated, info = self.envs.step(actions.astype(np.int64))
        done = terminated | truncated
        final = None
        if done.any():
            final = self.observations.stack([info["final_obs"][i] for i in np.flatnonzero(done)])
        next_obs = self._flat(next_obs)
        ri = self.actor.observe(next_obs, rewards, terminated, truncated, final)
        self._novelty_log.append((float(ri.mean()), *self.actor.last_novelty))
        self.stats.update(rewards, done, successes=_successes(info, done))
        self.reward_stats.update(rewards)
        self.num_episodes += int(done.sum())
        self._obs = next_obs
        self.num_timesteps += cfg.num_envs
        return self.adder.pop()

    def _learn(self, target_steps: int, callback: Callback) -> None:
        if self.remote is not None:
            self.remote.learn(self, target_steps, callback)
            return
        cfg = self.config
        next_log = self.num_timesteps + cfg.log_every
        vector_steps = 0
        while self.num_timesteps < target_steps:
            sequences = self.step_actors()
            self.run_evaluator()
            vector_steps += 1
            if sequences is not None:
                self.replay.add_batch(**sequences)
            if len(self.replay) >= cfg.learning_starts and vector_steps % cfg.train_every == 0:
                batch = self.replay.sample(cfg.batch_size, self.rng)
                indices = batch.pop("indices")
                self.replay.update_priorities(indices, self.train_step(batch))
            if self.num_timesteps >= next_log or self.num_timesteps >= target_steps:
                next_log = self.num_timesteps + cfg.log_every
                if not self._emit(callback, self._log_record(len(self.replay))):
                    break

    def train_step(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """One learner step on a sampled batch (with its ``weights``); returns the new
        priorities and keeps the losses for the next log record."""
        self._recent_metrics, priorities = self.learner.step(batch)
        return priorities

    def pop_novelty_log(self) -> list[tuple[float, float, float]]:
        """The (mean r_i, episodic reward, lifelong modulator) of each vector step since the
        last call (a distributed actor sends them to the learner)."""
        log, self._novelty_log = self._novelty_log, []
        return log

    def extend_novelty_log(self, entries: list[tuple[float, float, float]]) -> None:
        """Add an actor's :meth:`pop_novelty_log` entries to this agent's next log record."""
        self._novelty_log.extend(entries)

    def _log_record(self, replay_sequences: int) -> dict[str, float | None]:
        """The metrics of one log interval; empties the novelty log."""
        record = {
            **self.stats.summary(),
            **{f"losses/{k}": v for k, v in self._recent_metrics.items()},
            **_novelty_means(self._novelty_log),
            "charts/replay_sequences": float(replay_sequences),
            "charts/gradient_steps": float(self.learner.steps),
            "charts/evaluation_policy": float(self.evaluation_policy()),
        }
        self._novelty_log = []
        return record

    # ----------------------------------------------------------------- saving

    def network_variables(self) -> dict[str, tf.Variable]:
        """Every network's variables by name (online, target, embedding, RND): what an
        acting copy needs, without the optimizer state."""
        modules: dict[str, tf.Module] = {"embedding": self.embedding, "rnd": self.rnd}
        for name, (online, target) in self.q_networks.items():
            modules[f"{name}/online"], modules[f"{name}/target"] = online, target
        return {
            f"{prefix}/{i}": var
            for prefix, module in modules.items()
            for i, var in enumerate(module.variables)
        }

    def _named_state(self) -> dict[str, tf.Variable]:
        state = self.network_variables()
        for prefix, opt in (
            ("adam_q", self.learner.q_optimizer),
            ("adam_novelty", self.learner.novelty_optimizer),
        ):
            state[f"{prefix}/iterations"] = opt.iterations
            for i, (m, v) in enumerate(zip(opt.m, opt.v, strict=True)):
                state[f"{prefix}/m/{i}"], state[f"{prefix}/v/{i}"] = m, v
        return state

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _save_state(self, path: Path) -> None:
        save_variables(path, self._named_state())
        state = {
            "rng": self.rng.bit_generator.state,
            "learner_steps": self.learner.steps,
            **self.acting_stats(),
            **self._extra_state(),
        }
        (path / "state.json").write_text(json.dumps(state))

    def _load_state(self, path: Path) -> None:
        load_variables(path, self._named_state())
        state = json.loads((path / "state.json").read_text())
        self.rng.bit_generator.state = state["rng"]
        self.learner.steps = int(state["learner_steps"])
        self.load_acting_stats(state)
        self._load_extra_state(state)
        # Without a saved replay the buffer starts empty and learning waits for
        # learning_starts sequences again.
        if (path / REPLAY_FILE).is_file():
            self.replay.load_state_dict(load_replay(path / REPLAY_FILE))

    def _save_replay(self, path: Path) -> None:
        # A distributed run's replay lives in its ReplayServer actor, not in this agent.
        if self.config.checkpoint_replay and self.remote is None:
            save_replay(path / REPLAY_FILE, self.replay.state_dict(), self._compact_replay)

    def acting_stats(self) -> dict[str, Any]:
        """The running statistics of acting that :meth:`predict` also uses (the novelty
        normalizers and the extrinsic reward's mean), as plain data."""
        return {
            "sq_distance_stats": self.novelty.memory.sq_distance_stats.state_dict(),
            "error_stats": self.novelty.lifelong.error_stats.state_dict(),
            "reward_stats": _plain(self.reward_stats.state_dict()),
            "ri_stats": self.novelty.ri_stats.state_dict(),
            **(
                {"obs_stats": _plain(self.novelty.obs_stats.state_dict())}
                if self.novelty.obs_stats is not None
                else {}
            ),
        }

    def load_acting_stats(self, state: dict[str, Any]) -> None:
        """Read back :meth:`acting_stats` (a distributed learner: from its actors)."""
        self.novelty.memory.sq_distance_stats.load_state_dict(state["sq_distance_stats"])
        self.novelty.lifelong.error_stats.load_state_dict(state["error_stats"])
        self.reward_stats.load_state_dict(_arrays(state["reward_stats"]))
        if "ri_stats" in state:  # checkpoints before 2026-12-02 have none
            self.novelty.ri_stats.load_state_dict(state["ri_stats"])
        if self.novelty.obs_stats is not None and "obs_stats" in state:
            self.novelty.obs_stats.load_state_dict(_arrays(state["obs_stats"]))


def merge_acting_stats(states: list[dict[str, Any]], decay: float) -> dict[str, Any]:
    """One :meth:`_RecurrentAgent.acting_stats` from several actors': the exponential
    averages by the mean of their bias-corrected moments (``decay`` is
    ``novelty_stats_decay``), the extrinsic reward statistics merged exactly (the actors'
    samples are disjoint)."""
    merged = {
        "sq_distance_stats": ExponentialMeanStd.merged(
            [s["sq_distance_stats"] for s in states], decay
        ),
        "error_stats": ExponentialMeanStd.merged([s["error_stats"] for s in states], decay),
        "reward_stats": _pooled([s["reward_stats"] for s in states]),
    }
    if all("ri_stats" in s for s in states):
        merged["ri_stats"] = ExponentialMeanStd.merged([s["ri_stats"] for s in states], decay)
    if all("obs_stats" in s for s in states):
        merged["obs_stats"] = _pooled([s["obs_stats"] for s in states])
    return merged


def _pooled(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, variance and count of the union of disjoint samples (RunningMeanStd states)."""
    counts = np.array([float(s["count"]) for s in states])
    means = np.array([np.asarray(s["mean"], np.float64) for s in states])
    variances = np.array([np.asarray(s["var"], np.float64) for s in states])
    total = counts.sum()
    weights = counts / total if total > 0 else np.full(len(states), 1 / len(states))
    weights = weights.reshape(-1, *([1] * (means.ndim - 1)))
    mean = (weights * means).sum(axis=0)
    # Pooled variance: within-actor variance plus the spread of the actors' means.
    var = (weights * (variances + (means - mean) ** 2)).sum(axis=0)
    return {"mean": mean.tolist(), "var": var.tolist(), "count": float(total)}


def _novelty_means(values: list[tuple[float, float, float]]) -> dict[str, float]:
    if not values:
        return {}
    means = np.mean(values, axis=0)
    return {
        "charts/intrinsic_reward": float(means[0]),
        "charts/episodic_reward": float(means[1]),
        "charts/lifelong_modulator": float(means[2]),
    }


def _successes(info: dict, done: np.ndarray) -> np.ndarray | None:
    final = info.get("final_info")
    if not isinstance(final, dict) or "is_success" not in final:
        return None
    return np.asarray(final["is_success"], dtype=bool)


def _plain(state: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in state.items()}


def _arrays(state: dict) -> dict:
    return {**state, "mean": np.asarray(state["mean"]), "var": np.asarray(state["var"])}


class NGU(_RecurrentAgent):
    """Never Give Up: R2D2 with a UVFA over N (beta_j, gamma_j) policies and the
    episodic x lifelong intrinsic reward. Each episode of each actor slot draws its j
    uniformly; evaluation acts greedily with j = 0 (beta_0 = 0).

    >>> agent = NGU(NGUConfig(seed=0)).learn(50_000)
    """

    algorithm = "ngu"
    distribution = "rl-ngu-agent57"
    config_class = NGUConfig
    head_names = ("q",)
    learner_class = NGULearner

    def _gammas(self) -> np.ndarray:
        return ngu_gammas(self.config.num_policies, self.config.gamma_max, self.config.gamma_min)

    def _choose_policies(self, slots: np.ndarray) -> np.ndarray:
        # Drawn per episode, not fixed per slot: with fewer slots than the paper's actors
        # a fixed pairing would tie j = 0 to one epsilon forever.
        return self.rng.integers(self.config.num_policies, size=len(slots)).astype(np.int32)

    def __init__(self, config: NGUConfig) -> None:
        # Extrinsic returns per j over the last 160 episodes, only for
        # ``evaluation_policy = "best_arm"`` (a diagnostic; NGU itself evaluates j = 0).
        self.policy_returns = SlidingWindowUCB(config.num_policies, 160, 1.0, 0.0)
        super().__init__(config)

    def end_of_episode(self, slots: np.ndarray, policies: np.ndarray, returns: np.ndarray):
        for j, episode_return in zip(policies, returns, strict=True):
            self.policy_returns.update(int(j), float(episode_return))

    def _default_evaluation_policy(self) -> int:
        return 0

    def _best_arm(self) -> int:
        return self.policy_returns.best_arm()

    def _extra_state(self) -> dict[str, Any]:
        return {"policy_returns": self.policy_returns.state_dict()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        if "policy_returns" in state:  # checkpoints before 2026-12-02 have none
            self.policy_returns.load_state_dict(state["policy_returns"])


class Agent57(_RecurrentAgent):
    """Agent57: separate extrinsic and intrinsic Q-networks mixed through h, trained with
    transformed Retrace; a sliding-window UCB bandit picks j per episode and evaluation
    acts greedily with its best arm.

    >>> agent = Agent57(Agent57Config(seed=0)).learn(50_000)
    """

    algorithm = "agent57"
    distribution = "rl-ngu-agent57"
    config_class = Agent57Config
    head_names = ("extrinsic", "intrinsic")
    learner_class = Agent57Learner

    def __init__(self, config: Agent57Config) -> None:
        self.meta = SlotBandits(
            config.num_envs,
            config.num_policies,
            config.ucb_window,
            config.ucb_beta,
            config.ucb_epsilon,
            shared=config.ucb_shared,
        )
        super().__init__(config)
        cfg = self.config
        self.evaluator = Evaluator(
            lambda: _checked_env(cfg, self.algorithm),
            SlidingWindowUCB(cfg.num_policies, cfg.evaluator_window, cfg.ucb_beta, cfg.ucb_epsilon),
            cfg.evaluator_period,
            cfg.evaluator_epsilon,
            seed=cfg.seed + EVALUATOR_SEED_OFFSET,
        )
        self._evaluator_log: list[tuple[int, float]] = []

    def _gammas(self) -> np.ndarray:
        c = self.config
        return agent57_gammas(c.num_policies, c.gamma0, c.gamma1, c.gamma2)

    def _choose_policies(self, slots: np.ndarray) -> np.ndarray:
        return np.array([self.meta.select(s, self.rng) for s in slots], np.int32)

    def end_of_episode(self, slots: np.ndarray, policies: np.ndarray, returns: np.ndarray):
        for slot, j, episode_return in zip(slots, policies, returns, strict=True):
            self.meta.update(int(slot), int(j), float(episode_return))

    def _default_evaluation_policy(self) -> int:
        best = self.evaluator.best_arm()
        return self.meta.best_arm() if best is None else best

    def _best_arm(self) -> int:
        return self.meta.best_arm()

    def run_evaluator(self) -> None:
        while self.evaluator.due(self.num_episodes):
            arm, episode_return = self.evaluator.play(
                self._act_one, lambda: self.new_acting_state(1)
            )
            self._evaluator_log.append((arm, episode_return))

    def _act_one(
        self, obs: Any, policy: int, ev: dict[str, Any], epsilon: float, rng: np.random.Generator
    ) -> int:
        """The evaluator's action index for one raw observation of its (wrapped) env."""
        return int(self.act(self.observations.stack([obs]), policy, ev, epsilon, rng)[0])

    def _log_record(self, replay_sequences: int) -> dict[str, float | None]:
        record = super()._log_record(replay_sequences)
        if self._evaluator_log:
            record["charts/evaluator_return"] = float(np.mean([r for _, r in self._evaluator_log]))
            record["charts/evaluator_episodes"] = float(self.evaluator.episodes)
        self._evaluator_log = []
        return record

    def _extra_state(self) -> dict[str, Any]:
        return {"meta": self.meta.state_dict(), "evaluator": self.evaluator.state_dict()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.meta.load_state_dict(state["meta"])
        if "evaluator" in state:  # checkpoints before 2026-12-03 have none
            self.evaluator.load_state_dict(state["evaluator"])
