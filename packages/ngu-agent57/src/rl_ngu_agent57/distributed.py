"""NGU and Agent57 on Ray: acting actors and the replay as Ray actors, the learner here.

The learner is the ordinary :class:`~rl_ngu_agent57.agent.NGU` or
:class:`~rl_ngu_agent57.agent.Agent57`, trained by the ordinary
:func:`~rl_core.training.train_agent` (checkpoints, resume, metrics, Ctrl-C) on the GPU
when there is one; this runner only attaches a :class:`RayLearning` as the agent's
``remote``, which replaces the acting half of its training loop:

- ``num_workers`` :class:`ActingWorker` s, each an agent of the same class that only
  acts (one CPU, one TensorFlow thread, no GPU): its own envs (seeded apart), its own
  rung of the Ape-X epsilon ladder, its own episodic memory and novelty normalizers and,
  for Agent57, its own sliding-window UCB meta-controller, as in the paper (one per
  actor; choosing j for an episode then needs no round trip). It steps its envs with
  :meth:`~rl_ngu_agent57.agent.NGU.step_actors`, the code a single-process run steps
  with, and gives the sequences their initial priorities with its copy of the learner
  (:meth:`~rl_ngu_agent57.learning.Learner.priorities`, the TD-error priority of a
  learner step), as in Ape-X and R2D2.
- one :class:`ReplayServer`, the prioritized replay. Sequences go from an actor to it by
  object reference; they never pass through the learner.
- the learner samples, steps, sends the new priorities back, and every
  ``weight_sync_period`` steps puts its network weights into the object store once;
  each actor gets that reference with its next call.

What is bounded: each actor has at most :data:`MAX_CALLS_PER_ACTOR` calls outstanding,
the learner at most :data:`MAX_SAMPLES_IN_FLIGHT` sample requests, and the replay at most
one pending insert per actor call. A :class:`ReplayRatio` holds the learner to a
single-process run's replay ratio (one gradient step per ``train_every`` vector steps),
like acme's rate limiter: the learner waits when it gets ahead, the actors when it falls
behind.

Failures: every ``ray.wait`` and ``ray.get`` has a timeout. An actor that dies is
restarted by Ray (``max_restarts=-1``); one whose call misses ``timeout_s`` is killed and
restarted. What it had in flight is lost, ``distributed/actor_failures`` counts the
losses and the other actors carry on. The replay is one actor: if it dies or stops
answering, the run stops with an error and ``rl resume`` continues from the newest
checkpoint (with an empty replay, as after any resume).

With each call's result the learner gets the finished episodes (for its statistics and,
for Agent57, its own meta-controller, whose best arm greedy evaluation acts with) and the
actor's acting statistics, which :meth:`predict` uses; so the trained agent, its
checkpoints and its evaluation are those of a single-process run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_core.callbacks import Callback
from rl_core.config import config_from_dict, config_to_dict
from rl_core.distributed import ActorRestarts, DistributedOptions, limit_tf_threads, ray_cluster
from rl_core.errors import RLError
from rl_core.replay import PrioritizedReplayBuffer
from rl_core.run import RunDirectory
from rl_core.training import train_agent
from rl_ngu_agent57.agent import merge_acting_stats
from rl_ngu_agent57.config import Agent57Config, CommonConfig, NGUConfig
from rl_ngu_agent57.schedules import actor_epsilons

if TYPE_CHECKING:
    from rl_ngu_agent57.agent import _RecurrentAgent as Agent

# Actor i's envs are seeded from config.seed + SEED_STRIDE * (i + 1): apart from the
# learner's and from each other.
SEED_STRIDE = 10_000
# Vector steps an actor takes per call: long enough to amortize a Ray call (~1 ms).
STEPS_PER_CALL = 16
# One call running and one queued, so an actor never idles waiting for the learner.
MAX_CALLS_PER_ACTOR = 2
# The next batch is sampled while the learner trains on this one.
MAX_SAMPLES_IN_FLIGHT = 2
# A fresh actor imports TensorFlow and builds its networks before its first result.
STARTUP_TIMEOUT_FACTOR = 3
# No actor result and no learner step for this many timeouts ends the run (more than
# a start-up takes).
SILENT_TIMEOUTS = 5


class ActingWorker:
    """An NGU/Agent57 agent that only acts: weights in, prioritized sequences out."""

    def __init__(self, agent_cls: type, config: dict[str, Any], index: int, num_workers: int):
        limit_tf_threads(1)
        cfg = config_from_dict(agent_cls.config_class, config)
        # The replay of this copy is never filled (sequences go to the ReplayServer).
        cfg = dataclasses.replace(
            cfg,
            seed=cfg.seed + SEED_STRIDE * (index + 1),
            device="cpu",
            replay_capacity=cfg.batch_size,
        )
        self.agent = agent = agent_cls(cfg)
        # Ape-X: one epsilon ladder over every actor's slots; this actor takes its rungs.
        n = cfg.num_envs
        ladder = actor_epsilons(n * num_workers, cfg.epsilon, cfg.epsilon_alpha)
        agent.actor.set_epsilons(ladder[index * n : (index + 1) * n])
        self.variables = agent.network_variables()
        self.version = -1  # of the weights acted with
        self._ended: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Beside this actor's own bandit update, the ended episodes go to the learner.
        agent.actor.add_episode_listener(lambda *ended: self._ended.append(ended))

    def collect(
        self, weights: dict[str, np.ndarray], version: int, vector_steps: int
    ) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        """Act for ``vector_steps`` steps with the learner's ``weights``; returns a report
        for the learner and the completed sequences with their ``priorities`` (or None)."""
        agent = self.agent
        if version != self.version:
            for name, var in self.variables.items():
                var.assign(weights[name])
            self.version = version
        start = time.perf_counter()
        steps, episodes = agent.num_timesteps, agent.stats.episodes
        sequences = [s for s in (agent.step_actors() for _ in range(vector_steps)) if s]
        batch = None
        if sequences:
            batch = {k: np.concatenate([s[k] for s in sequences]) for k in sequences[0]}
            batch["priorities"] = agent.learner.priorities(batch)
        report = {
            "steps": agent.num_timesteps - steps,
            "sequences": 0 if batch is None else len(batch["priorities"]),
            "num_episodes": agent.stats.episodes - episodes,
            "episodes": agent.stats.new_episodes(episodes),
            "ended": self._ended,
            "novelty": agent.pop_novelty_log(),
            "acting_stats": agent.acting_stats(),
            "collect_s": time.perf_counter() - start,
            "pid": os.getpid(),
        }
        self._ended = []
        return report, batch

    def pid(self) -> int:
        return os.getpid()


class ReplayServer:
    """The prioritized sequence replay as a Ray actor (its calls run one at a time)."""

    def __init__(self, specs: dict, capacity: int, alpha: float, beta: float, seed: int) -> None:
        self.buffer = PrioritizedReplayBuffer(capacity, specs, alpha=alpha, beta=beta)
        self.rng = np.random.default_rng(seed)

    def add(self, sequences: dict[str, np.ndarray]) -> int:
        """Store sequences with their initial ``priorities``; returns the replay's size."""
        sequences = dict(sequences)
        self.buffer.add_batch(priorities=sequences.pop("priorities"), **sequences)
        return len(self.buffer)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        return self.buffer.sample(batch_size, self.rng)

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        # Slots overwritten since they were sampled get a stale priority, as in Ape-X.
        self.buffer.update_priorities(indices, priorities)


