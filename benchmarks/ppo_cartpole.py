"""PPO speed and return against Stable-Baselines3, same machine, same run.

Both train CartPole-v1 for 100k steps with the rl-zoo3 hyperparameters (ours: the
``cartpole`` preset; 8 envs, n_steps 32, batch 256, 20 epochs, gamma 0.98, lambda 0.8,
linear lr 1e-3 and clip 0.2, no entropy bonus), one seed after the other, each in its
own process. SB3 runs from its own virtualenv (never the project's):

    python3 -m venv /tmp/sb3 && /tmp/sb3/bin/pip install torch==2.13.0 stable-baselines3
    uv run python benchmarks/ppo_cartpole.py --sb3-python /tmp/sb3/bin/python --seeds 0 1 2

Steps/s is env steps over the wall time of ``learn`` alone (no start-up, no
evaluation); the return is the greedy mean over 20 evaluation episodes. Without
the SB3 virtualenv only rl-ppo is measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine  # noqa: E402

STEPS = 100_000

OURS = """
import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from rl_core.evaluation import evaluate_policy
from rl_cli.configs import preset_settings
from rl_core.config import apply_overrides
from rl_core.plugins import load_algorithms
from rl_ppo import PPO, PPOConfig
seed = int(sys.argv[1])
# The cartpole preset (rl-zoo3's tuning; PPO's defaults until 2026-12-02).
settings = preset_settings(load_algorithms()[1].get("ppo"), "cartpole")
settings.update(seed=seed, device="cpu", total_steps={steps})
agent = PPO(apply_overrides(PPOConfig(), settings))
start = time.perf_counter()
agent.learn({steps})
wall = time.perf_counter() - start
result = evaluate_policy(agent, "CartPole-v1", episodes=20, seed=10_000 + seed)
print(json.dumps({{"wall": wall, "sps": {steps} / wall, "return": result.return_mean}}))
"""

SB3 = """
import json, sys, time
import gymnasium as gym
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
seed = int(sys.argv[1])
linear = lambda start: (lambda remaining: remaining * start)
env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
            n_epochs=20, ent_coef=0.0, learning_rate=linear(1e-3), clip_range=linear(0.2),
            seed=seed, device="cpu", verbose=0)
start = time.perf_counter()
model.learn({steps})
wall = time.perf_counter() - start
mean, _ = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=20, deterministic=True)
print(json.dumps({{"wall": wall, "sps": {steps} / wall, "return": float(mean)}}))
"""


def measure(python: str, code: str, seed: int) -> dict:
    out = subprocess.run(
        [python, "-c", code.format(steps=STEPS), str(seed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def summary(name: str, rows: list[dict]) -> str:
    sps = [r["sps"] for r in rows]
    ret = [r["return"] for r in rows]
    return (
        f"| {name} | {statistics.mean(sps):,.0f} ± {statistics.pstdev(sps):,.0f} "
        f"| {statistics.mean(ret):.1f} ± {statistics.pstdev(ret):.1f} "
        f"| {statistics.mean(r['wall'] for r in rows):.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sb3-python", default="/tmp/sb3/bin/python")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    with_sb3 = Path(args.sb3_python).is_file()
    if not with_sb3:
        print(f"no {args.sb3_python}: measuring rl-ppo only (see the docstring for SB3's venv)")
    ours, theirs = [], []
    for seed in args.seeds:  # interleaved, so drift in machine load hits both alike
        ours.append(measure(sys.executable, OURS, seed))
        print("seed", seed, "rl-ppo", ours[-1], flush=True)
        if with_sb3:
            theirs.append(measure(args.sb3_python, SB3, seed))
            print("seed", seed, "sb3", theirs[-1], flush=True)
    print(f"{date.today()}, {machine()}, {STEPS:,} steps, seeds {args.seeds}")
    print("| implementation | env steps/s | eval return (20 ep.) | learn wall time |")
    print("|---|---|---|---|")
    print(summary("rl-ppo", ours))
    if theirs:
        print(summary("Stable-Baselines3 PPO", theirs))
        ratio = statistics.mean(r["sps"] for r in ours) / statistics.mean(r["sps"] for r in theirs)
        print(f"speed-up: {ratio:.2f}x")


if __name__ == "__main__":
    main()
