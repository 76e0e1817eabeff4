"""PPO on a local Ray instance: trains with two rollout workers; a killed worker is replaced."""

from __future__ import annotations

import os
import signal
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import rl_ppo
from rl_ppo import PPO, PPOConfig
from rl_ppo.distributed import RayRollouts, train_on_ray

from rl_core.config import apply_overrides
from rl_core.distributed import DistributedOptions
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.run import RunDirectory

# Before Ray is imported: workers run in this environment (see rl_core.distributed.require_ray).
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
ray = pytest.importorskip("ray", reason="the ray extra is installed with the dev group")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_options_are_checked():
    with pytest.raises(ConfigError, match="must be 'ray'"):
        DistributedOptions(backend="dask")
    with pytest.raises(ConfigError, match="--num-workers must be >= 1"):
        DistributedOptions(num_workers=0)


def test_two_workers_train_the_same_learner(local_ray, tmp_path):
    # The CartPole preset's settings (the defaults' 2048-step rollouts are too long here).
    settings = tomllib.loads((Path(rl_ppo.__file__).parent / "presets/cartpole.toml").read_text())
    settings.pop("preset")
    config = apply_overrides(
        PPOConfig(),
        {**settings, "seed": 0, "device": "cpu", "total_steps": 24_576, "checkpoint_every": 10_000},
    )
    run = RunDirectory.create("ppo", config.env, path=tmp_path / "run")
    run.write_config("ppo", config, device="cpu")
    agent = train_on_ray(config, run, DistributedOptions(num_workers=2))
    records = run.read_metrics()
    # Each update sees both workers' rollouts: 2 x 8 envs x 32 steps per round.
    assert records[-1]["distributed/workers"] == 2.0
    assert np.diff([r["global_step"] for r in records]).min() == 2 * 8 * 32
    assert agent.num_timesteps >= 24_576 and run.policy_dir.is_dir()
    # Random CartPole play returns ~22; the learner improved on the workers' data.
    result = evaluate_policy(agent, "CartPole-v1", {}, episodes=10, seed=1_000_000)
    assert result.return_mean >= 100, result.summary()


def test_a_killed_worker_is_replaced_and_training_goes_on(local_ray):
    config = apply_overrides(
        PPOConfig(), {"num_envs": 2, "n_steps": 16, "minibatch_size": 32, "device": "cpu"}
    )
    agent = PPO(config)
    rollouts = RayRollouts(local_ray, agent, DistributedOptions(num_workers=2, timeout_s=60))
    agent.rollout_source = rollouts
    buf, info = agent.next_rollout()
    assert info["distributed/workers"] == 2.0 and buf["obs"].shape == (16, 4, 4)
    pid = local_ray.get(rollouts.workers[0].pid.remote())
    os.kill(pid, signal.SIGKILL)
    buf, info = agent.next_rollout()
    # The dead worker's batch is missing from this round, and the loss is counted...
    assert info["distributed/worker_failures"] == 1.0
    assert info["distributed/workers"] == 1.0 and buf["obs"].shape == (16, 2, 4)
    agent.update_policy(buf)
    # ... the other worker carries on while Ray restarts it, and the restarted worker
    # rejoins without further losses being counted.
    for _ in range(600):
        buf, info = agent.next_rollout()
        if info["distributed/workers"] == 2.0:
            break
        time.sleep(0.2)
    assert info["distributed/workers"] == 2.0 and info["distributed/worker_failures"] == 1.0
    assert local_ray.get(rollouts.workers[0].pid.remote()) != pid
