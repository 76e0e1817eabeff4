"""Writes GAIL's bundled demonstrations of two scripted experts whose episodes end by
succeeding (a true termination), the counterpart of CartPole's expert that survives.

    uv run python benchmarks/gail_scripted_experts.py

- MountainCar-v0: push in the direction of the velocity (pumps energy until the car
  reaches the flag).
- Acrobot-v1: torque in the direction of the second joint's angular velocity (pumps
  energy until the tip swings above the bar).

Each is recorded as 10 greedy episodes (seeds 0-9) through ``rl_gail``'s Minari recorder
and stored in the plain .npz format next to the other bundled demonstrations.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
from rl_gail.demonstrations import load_demonstrations, record_demonstrations, save_npz

DATA = Path(__file__).parents[1] / "packages/gail/src/rl_gail/data"


class MountainCarExpert:
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.where(obs[:, 1] >= 0, 2, 0)


class AcrobotExpert:
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.where(obs[:, 5] > 0, 2, 0)


def main() -> None:
    for env_id, policy, name in (
        ("MountainCar-v0", MountainCarExpert(), "mountaincar-expert.npz"),
        ("Acrobot-v1", AcrobotExpert(), "acrobot-expert.npz"),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            path, returns = record_demonstrations(
                policy, env_id, {}, 10, Path(tmp), "scripted/expert-v0", seed=0
            )
            env = gym.make(env_id)
            demos = load_demonstrations(str(path), env.observation_space, env.action_space)
            save_npz(demos, DATA / name)
        print(
            f"{name}: {demos.num_episodes} episodes, return {returns.mean():.1f} ± "
            f"{returns.std():.1f}, {int(demos.episode_terminated.sum())} terminated"
        )


if __name__ == "__main__":
    main()
