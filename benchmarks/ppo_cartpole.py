"""PPO against Stable-Baselines3 on CartPole-v1: whole processes and learn() alone.

Both sides train 100k steps with the rl-zoo3 CartPole settings (8 envs, n_steps 32,
batch 256, 20 epochs, gamma 0.98, lambda 0.8, lr 1e-3 and clip 0.2 both annealed
linearly to 0, no entropy bonus, vf_coef 0.5, max_grad_norm 0.5, Adam eps 1e-5) and
the same networks: separate policy and value MLPs of 64 x 64 tanh units (SB3's
MlpPolicy; ours with ``shared_network=false``), orthogonal initialisation. Each run is
a fresh process, timed from its start to the end of its final evaluation (20 greedy
episodes on both sides): what a user waits for.

- ``rl-ppo (rl train, NumPy CartPole)``: ``python -m rl_cli train ppo`` as a user runs
  it (run directory, metrics, TensorBoard, checkpoints every 25k steps, final policy
  and evaluation), with the default vectorization, rl_core's NumPy CartPole.
- ``rl-ppo (rl train, Gymnasium CartPole)``: the same on Gymnasium's CartPole-v1 in a
  SyncVectorEnv (``vectorization=sync``): the env implementation SB3 steps.
- ``Stable-Baselines3 PPO``: a script (imports, ``make_vec_env``, PPO, learn,
  ``evaluate_policy``) in SB3's own virtualenv (never the project's); its DummyVecEnv
  steps Gymnasium's CartPole-v1.

learn() time is ours from the run's last metrics record (steps / charts/SPS, SPS being
counted from the start of learn) and SB3's measured around ``model.learn``. Before each
seed's runs, a fresh process that only imports the library is timed on each side (``import
rl_ppo.agent``; ``import torch, stable_baselines3``): the floor under that side's whole
process.

    uv sync --all-packages --compile-bytecode
    python3 -m venv /tmp/sb3 && /tmp/sb3/bin/pip install torch==2.13.0 stable-baselines3
    uv run python benchmarks/ppo_cartpole.py --sb3-python /tmp/sb3/bin/python \\
        --seeds 0 1 2 --pin-cpu 1 --out benchmarks/ppo_cartpole_results.jsonl

Both sides need compiled bytecode where ``PYTHONDONTWRITEBYTECODE`` is set (as on the
machine of RESULTS.md; pip compiles as it installs, uv only with ``--compile-bytecode``):
without it every start recompiles every module, and importing TensorFlow took ~5 s
instead of ~2-3 s. ``--pin-cpu N`` holds every process to CPU N and one thread.

Without the SB3 virtualenv only rl-ppo is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine, pinned, time_python_script, time_rl_train  # noqa: E402

STEPS = 100_000
NETWORKS = "separate policy and value MLPs, 64 x 64 tanh"  # both sides (ZOO below, SB3's)
EPISODES = 20
ZOO = {
    "num_envs": 8,
    "n_steps": 32,
    "minibatch_size": 256,
    "n_epochs": 20,
    "gamma": 0.98,
    "gae_lambda": 0.8,
    "learning_rate": 1e-3,
    "anneal_lr": "true",
    "clip_range": 0.2,
    "anneal_clip_range": "true",
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
    "adam_eps": 1e-5,
    "normalize_advantages": "true",
    "shared_network": "false",
    "hidden_sizes": "[64, 64]",
    "activation": "tanh",
    "eval_episodes": EPISODES,
}

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
            n_epochs=20, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5,
            learning_rate=linear(1e-3), clip_range=linear(0.2),
            policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64])),
            seed=seed, device="cpu", verbose=0)
start = time.perf_counter()
model.learn({steps})
learn = time.perf_counter() - start
mean, _ = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes={episodes},
                          deterministic=True)
print(json.dumps({{"learn": learn, "return": float(mean)}}))
"""


def run_sb3(python: str, seed: int, cpu: int | None) -> dict:
    script = SB3.format(steps=STEPS, episodes=EPISODES)
    result = time_python_script(python, script, [str(seed)], cpu)
    return {key: result[key] for key in ("wall", "learn", "return")}


