"""``rl gail record``: a trained run's policy, whatever algorithm made it, as demonstrations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rl_core.config import config_from_dict
from rl_core.errors import RLError
from rl_core.plugins import load_algorithms
from rl_core.run import RunDirectory
from rl_gail.demonstrations import default_dataset_id, record_demonstrations


def record_run(
    run_dir: Path, out: Path, episodes: int, dataset_id: str | None, seed: int
) -> tuple[Path, np.ndarray, str]:
    """Record ``episodes`` greedy episodes of the run's final policy under ``out``.

    Returns the dataset directory, the episode returns and the env id.
    """
    run = RunDirectory.open(run_dir)
    _, registry = load_algorithms()
    if run.algorithm not in registry:
        installed = ", ".join(registry) or "none"
        raise RLError(
            f"{run.path} was trained with {run.algorithm!r}, which is not installed "
            f"(installed: {installed})"
        )
    spec = registry.get(run.algorithm)
    config = config_from_dict(spec.config_cls, run.read_config()[1])
    policy = spec.load_policy(run.policy_source())
    path, returns = record_demonstrations(
        policy,
        config.env,
        config.env_kwargs,
        episodes,
        out,
        dataset_id or default_dataset_id(config.env),
        seed=seed,
        algorithm_name=run.algorithm,
    )
    return path, returns, config.env
