"""GAIL: a PPO generator rewarded by a discriminator, trained in turns (Ho & Ermon, 2016).

The generator is ``rl_ppo.PPO`` itself: GAIL runs its three phases (collect a
rollout, estimate advantages, update the policy) and slots the discriminator in
between, so PPO's rollout handling, truncation bootstrapping and update are the
ones its own tests pin.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from rl_ppo.agent import _MAX_SEED, PPO

from rl_core.callbacks import Callback
from rl_core.math import RunningMeanStd
from rl_core.optim import Adam
from rl_gail.config import GAILConfig
from rl_gail.demonstrations import Demonstrations, load_demonstrations, resolve_source
from rl_gail.discriminator import Discriminator, DiscriminatorLearner


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
        action_dim = self.envs.single_action_space.n if self.discrete else self.action_low.size
        self.discriminator = Discriminator(
            self.obs_dim,
            int(action_dim),
            self.discrete,
            config.disc_hidden_sizes,
            config.disc_normalize_inputs,
            seed=config.seed,
        )
        self.disc_learner = DiscriminatorLearner(self.discriminator, config)
        self.disc_rms = RunningMeanStd(shape=(self.obs_dim,))
        # Read when training starts, not here: a saved policy loads without its demonstrations.
        self.demos: Demonstrations | None = None

    # ----------------------------------------------------------- demonstrations

    def load_demos(self) -> Demonstrations:
        if self.demos is None:
            cfg = self.config
            self.demos = load_demonstrations(
                resolve_source(cfg.demos, cfg.env),
                self.envs.single_observation_space,
                self.envs.single_action_space,
                cfg.demo_episodes,
            )
            if self.num_timesteps == 0:
                self.disc_rms.update(self.demos.observations)
        return self.demos

    def behaviour_cloning(self) -> float:
        """Maximum likelihood of the expert's actions under the policy, ``bc_epochs`` passes
        of minibatches; returns the final mean negative log-likelihood."""
        cfg, demos = self.config, self.load_demos()
        obs = self._prepare(demos.observations, update=True)
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
            seed = tf.constant(self.rng.integers(0, _MAX_SEED, size=2), dtype=tf.int32)
            nll = float(epoch(obs_t, actions_t, seed))
        self.acting_policy.load(self.model.policy_weights())
        return nll

    # ---------------------------------------------------------------- learning

    def update_discriminator(self, buf: dict) -> dict[str, float]:
        """Fit D on this rollout's (s, a) against as many expert pairs."""
        demos = self.load_demos()
        obs = buf["raw_obs"].reshape(-1, self.obs_dim)
        actions = buf["actions"].reshape(len(obs), *buf["actions"].shape[2:])
        if self.config.disc_normalize_inputs:
            self.disc_rms.update(obs)
            self.discriminator.obs_mean.assign(self.disc_rms.mean.astype(np.float32))
            self.discriminator.obs_var.assign(self.disc_rms.var.astype(np.float32))
        seed = tf.constant(self.rng.integers(0, _MAX_SEED, size=2), dtype=tf.int32)
        metrics = self.disc_learner.update(
            tf.constant(obs),
            tf.constant(actions),
            tf.constant(demos.observations),
            tf.constant(demos.actions),
            tf.constant(self.config.disc_learning_rate, tf.float32),
            seed,
        )
        return {f"discriminator/{k}": float(v) for k, v in metrics.items()}

    def discriminator_rewards(self, buf: dict) -> np.ndarray:
        """r(s, a) from D for every step of the rollout, shaped [n_steps, num_envs]."""
        T, N = buf["env_rewards"].shape
        obs = buf["raw_obs"].reshape(T * N, self.obs_dim)
        actions = buf["actions"].reshape(T * N, *buf["actions"].shape[2:])
        rewards = self.disc_learner.rewards(tf.constant(obs), tf.constant(actions))
        return rewards.numpy().reshape(T, N)

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
            rewards = self.discriminator_rewards(buf)
            self.estimate_advantages(buf, rewards)
            record.update(self.update_policy(buf))
            # charts/episodic_return stays the env's return: reported, never learned from.
            record["charts/gail_reward"] = float(rewards.mean())
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
