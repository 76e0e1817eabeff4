"""GAIL: a PPO generator rewarded by a discriminator, trained in turns (Ho & Ermon, 2016).

The generator is ``rl_ppo.PPO`` itself: GAIL runs its three phases (collect a
rollout, estimate advantages, update the policy) and slots the discriminator in
between, so PPO's rollout handling, truncation bootstrapping and update are the
ones its own tests pin.

Absorbing states (Kostrikov et al., 2019): a true termination leads to an absorbing
state s_a that D scores like any (s, a); expert episodes that terminate end in it too.
The generator's terminal step earns r(s_T, a_T) + gamma r(s_a) / (1 - gamma), the value
of staying in s_a forever, so the reward's sign no longer says "live longer" or "die
sooner": D decides whether ending an episode is what the expert does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from rl_ppo import PPO

from rl_core.callbacks import Callback
from rl_core.math import RunningMeanStd
from rl_core.optim import Adam
from rl_core.spaces import check_observation_space
from rl_gail.config import GAILConfig
from rl_gail.demonstrations import Demonstrations, load_demonstrations, resolve_source
from rl_gail.discriminator import (
    Discriminator,
    DiscriminatorLearner,
    absorbing_return,
    resolve_reward,
)

# (observations, actions, absorbing indicators): what the discriminator reads.
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


OBSERVATIONS = ("flat",)
"""The observation kinds GAIL trains on (:mod:`rl_core.spaces`)."""


class GAIL(PPO):
    """Imitates expert demonstrations; never sees the environment's reward.

    >>> agent = GAIL(GAILConfig(env="CartPole-v1", demos="expert.npz"))
    >>> agent.learn(200_000)
    """

    algorithm = "gail"
    distribution = "rl-gail"
    config_class = GAILConfig
    config: GAILConfig

    def __init__(self, config: GAILConfig) -> None:
        super().__init__(config)
        # The discriminator is an MLP over [s, a]: PPO's image encoders do not reach it.
        check_observation_space(
            self.envs.single_observation_space, OBSERVATIONS, "gail", config.env
        )
        action_dim = self.envs.single_action_space.n if self.discrete else self.action_low.size
        self.discriminator = Discriminator(
            self.obs_dim,
            int(action_dim),
            self.discrete,
            config.disc_hidden_sizes,
            config.disc_normalize_inputs,
            seed=config.seed,
            head_scale=config.disc_head_scale,
        )
        self.disc_learner = DiscriminatorLearner(self.discriminator, config)
        self.disc_rms = RunningMeanStd(shape=(self.obs_dim,))
        # Read when training starts, not here: a saved policy loads without its demonstrations.
        self.demos: Demonstrations | None = None
        self.expert_batch: Batch | None = None

    # ----------------------------------------------------------- demonstrations

    def load_demos(self) -> Demonstrations:
        if self.demos is None:
            cfg = self.config
            demos = load_demonstrations(
                resolve_source(cfg.demos, cfg.env),
                self.envs.single_observation_space,
                self.envs.single_action_space,
                cfg.demo_episodes,
            )
            if self.num_timesteps == 0:
                self.disc_rms.update(demos.observations)
            # One absorbing transition per expert episode that terminated (DAC; the
            # expert's trajectories are not subsampled here), weighed absorbing_weight.
            self.expert_batch = self.discriminator_batch(
                demos.observations, demos.actions, int(demos.episode_terminated.sum())
            )
            self.disc_learner.reward_kind = resolve_reward(cfg.reward, demos.episode_terminated)
            self.demos = demos
        return self.demos

    @property
    def reward_kind(self) -> str:
        """The reward form the generator learns from: ``config.reward``, with ``auto``
        resolved from the demonstrations (read here if they were not yet)."""
        self.load_demos()
        return self.disc_learner.reward_kind

    def discriminator_batch(self, obs: np.ndarray, actions: np.ndarray, terminations: int) -> Batch:
        """D's inputs for (s, a) pairs followed by ``terminations`` absorbing transitions.

        Continuous actions are clipped to the action bounds first: the env (and so every
        recorded expert action) only ever sees clipped actions, while the generator's
        Gaussian samples are not, and D could otherwise tell them apart by |a| alone.
        """
        obs = np.asarray(obs, np.float32).reshape(-1, self.obs_dim)
        actions = np.asarray(actions)
        if self.discrete:
            actions = actions.reshape(len(obs)).astype(np.int64)
        else:
            actions = actions.reshape(len(obs), -1).astype(np.float32)
            actions = np.clip(actions, self.action_low, self.action_high)
        if not self.config.absorbing_states:
            terminations = 0
        absorbing = np.zeros(len(obs) + terminations, np.float32)
        absorbing[len(obs) :] = 1.0
        pad = [(0, terminations)] + [(0, 0)] * (actions.ndim - 1)
        obs = np.pad(obs, [(0, terminations), (0, 0)])
        return obs, np.pad(actions, pad), absorbing

    def behaviour_cloning(self) -> float:
        """Maximum likelihood of the expert's actions under the policy, ``bc_epochs`` passes
        of minibatches; returns the final mean negative log-likelihood."""
        cfg, demos = self.config, self.load_demos()
        obs = self.prepare_observations(demos.observations, update=True)
        variables = self.model.trainable_variables
        optimizer = Adam(variables, eps=cfg.adam_eps)
        mb = min(cfg.minibatch_size, len(obs))

        @tf.function
        def epoch(obs, actions, seed):
            n = tf.shape(obs)[0]
            order = tf.argsort(tf.random.stateless_uniform([n], seed=seed))
            total = tf.constant(0.0)
            for i in tf.range(n // mb):
                idx = order[i * mb : (i + 1) * mb]
                with tf.GradientTape() as tape:
                    dist, _ = self.model(tf.gather(obs, idx))
                    nll = -tf.reduce_mean(dist.log_prob(tf.gather(actions, idx)))
                grads = tape.gradient(
                    nll, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
                )
                optimizer.apply(grads, tf.constant(cfg.bc_learning_rate))
                total += nll
            return total / tf.cast(n // mb, tf.float32)

        nll = float("nan")
        obs_t, actions_t = tf.constant(obs), tf.constant(demos.actions)
        for _ in range(cfg.bc_epochs):
            nll = float(epoch(obs_t, actions_t, self.new_seed()))
        self.acting_policy.load(self.model.policy_weights())
        return nll

    # ---------------------------------------------------------------- learning

    def update_discriminator(self, buf: dict) -> dict[str, float]:
        """Fit D on this rollout's (s, a), and an absorbing transition per termination,
        against expert transitions."""
        self.load_demos()
        assert self.expert_batch is not None
        obs = buf["raw_obs"].reshape(-1, self.obs_dim)
        if self.config.disc_normalize_inputs:
            self.disc_rms.update(obs)
            self.discriminator.obs_mean.assign(self.disc_rms.mean.astype(np.float32))
            self.discriminator.obs_var.assign(self.disc_rms.var.astype(np.float32))
        agent = self.discriminator_batch(obs, buf["actions"], int(buf["terminated"].sum()))
        metrics = self.disc_learner.update(
            tuple(tf.constant(x) for x in agent),
            tuple(tf.constant(x) for x in self.expert_batch),
            tf.constant(self.config.disc_learning_rate, tf.float32),
            self.new_seed(),
        )
        return {f"discriminator/{k}": float(v) for k, v in metrics.items()}

    def discriminator_rewards(self, buf: dict) -> tuple[np.ndarray, float]:
        """The generator's rewards [n_steps, num_envs] for the rollout, and r(s_a).

        r(s_t, a_t) from D for every step; a step that truly terminated also earns the
        absorbing state's return gamma r(s_a) / (1 - gamma) (see ``absorbing_return``).
        """
        self.load_demos()  # they decide what reward="auto" stands for
        T, N = buf["env_rewards"].shape
        # The rollout's pairs and one absorbing transition, in one graph call.
        obs, actions, absorbing = self.discriminator_batch(buf["raw_obs"], buf["actions"], 1)
        out = self.disc_learner.rewards(
            tf.constant(obs), tf.constant(actions), tf.constant(absorbing)
        ).numpy()
        rewards = out[: T * N].reshape(T, N)
        if not self.config.absorbing_states:
            return rewards, float("nan")
        absorbing_reward = float(out[-1])
        bonus = absorbing_return(absorbing_reward, self.config.gamma)
        return rewards + bonus * buf["terminated"], absorbing_reward

    def _learn(self, target_steps: int, callback: Callback) -> None:
        demos = self.load_demos()
        known = demos.episode_returns[np.isfinite(demos.episode_returns)]
        expert = {"charts/expert_return": float(known.mean())} if len(known) else {}
        if self.config.bc_epochs and self.num_timesteps == 0:
            self.behaviour_cloning()
        self.reset_envs()
        while self.num_timesteps < target_steps:
            buf = self.collect_rollout()
            record = self.update_discriminator(buf)
            rewards, absorbing_reward = self.discriminator_rewards(buf)
            self.estimate_advantages(buf, rewards)
            record.update(self.update_policy(buf))
            # charts/episodic_return stays the env's return: reported, never learned from.
            record["charts/gail_reward"] = float(rewards.mean())
            if self.config.absorbing_states:
                record["charts/gail_absorbing_reward"] = absorbing_reward
            record.update(expert)
            if not self._emit(callback, {**self.stats.summary(), **record}):
                break

    # ----------------------------------------------------------------- saving

    def _named_state(self) -> dict[str, tf.Variable]:
        state = super()._named_state()
        named = self.discriminator.named_variables()
        names = {id(v): n for n, v in named.items()}
        return {**state, **named, **self.disc_learner.optimizer.named(names)}

    def _save_state(self, path: Path) -> None:
        super()._save_state(path)
        rms = {k: np.asarray(v).tolist() for k, v in self.disc_rms.state_dict().items()}
        (path / "discriminator.json").write_text(json.dumps({"rms": rms}))

    def _load_state(self, path: Path) -> None:
        super()._load_state(path)
        state = json.loads((path / "discriminator.json").read_text())["rms"]
        self.disc_rms.load_state_dict(state)
