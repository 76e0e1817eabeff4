"""Stable-Baselines3's defaults on one env: the control side of ``defaults_classic.py``.

Run with a separate virtual environment that has SB3 (never the project's: it pulls torch):

    python3 -m venv /work/sb3venv
    /work/sb3venv/bin/pip install torch stable-baselines3 "gymnasium[box2d]"
    /work/sb3venv/bin/python benchmarks/sb3_defaults.py ppo Acrobot-v1 --steps 200000 --seed 0

Every hyperparameter is SB3's default (``PPO("MlpPolicy", env)``, one env, as SB3's own
examples); only the seed and the budget are set. The result is one JSON line on stdout:
the greedy (``deterministic=True``) evaluation return over ``--eval-episodes`` episodes of a
fresh env after training, and the wall time of training.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN, PPO, SAC

ALGOS = {"ppo": PPO, "sac": SAC, "dqn": DQN}


def evaluate(model, env_id: str, episodes: int, seed: int) -> list[float]:
    env = gym.make(env_id)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + seed * 1_000 + episode)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("algo", choices=sorted(ALGOS))
    parser.add_argument("env")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = ALGOS[args.algo]("MlpPolicy", args.env, seed=args.seed, device="cpu")
    start = time.perf_counter()
    model.learn(args.steps)
    wall = time.perf_counter() - start
    returns = evaluate(model, args.env, args.eval_episodes, args.seed)
    print(
        json.dumps(
            {
                "side": "sb3",
                "algo": args.algo,
                "env": args.env,
                "steps": args.steps,
                "seed": args.seed,
                "eval_mean": float(np.mean(returns)),
                "eval_std": statistics.pstdev(returns),
                "eval_episodes": args.eval_episodes,
                "wall_s": wall,
                "sb3_version": __import__("stable_baselines3").__version__,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