@dataclass
class ReplayRatio:
    """Holds learner steps near ``steps_per_env_step`` per env step, ``tolerance`` either way;
    ``floating`` (Ape-X) holds neither side back.

    ``env_steps`` counts the actors' steps since learning started; the learner's steps
    include the samples already requested.
    """

    steps_per_env_step: float
    tolerance: float
    floating: bool = False
    env_steps: int = 0

    def can_sample(self, learner_steps: int) -> bool:
        return (
            self.floating
            or learner_steps < self.env_steps * self.steps_per_env_step + self.tolerance
        )

    def can_act(self, learner_steps: int) -> bool:
        return (
            self.floating
            or learner_steps > self.env_steps * self.steps_per_env_step - self.tolerance
        )


@dataclass
class _Call:
    worker: int
    batch: Any  # the reference to the call's sequences
    deadline: float


class RayLearning:
    """The learner's side: feeds ``agent.learner`` from remote actors and a remote replay."""

    def __init__(self, ray: Any, agent: Agent, options: DistributedOptions) -> None:
        self.ray = ray
        self.options = options
        cfg = agent.config
        n = options.num_workers
        worker = ray.remote(num_cpus=1, num_gpus=0, max_restarts=-1, max_task_retries=0)(
            ActingWorker
        )
        plain = config_to_dict(cfg)
        self.workers = [worker.remote(type(agent), plain, i, n) for i in range(n)]
        self.restarts = ActorRestarts(ray, self.workers)
        # Light work (indexing arrays): no CPU of its own, so all of them act.
        replay = ray.remote(num_cpus=0, max_restarts=0)(ReplayServer)
        self.replay = replay.remote(
            agent.adder.specs,
            cfg.replay_capacity,
            cfg.priority_exponent,
            cfg.importance_sampling_exponent,
            cfg.seed,
        )
        self.ratio = ReplayRatio(
            1.0 / (cfg.num_envs * cfg.train_every),
            tolerance=n * MAX_CALLS_PER_ACTOR * STEPS_PER_CALL / cfg.train_every,
            floating=cfg.replay_ratio == "float",
        )
        self.calls: dict[Any, _Call] = {}  # report reference -> its call
        self.inserts: dict[Any, float] = {}  # replay.add reference -> deadline
        self.samples: dict[Any, float] = {}  # replay.sample reference -> deadline
        self.replay_size = 0
        self.updates = 0  # learner steps since learning started
        self.weights: Any = None
        self.version = 0
        # Of each actor's latest report; None until a (restarted) actor's first one.
        self.pids: list[int | None] = [None] * n
        self.acting_stats: list[dict[str, Any] | None] = [None] * n
        self.last_progress = time.monotonic()
        self.collect_s: list[float] = []

    # ------------------------------------------------------------------ loop

    def learn(self, agent: Agent, target_steps: int, callback: Callback) -> None:
        """``agent._learn`` for a distributed run: until ``target_steps`` or a stop."""
        cfg = agent.config
        next_log = agent.num_timesteps + cfg.log_every
        self.last_progress = time.monotonic()
        self._broadcast(agent)
        while agent.num_timesteps < target_steps:
            self._submit(agent)
            ref = self._next_ready()
            if ref in self.calls:
                self._receive(agent, ref)
            elif ref in self.inserts:
                del self.inserts[ref]
                self.replay_size = self._replay_get(ref)
            elif ref in self.samples:
                self._train(agent, ref)
            elif ref is not None:
                self.restarts.settle(ref)  # a restarted actor is back, or is probed again
            if agent.num_timesteps >= next_log or agent.num_timesteps >= target_steps:
                next_log = agent.num_timesteps + cfg.log_every
                record = {**agent._log_record(self.replay_size), **self._metrics()}
                if not agent._emit(callback, record):
                    break

    def _submit(self, agent: Agent) -> None:
        """Top up every available actor's calls and the learner's sample requests."""
        cfg = agent.config
        now = time.monotonic()
        # Every round, also when the actors wait: it re-sends the restart probes due.
        available = self.restarts.available()
        acting = self.ratio.can_act(self.updates + len(self.samples))
        # Inserts the replay has not taken yet hold back new calls (backpressure).
        if acting and len(self.inserts) < len(self.workers) * MAX_CALLS_PER_ACTOR:
            for i in available:
                queued = sum(call.worker == i for call in self.calls.values())
                for position in range(queued, MAX_CALLS_PER_ACTOR):
                    self._call(i, now, position)
        if self.replay_size < cfg.learning_starts:
            return
        while len(self.samples) < MAX_SAMPLES_IN_FLIGHT and self.ratio.can_sample(
            self.updates + len(self.samples)
        ):
            ref = self.replay.sample.remote(cfg.batch_size)
            self.samples[ref] = now + self.options.timeout_s

    def _call(self, i: int, now: float, position: int) -> None:
        # Every call names the newest weights (an actor restarted between calls has lost
        # its copy); an actor that has that version already skips loading it.
        collect = self.workers[i].collect.options(num_returns=2)
        report, batch = collect.remote(self.weights, self.version, STEPS_PER_CALL)
        started = self.pids[i] is not None
        timeout = self.options.timeout_s * (1 if started else STARTUP_TIMEOUT_FACTOR)
        # A queued call starts when the ones ahead of it are done.
        self.calls[report] = _Call(i, batch, now + timeout * (position + 1))

    def _next_ready(self) -> Any:
        """The first result to arrive, or None after the earliest deadline passes (then
        overdue calls are dealt with)."""
        # The learner's samples first: it is the part that must not starve.
        refs = [*self.samples, *self.inserts, *self.calls, *self.restarts.probes()]
        deadlines = [c.deadline for c in self.calls.values()]
        deadlines += [*self.inserts.values(), *self.samples.values()]
        retry = self.restarts.next_retry_s()  # a lost actor to probe again by then
        if retry is not None:
            deadlines.append(time.monotonic() + retry)
        now = time.monotonic()
        wait = min([self.options.timeout_s, *(d - now for d in deadlines)])
        ready, _ = self.ray.wait(refs, num_returns=1, timeout=max(wait, 0.0))
        if ready:
            return ready[0]
        self._expire(time.monotonic())
        return None

    def _expire(self, now: float) -> None:
        for i in {call.worker for call in self.calls.values() if call.deadline <= now}:
            # Stuck: kill it; Ray starts a fresh one (max_restarts=-1).
            self.ray.kill(self.workers[i], no_restart=False)
            self._lost(i)
        if any(d <= now for d in [*self.inserts.values(), *self.samples.values()]):
            raise RLError(f"the replay actor did not answer in {self.options.timeout_s:g} s")
        silent = now - self.last_progress
        if silent > SILENT_TIMEOUTS * self.options.timeout_s:
            raise RLError(
                f"no progress in {silent:.0f} s ({self.restarts.failures} failures); "
                "see the Ray logs under /tmp/ray/session_latest"
            )

    def _lost(self, i: int) -> None:
        """Actor i died or was killed: drop its calls; count the loss once."""
        for ref in [ref for ref, call in self.calls.items() if call.worker == i]:
            del self.calls[ref]
        self.pids[i] = None
        self.restarts.lost(i)

    def _receive(self, agent: Agent, ref: Any) -> None:
        call = self.calls.pop(ref)
        try:
            report = self.ray.get(ref, timeout=self.options.timeout_s)
        except self.ray.exceptions.RayActorError:
            self._lost(call.worker)  # died (a crash, a lost node): Ray is restarting it
            return
        i = call.worker
        if self.pids[i] not in (None, report["pid"]):
            # It died between calls (none in flight to fail) and Ray restarted it.
            self.restarts.failures += 1
        self.pids[i] = report["pid"]
        self.last_progress = time.monotonic()
        if report["sequences"]:
            # The reference, not the data: the replay fetches it from the object store.
            ref = self.replay.add.remote(call.batch)
            self.inserts[ref] = time.monotonic() + self.options.timeout_s
        self._account(agent, report, i)

    def _account(self, agent: Agent, report: dict[str, Any], worker: int) -> None:
        """The learner's counters and statistics, as if it had stepped the envs itself."""
        agent.num_timesteps += report["steps"]
        agent.num_episodes += report["num_episodes"]
        agent.stats.record(**report["episodes"])
        for ended in report["ended"]:
            agent.end_of_episode(*ended)
        agent.run_evaluator()
        agent.extend_novelty_log(report["novelty"])
        # Each actor normalizes with its own statistics; the learner (checkpoints, predict)
        # keeps the merge of every actor's latest, not whichever reported last.
        self.acting_stats[worker] = report["acting_stats"]
        latest = [s for s in self.acting_stats if s is not None]
        agent.load_acting_stats(merge_acting_stats(latest, agent.config.novelty_stats_decay))
        self.collect_s.append(report["collect_s"])
        if self.replay_size >= agent.config.learning_starts:
            self.ratio.env_steps += report["steps"]

    def _train(self, agent: Agent, ref: Any) -> None:
        del self.samples[ref]
        batch = self._replay_get(ref)
        indices = batch.pop("indices")
        priorities = agent.train_step(batch)
        # Not awaited: the replay runs calls in order, so the next sample sees them.
        self.replay.update_priorities.remote(indices, priorities)
        self.updates += 1
        self.last_progress = time.monotonic()
        if agent.learner.steps % agent.config.weight_sync_period == 0:
            self._broadcast(agent)

    def _broadcast(self, agent: Agent) -> None:
        """One copy of the weights in the object store; the actors' next calls name it."""
        weights = {name: var.numpy() for name, var in agent.network_variables().items()}
        self.weights = self.ray.put(weights)
        self.version += 1

    def _replay_get(self, ref: Any) -> Any:
        try:
            return self.ray.get(ref, timeout=self.options.timeout_s)
        except self.ray.exceptions.RayActorError as exc:
            raise RLError(f"the replay actor died: {exc}") from None

    def _metrics(self) -> dict[str, float]:
        collect = float(np.mean(self.collect_s)) if self.collect_s else 0.0
        self.collect_s = []
        return {
            "distributed/actors": float(len(self.restarts.available())),
            "distributed/actor_failures": float(self.restarts.failures),
            "distributed/collect_s": collect,
            # Learner steps per actor env step since learning started: fixed runs hold it
            # near 1 / (num_envs * train_every), floating ones show what they reached.
            "distributed/updates_per_env_step": self.updates / max(self.ratio.env_steps, 1),
            "distributed/weights_version": float(self.version),
        }

    def close(self) -> None:
        """Stop the actors and the replay (a cluster outlives the run)."""
        for actor in [*self.workers, self.replay]:
            self.ray.kill(actor, no_restart=True)


def train_on_ray(config: CommonConfig, run: RunDirectory, options: DistributedOptions):
    """``rl train ngu|agent57 --distributed ray``: :func:`train_agent` with Ray actors."""
    from rl_ngu_agent57.agent import NGU, Agent57

    agent_cls = {NGUConfig: NGU, Agent57Config: Agent57}[type(config)]
    with ray_cluster(options) as ray:
        attached: list[RayLearning] = []

        def attach(agent: Agent) -> None:
            agent.remote = RayLearning(ray, agent, options)
            attached.append(agent.remote)

        try:
            agent = train_agent(agent_cls, config, run, setup=attach)
        finally:
            for learning in attached:
                learning.close()
        agent.remote = None  # a plain agent from here on: learn() acts in this process
        return agent
