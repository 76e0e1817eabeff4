"""PPO on Ray: rollout workers as Ray actors feeding the one PPO learner.

The learner is the ordinary :class:`~rl_ppo.agent.PPO`, trained by the ordinary
:func:`~rl_core.training.train_agent` (checkpoints, resume, metrics, Ctrl-C); this
runner only attaches a :class:`RayRollouts` as its ``rollout_source``. Each worker is
a PPO agent of its own (its envs, ``num_envs`` of them, seeded apart) that runs
the same ``collect_rollout`` and ``estimate_advantages`` the single-process agent
runs, with the weights the learner broadcast for this iteration. PPO is on-policy, so
the loop is synchronous: one rollout request per worker in flight, their batches
concatenated along the env axis for one update.

A worker that dies is restarted by Ray (``max_restarts=-1``); one that misses
``timeout_s`` is killed and restarted. Its batch is left out of that update and
``distributed/worker_failures`` counts the losses; five rounds in a row with no batch
at all end the run with an error (and the usual checkpoint).
Observation-normalization statistics are the learner's, sent with the weights and
updated from every worker's raw observations; reward scaling, when on, keeps a
running return per worker.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from rl_core.config import config_to_dict
from rl_core.distributed import (
    ActorRestarts,
    DistributedOptions,
    limit_tf_threads,
    ray_cluster,
)
from rl_core.errors import RLError
from rl_core.run import RunDirectory
from rl_core.training import train_agent
from rl_ppo.config import PPOConfig
from rl_ppo.observations import map_arrays

# Worker i's envs are seeded from config.seed + SEED_STRIDE * (i + 1): apart from the
# learner's and from each other.
SEED_STRIDE = 10_000
# Rounds in a row with no batch at all before the run gives up.
MAX_EMPTY_ROUNDS = 5


class RolloutWorker:
    """A PPO agent that only collects: weights in, a processed rollout out."""

    def __init__(self, config: dict[str, Any], index: int) -> None:
        limit_tf_threads(1)
        from rl_core.config import config_from_dict
        from rl_ppo.agent import PPO

        cfg = config_from_dict(PPOConfig, config)
        cfg = dataclasses.replace(cfg, seed=cfg.seed + SEED_STRIDE * (index + 1), device="cpu")
        self.agent = PPO(cfg)
        self.index = index

    def rollout(self, weights: dict[str, np.ndarray], obs_rms: dict | None, step: int) -> dict:
        agent = self.agent
        for name, var in agent.model.named_variables().items():
            var.assign(weights[name])
        agent.acting_policy.load(agent.model.policy_weights())
        if obs_rms is not None and agent.obs_rms is not None:
            agent.obs_rms.load_state_dict(obs_rms)
        # The learner's step count drives the lr/clip schedules; here it only seeds resets.
        agent.num_timesteps = step
        agent.reset_envs()
        start = time.perf_counter()
        buf = agent.collect_rollout()
        agent.estimate_advantages(buf, agent.learning_rewards(buf["env_rewards"]))
        buf.pop("final_obs")  # used by estimate_advantages; not needed by the update
        buf["collect_s"] = time.perf_counter() - start
        return buf

    def pid(self) -> int:
        import os

        return os.getpid()


class RayRollouts:
    """The learner's rollout source: one synchronous round of requests to every worker."""

    KEYS = ("raw_obs", "obs", "actions", "logp", "values", "advantages", "returns")
    KEYS += ("env_rewards", "terminated", "truncated")

    def __init__(self, ray: Any, agent: Any, options: DistributedOptions) -> None:
        from rl_core.episode_stats import EpisodeStats

        self.ray = ray
        self.options = options
        remote = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(RolloutWorker)
        plain = config_to_dict(agent.config)
        self.workers = [remote.remote(plain, i) for i in range(options.num_workers)]
        self.restarts = ActorRestarts(ray, self.workers)
        self._started = False
        self.width = agent.config.num_envs * options.num_workers
        # One column per worker env, so episodes are tracked across rounds.
        agent.stats = EpisodeStats(self.width)

    def next_rollout(self, agent: Any) -> tuple[dict[str, Any], dict[str, float]]:
        ray = self.ray
        weights = ray.put({n: v.numpy() for n, v in agent.model.named_variables().items()})
        obs_rms = agent.obs_rms.state_dict() if agent.obs_rms is not None else None
        # The first round also waits for the workers to start (TensorFlow's import).
        timeout = self.options.timeout_s * (1 if self._started else 3)
        for _ in range(MAX_EMPTY_ROUNDS):
            start = time.perf_counter()
            available = self.restarts.available()
            if not available:
                self._wait_for_a_restart(timeout)
                continue
            refs = {
                i: self.workers[i].rollout.remote(weights, obs_rms, agent.num_timesteps)
                for i in available
            }
            ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout)
            batches = []
            for i, ref in refs.items():
                if ref not in ready:
                    # Stuck: kill it; Ray starts a fresh one (max_restarts=-1).
                    ray.kill(self.workers[i], no_restart=False)
                    self.restarts.lost(i)
                    continue
                try:
                    batches.append((i, ray.get(ref)))
                except ray.exceptions.RayActorError:
                    self.restarts.lost(i)  # died (a crash, a lost node): Ray is restarting it
            if batches:
                break
        else:
            raise RLError(
                f"no rollout worker answered in {MAX_EMPTY_ROUNDS} rounds "
                f"({self.restarts.failures} failures); "
                "see the Ray logs under /tmp/ray/session_latest"
            )
        self._started = True
        # Key by key for Dict observations.
        buf = {
            k: map_arrays(lambda *parts: np.concatenate(parts, axis=1), *(b[k] for _, b in batches))
            for k in self.KEYS
        }
        self._account(agent, buf, [i for i, _ in batches])
        wall = time.perf_counter() - start
        collect = max(b["collect_s"] for _, b in batches)
        return buf, {
            "distributed/workers": float(len(batches)),
            "distributed/worker_failures": float(self.restarts.failures),
            "distributed/round_s": wall,
            "distributed/collect_s": collect,
        }

    def _wait_for_a_restart(self, timeout: float) -> None:
        """Until a restarting worker is back (its probe answers) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not self.restarts.available():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            retry = self.restarts.next_retry_s()
            wait = left if retry is None else min(left, retry)
            probes = self.restarts.probes()
            if probes:
                ready, _ = self.ray.wait(probes, num_returns=1, timeout=wait)
                for ref in ready:
                    self.restarts.settle(ref)
            else:
                time.sleep(wait)

    def _account(self, agent: Any, buf: dict[str, np.ndarray], indices: list[int]) -> None:
        """The learner's counters and episode statistics, as if it had stepped the envs."""
        T, N = buf["env_rewards"].shape
        agent.num_timesteps += T * N
        dones = buf["terminated"] | buf["truncated"]
        agent.num_episodes += int(dones.sum())
        # Columns of the workers that answered; a missing worker's envs just pause.
        per = N // len(indices)
        cols = np.concatenate([np.arange(i * per, (i + 1) * per) for i in indices])
        active = np.zeros(self.width, bool)
        active[cols] = True
        rewards = np.zeros((T, self.width))
        ended = np.zeros((T, self.width), bool)
        rewards[:, cols], ended[:, cols] = buf["env_rewards"], dones
        for t in range(T):
            agent.stats.update(rewards[t], ended[t], active=active)
        if agent.obs_rms is not None:
            agent.obs_rms.update(buf["raw_obs"].reshape(T * N, -1))


def train_on_ray(config: PPOConfig, run: RunDirectory, options: DistributedOptions):
    """``rl train ppo --distributed ray``: :func:`train_agent` with Ray rollout workers."""
    from rl_ppo.agent import PPO

    with ray_cluster(options) as ray:

        def attach(agent: PPO) -> None:
            agent.rollout_source = RayRollouts(ray, agent, options)

        return train_agent(PPO, config, run, setup=attach)
