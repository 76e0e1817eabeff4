"""Device selection, GPU memory growth, mixed precision and seeding.

TensorFlow fixes its visible devices the first time it initialises them, so
:func:`configure_device` must run before any tensor is created; agents call it
in their constructor, which is early enough.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sys

import numpy as np

from rl_core.errors import DeviceError


@contextlib.contextmanager
def _quiet_native_stderr():
    """Send file descriptor 2 to /dev/null while TensorFlow's C++ runtime loads.

    TensorFlow prints absl banners (oneDNN notes, "could not find cuda drivers",
    cuInit failures) before ``TF_CPP_MIN_LOG_LEVEL`` takes effect; only the fd
    level reaches them. Python exceptions are unaffected: they surface after.
    """
    if int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0) < 2:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _tensorflow_and_gpus():
    with _quiet_native_stderr():
        import tensorflow as tf

        return tf, tf.config.list_physical_devices("GPU")


_DEVICE = re.compile(r"^(auto|cpu|gpu)(?::(\d+))?$")
_configured: str | None = None


def parse_device(spec: str) -> tuple[str, int | None]:
    """``"gpu:1"`` -> ``("gpu", 1)``; raises DeviceError for anything else."""
    match = _DEVICE.match(spec.strip().lower())
    if not match or (match.group(2) is not None and match.group(1) != "gpu"):
        raise DeviceError(f"unknown device {spec!r}; use auto, cpu, gpu or gpu:N")
    index = match.group(2)
    return match.group(1), int(index) if index is not None else None


def configure_device(spec: str = "auto", *, mixed_precision: bool = False) -> str:
    """Make ``spec`` the device TensorFlow uses and return its name (``"cpu"``, ``"gpu:0"``).

    ``auto`` takes the first GPU if there is one, else the CPU. GPUs get memory
    growth so that several runs can share one card. Asking for a GPU that is not
    there is a :class:`~rl_core.errors.DeviceError`.
    """
    global _configured
    kind, index = parse_device(spec)
    tf, gpus = _tensorflow_and_gpus()
    if kind == "auto":
        kind, index = ("gpu", 0) if gpus else ("cpu", None)
    if kind == "gpu":
        index = index or 0
        if not gpus:
            raise DeviceError(f"--device {spec}: no GPU is visible to TensorFlow on this machine")
        if index >= len(gpus):
            raise DeviceError(
                f"--device {spec}: only {len(gpus)} GPU(s) (gpu:0..gpu:{len(gpus) - 1})"
            )
    resolved = "cpu" if kind == "cpu" else f"gpu:{index}"
    if _configured is not None:
        # Visible devices cannot change once TensorFlow is initialised.
        if _configured != resolved:
            raise DeviceError(
                f"this process already uses {_configured}; start a new process for {resolved}"
            )
        return resolved
    try:
        if kind == "cpu":
            tf.config.set_visible_devices([], "GPU")
        else:
            gpu = gpus[index]
            tf.config.set_visible_devices([gpu], "GPU")
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        # TensorFlow was initialised before we got here (e.g. a notebook that already
        # ran a model); keep its placement rather than failing.
        pass
    if mixed_precision and kind == "gpu":
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    _configured = resolved
    return resolved


def configured_device() -> str | None:
    """The device this process was configured for, or None before :func:`configure_device`."""
    return _configured


def seed_everything(seed: int, *, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; with ``deterministic_ops`` a CPU run repeats exactly.

    Environments are seeded separately through ``env.reset(seed=...)`` (see
    :func:`rl_core.envs.make_vector_env`).
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries that still use the global RNG
    import tensorflow as tf

    tf.random.set_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
