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
from collections.abc import Iterator
from dataclasses import dataclass

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