def run_ours(seed: int, vectorization: str, cpu: int | None) -> dict:
    args = ["ppo", "--env", "CartPole-v1", "--steps", str(STEPS), "--seed", str(seed)]
    args += ["--device", "cpu"]
    for key, value in {**ZOO, "vectorization": vectorization}.items():
        args += ["--set", f"{key}={value}"]
    return time_rl_train(args, cpu)


def import_time(python: str, modules: str, cpu: int | None) -> float:
    """Wall time of a fresh process that only imports ``modules``: the floor under any
    whole-process time on that side."""
    prefix, threads = pinned(cpu)
    start = time.perf_counter()
    subprocess.run(
        [*prefix, python, "-c", f"import {modules}"],
        check=True,
        capture_output=True,
        env={**os.environ, **threads},
    )
    return time.perf_counter() - start


def row(name: str, rows: list[dict]) -> str:
    def stat(key: str, fmt: str) -> str:
        values = [r[key] for r in rows]
        return f"{statistics.mean(values):{fmt}} ± {statistics.pstdev(values):{fmt}}"

    sps = statistics.mean(STEPS / r["learn"] for r in rows)
    return (
        f"| {name} | {NETWORKS} | {stat('wall', '.1f')} s | {stat('learn', '.1f')} s "
        f"| {sps:,.0f} | {stat('return', '.1f')} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sb3-python", default="/tmp/sb3/bin/python")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pin-cpu", type=int, help="run every process on this CPU, one thread")
    parser.add_argument("--out", type=Path, help="also write every run as JSON lines here")
    args = parser.parse_args()
    with_sb3 = Path(args.sb3_python).is_file()
    if not with_sb3:
        print(f"no {args.sb3_python}: measuring rl-ppo only (see the docstring for SB3's venv)")
    results: dict[str, list[dict]] = {}
    runs = {
        "rl-ppo (rl train, NumPy CartPole)": lambda seed: run_ours(seed, "numpy", args.pin_cpu),
        "rl-ppo (rl train, Gymnasium CartPole)": lambda seed: run_ours(seed, "sync", args.pin_cpu),
    }
    if with_sb3:
        runs["Stable-Baselines3 PPO (Gymnasium CartPole)"] = lambda seed: run_sb3(
            args.sb3_python, seed, args.pin_cpu
        )
    imports = {"rl-ppo (import rl_ppo.agent)": (sys.executable, "rl_ppo.agent")}
    if with_sb3:
        imports["SB3 (import torch, stable_baselines3)"] = (
            args.sb3_python,
            "torch, stable_baselines3",
        )
    floors: dict[str, list[float]] = {}
    for seed in args.seeds:  # interleaved, so drift in machine load hits all alike
        for name, (python, modules) in imports.items():
            floors.setdefault(name, []).append(import_time(python, modules, args.pin_cpu))
        for name, run in runs.items():
            result = run(seed)
            results.setdefault(name, []).append(result)
            result = {**result, "date": str(date.today()), "pinned_cpu": args.pin_cpu}
            print(json.dumps({"name": name, "seed": seed, **result}), flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps({"name": name, "seed": seed, **result}) + "\n")
    print(f"\n{date.today()}, {machine()}, {STEPS:,} steps, seeds {args.seeds}")
    print(
        "| implementation | networks | whole process | learn() | env steps/s in learn() "
        "| eval return |"
    )
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        print(row(name, rows))
    for name, times in floors.items():
        print(f"{name}: {statistics.mean(times):.2f} ± {statistics.pstdev(times):.2f} s")
    if with_sb3:
        sb3 = results["Stable-Baselines3 PPO (Gymnasium CartPole)"]
        for name, rows in results.items():
            if name.startswith("rl-ppo"):
                whole = statistics.mean(r["wall"] for r in sb3) / statistics.mean(
                    r["wall"] for r in rows
                )
                learn = statistics.mean(r["learn"] for r in sb3) / statistics.mean(
                    r["learn"] for r in rows
                )
                print(f"{name}: {whole:.2f}x SB3 whole process, {learn:.2f}x in learn()")


if __name__ == "__main__":
    main()
