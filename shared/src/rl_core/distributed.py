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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rl_core.errors import ConfigError, RLError

INSTALL_HINT = (
    "Ray is not installed; install the extra: pip install 'rl-core[ray]' "
    "(or pip install 'ray>=2.40'; in this repository `uv sync` installs it)"
)


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
    """

    def __init__(self, ray: Any, actors: Sequence[Any], probe: str = "pid") -> None:
        self.ray = ray
        self.actors = actors
        self.probe = probe
        self.failures = 0
        self._probes: dict[int, Any] = {}  # actor index -> probe of its restart

    def lost(self, index: int) -> None:
        """Count the loss; the actor sits out until its probe comes back."""
        self.failures += 1
        self._probes[index] = getattr(self.actors[index], self.probe).remote()

    def probes(self) -> list[Any]:
        """The probes in flight, to wait on when no actor is available."""
        return list(self._probes.values())

    def available(self) -> list[int]:
        """Actors not restarting: the live ones and those whose probe has come back."""
        available = []
        for i, actor in enumerate(self.actors):
            probe = self._probes.get(i)
            if probe is not None:
                ready, _ = self.ray.wait([probe], timeout=0)
                if not ready:
                    continue
                try:
                    self.ray.get(probe, timeout=0)
                except self.ray.exceptions.RayActorError:
                    self._probes[i] = getattr(actor, self.probe).remote()  # not up yet
                    continue
                del self._probes[i]
            available.append(i)
        return available
