"""Scaling out on Ray: the options every distributed runner takes, and the cluster's lifetime.

An algorithm offers a distributed runner by registering it in its
:class:`~rl_core.algorithm.AlgorithmSpec` (``distributed={"ray": train_fn}``);
``rl train <algo> --distributed ray`` calls ``train_fn(config, run, options)``. The
runner wires the algorithm's own parts (acting, learning) across Ray actors; it is
not a second copy of the algorithm.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rl_core.errors import ConfigError, RLError, install_hint

INSTALL_HINT = f"Ray is not installed; install the extra: {install_hint('ray')}"


@dataclass(frozen=True)
class DistributedOptions:
    """How to scale out. ``address=None`` starts a local Ray instance for the run."""

    backend: str = "ray"
    num_workers: int = 2
    """Acting processes: rollout workers (PPO) or actors (NGU/Agent57)."""
    address: str | None = None
    """An existing cluster (``ray://host:10001`` or ``auto``); None starts a local one."""
    timeout_s: float = 120.0
    """The longest wait for any one result from a worker before it counts as lost."""
    num_cpus: int | None = None
    """CPUs of a local instance (None: all of this machine's)."""

    def __post_init__(self) -> None:
        if self.backend != "ray":
            raise ConfigError(f"--distributed must be 'ray', got {self.backend!r}")
        if self.num_workers < 1:
            raise ConfigError(f"--num-workers must be >= 1, got {self.num_workers}")
        if self.timeout_s <= 0:
            raise ConfigError("the worker timeout must be > 0 seconds")


def require_ray():
    """``import ray``, or one line saying how to install it.

    Ray's ``uv run`` hook is switched off first (it is read when Ray is imported):
    workers run in the driver's own environment. With the hook, a driver started under
    ``uv run`` has Ray rebuild the project for its workers from a copy of the working
    directory, which reinstalls the workspace, editable, from that temporary copy into
    the active environment.
    """
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    try:
        import ray
    except ImportError:
        raise RLError(INSTALL_HINT) from None
    return ray


@contextlib.contextmanager
def ray_cluster(options: DistributedOptions) -> Iterator[object]:
    """Connect to ``options.address``, or start a local Ray instance and shut it down after.

    A local instance offers at least one CPU per worker, even on a smaller machine (the
    workers then share cores, which the scaling benchmark shows); a cluster with fewer
    free CPUs than workers is a clear error instead of workers that never start.
    Workers inherit ``TF_CPP_MIN_LOG_LEVEL`` so TensorFlow stays as quiet there as here.
    """
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        env = {k: v for k, v in os.environ.items() if k.startswith("TF_CPP")}
        kwargs: dict = {
            "include_dashboard": False,
            "log_to_driver": False,
            "runtime_env": {"env_vars": env} if env else None,
        }
        if options.address is None:
            kwargs["num_cpus"] = options.num_cpus or max(os.cpu_count() or 1, options.num_workers)
        try:
            ray.init(address=options.address, **kwargs)
        except ConnectionError as exc:
            raise RLError(f"cannot reach the Ray cluster at {options.address}: {exc}") from None
    cpus = ray.cluster_resources().get("CPU", 0)
    if cpus < options.num_workers:
        if started:
            ray.shutdown()
        raise RLError(
            f"{options.num_workers} workers need {options.num_workers} CPUs; the Ray cluster "
            f"has {cpus:g}: use --num-workers {int(cpus)} or a larger cluster"
        )
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def limit_tf_threads(threads: int = 1) -> None:
    """Keep an acting process to ``threads`` TensorFlow threads and off any GPU.

    Several workers share a machine's cores; TensorFlow's default thread pools
    (one thread per core each) would oversubscribe it.
    """
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialized: keep what it has
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    with contextlib.suppress(RuntimeError, ValueError):
        tf.config.set_visible_devices([], "GPU")


class ActorRestarts:
    """Which of a runner's Ray actors are restarting after a loss, and when each is back.

    The actors are created with ``max_restarts=-1``, so Ray restarts one that dies (or
    that the runner killed for missing its timeout). A lost actor sits out until a
    probe call (``probe``: the name of a cheap method) returns from its new incarnation;
    calls in flight when it died fail, those made after wait for the restart.

    A probe can itself fail at once (it reached the dying incarnation); the actor is
    then probed again ``retry_s`` later, not at once: a failed reference stays ready, and
    a runner that waited on it again would spin at full speed on a core the restarting
    actor needs.
    """

    def __init__(
        self,
        ray: Any,
        actors: Sequence[Any],
        probe: str = "pid",
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ray = ray
        self.actors = actors
        self.probe = probe
        self.retry_s = retry_s
        self.clock = clock
        self.failures = 0
        self._probes: dict[int, Any] = {}  # actor index -> probe of its restart, in flight
        self._retry_at: dict[int, float] = {}  # actor index -> when to probe it again

    def lost(self, index: int) -> None:
        """Count the loss; the actor sits out until its probe comes back."""
        self.failures += 1
        self._retry_at.pop(index, None)
        self._send_probe(index)

    def probes(self) -> list[Any]:
        """The probes in flight, to wait on when no actor is available."""
        return list(self._probes.values())

    def next_retry_s(self) -> float | None:
        """Seconds until a failed probe is sent again (None: none is waiting)."""
        if not self._retry_at:
            return None
        return max(0.0, min(self._retry_at.values()) - self.clock())

    def settle(self, ref: Any) -> bool:
        """Deal with a finished ``ref`` if it is a probe: its actor is back, or is probed
        again after ``retry_s``. Returns whether ``ref`` was a probe."""
        index = next((i for i, probe in self._probes.items() if probe == ref), None)
        if index is None:
            return False
        del self._probes[index]
        try:
            self.ray.get(ref, timeout=0)
        except self.ray.exceptions.RayActorError:
            self._retry_at[index] = self.clock() + self.retry_s  # not up yet
        return True

    def available(self) -> list[int]:
        """Actors not restarting: the live ones and those whose probe has come back."""
        now = self.clock()
        for i in [i for i, at in self._retry_at.items() if at <= now]:
            del self._retry_at[i]
            self._send_probe(i)
        if self._probes:
            ready, _ = self.ray.wait(self.probes(), num_returns=len(self._probes), timeout=0)
            for ref in ready:
                self.settle(ref)
        return [
            i for i in range(len(self.actors)) if i not in self._probes and i not in self._retry_at
        ]

    def _send_probe(self, index: int) -> None:
        self._probes[index] = getattr(self.actors[index], self.probe).remote()
