"""PPO against Stable-Baselines3 on MuJoCo (HalfCheetah-v5, Hopper-v5): whole processes.

Issue 21's mid-budget row: at 300k steps, rl-ppo's return is to be at least SB3 PPO's at
the same budget and its whole process at least 2x faster. Both sides run the settings
of our ``halfcheetah`` / ``hopper`` presets (CleanRL's ``ppo_continuous_action.py``, which
are SB3's PPO defaults plus VecNormalize): one env, 2048 steps per rollout, 10 epochs of
minibatches of 64, Adam 3e-4 annealed linearly to 0 over the run, gamma 0.99, GAE lambda
0.95, ratio clip 0.2, value clip 0.2, no entropy bonus, the value loss at 0.25 x MSE,
gradient norm 0.5, separate 64 x 64 tanh policy and value MLPs, a state-independent log
std starting at 0, orthogonal initialisation, observations normalized by a running
mean/std clipped to +-10 and rewards scaled by the running std of the discounted return.

One difference is SB3's own: with ``clip_range_vf`` it trains on the clipped value error
alone, where CleanRL (and ours) takes the larger of the clipped and unclipped errors.

- ``rl-ppo (rl train)``: ``python -m rl_cli train ppo --env ENV --steps N`` as a user runs
  it (the preset picked by the env id; run directory, metrics, TensorBoard, checkpoints
  every 100k steps, final policy and its 10-episode greedy evaluation).
- ``Stable-Baselines3 PPO``: a script (imports, ``make_vec_env`` + ``VecNormalize``, PPO,
  learn, ``evaluate_policy`` over 10 deterministic episodes with the frozen observation
  statistics and unnormalized rewards) in SB3's own virtualenv.

Each run is a fresh process timed from its start to the end of its final evaluation;
the two sides alternate seed by seed, so drift in machine load hits both alike. learn()
time is ours from the run's last metrics record (steps / charts/SPS) and SB3's measured
around ``model.learn``. Both use the machine's default threads, or, with ``--pin-cpu N``,
one thread each on CPU N alone (``taskset``; TF_NUM_INTRAOP/INTEROP_THREADS=1 and
OMP_NUM_THREADS=1; ``torch.set_num_threads(1)``), so that other work on the machine's
other cores does not time-share with either side.

    python3 -m venv /tmp/sb3 && /tmp/sb3/bin/pip install torch==2.13.0 stable-baselines3 \\
        "gymnasium[mujoco]"
    uv run python benchmarks/ppo_mujoco.py --sb3-python /tmp/sb3/bin/python \\
        --envs HalfCheetah-v5 Hopper-v5 --steps 300000 --seeds 0 1 2 \\
        --out benchmarks/ppo_mujoco_results.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine, time_python_script, time_rl_train  # noqa: E402

EPISODES = 10  # the presets' eval_episodes

SB3 = """
import json, sys, time
import gymnasium as gym
import torch
from torch import nn
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize
env_id, seed, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if threads:
    torch.set_num_threads(threads)
linear = lambda start: (lambda remaining: remaining * start)
env = VecNormalize(make_vec_env(env_id, n_envs=1, seed=seed), norm_obs=True, norm_reward=True,
                   clip_obs=10.0, clip_reward=10.0, gamma=0.99)
model = PPO("MlpPolicy", env, n_steps=2048, batch_size=64, n_epochs=10,
            learning_rate=linear(3e-4), gamma=0.99, gae_lambda=0.95, clip_range=0.2,
            clip_range_vf=0.2, ent_coef=0.0, vf_coef=0.25, max_grad_norm=0.5,
            policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=nn.Tanh,
                               log_std_init=0.0),
            seed=seed, device="cpu", verbose=0)
start = time.perf_counter()
model.learn(steps)
learn = time.perf_counter() - start
evaluation = VecNormalize(make_vec_env(env_id, n_envs=1, seed=1_000_000), training=False,
                          norm_reward=False, clip_obs=10.0)
evaluation.obs_rms = env.obs_rms
mean, _ = evaluate_policy(model, evaluation, n_eval_episodes={episodes}, deterministic=True)
print(json.dumps({{"learn": learn, "return": float(mean)}}))
"""


def run_sb3(python: str, env: str, seed: int, steps: int, cpu: int | None) -> dict:
    args = [env, str(seed), str(steps), "1" if cpu is not None else "0"]
    result = time_python_script(python, SB3.format(episodes=EPISODES), args, cpu)
    return {key: result[key] for key in ("wall", "learn", "return")}


def run_ours(env: str, seed: int, steps: int, cpu: int | None) -> dict:
    args = ["ppo", "--env", env, "--steps", str(steps), "--seed", str(seed), "--device", "cpu"]
    return time_rl_train(args, cpu)


def summary(name: str, env: str, steps: int, rows: list[dict]) -> str:
    def stat(key: str, fmt: str) -> str:
        values = [r[key] for r in rows]
        return f"{statistics.mean(values):{fmt}} ± {statistics.pstdev(values):{fmt}}"

    sps = statistics.mean(steps / r["learn"] for r in rows)
    return (
        f"| {env} | {name} | {stat('wall', '.0f')} s | {stat('learn', '.0f')} s | {sps:,.0f} "
        f"| {stat('return', '.1f')} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sb3-python", default="/tmp/sb3/bin/python")
    parser.add_argument("--envs", nargs="+", default=["HalfCheetah-v5", "Hopper-v5"])
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pin-cpu", type=int, help="run both sides on this CPU, one thread")
    parser.add_argument("--out", type=Path, help="also write every run as JSON lines here")
    args = parser.parse_args()
    with_sb3 = Path(args.sb3_python).is_file()
    if not with_sb3:
        print(f"no {args.sb3_python}: measuring rl-ppo only (see the docstring for SB3's venv)")
    runs = {"rl-ppo (rl train)": lambda env, seed: run_ours(env, seed, args.steps, args.pin_cpu)}
    if with_sb3:
        runs["Stable-Baselines3 PPO"] = lambda env, seed: run_sb3(
            args.sb3_python, env, seed, args.steps, args.pin_cpu
        )
    results: dict[tuple[str, str], list[dict]] = {}
    for env in args.envs:
        for seed in args.seeds:
            for name, run in runs.items():
                result = run(env, seed)
                results.setdefault((env, name), []).append(result)
                record = {"name": name, "env": env, "seed": seed, "steps": args.steps}
                record["pinned_cpu"] = args.pin_cpu
                record.update(result, load=round(os.getloadavg()[0], 1), date=str(date.today()))
                print(json.dumps(record), flush=True)
                if args.out:
                    with args.out.open("a") as f:
                        f.write(json.dumps(record) + "\n")
    print(f"\n{date.today()}, {machine()}, {args.steps:,} steps, seeds {args.seeds}")
    print(
        "| env | implementation | whole process | learn() | env steps/s in learn() | eval return |"
    )
    print("|---|---|---|---|---|---|")
    for (env, name), rows in results.items():
        print(summary(name, env, args.steps, rows))
    if with_sb3:
        for env in args.envs:
            ours, sb3 = results[(env, "rl-ppo (rl train)")], results[(env, "Stable-Baselines3 PPO")]
            whole = statistics.mean(r["wall"] for r in sb3) / statistics.mean(
                r["wall"] for r in ours
            )
            learn = statistics.mean(r["learn"] for r in sb3) / statistics.mean(
                r["learn"] for r in ours
            )
            print(f"{env}: rl-ppo {whole:.2f}x SB3 whole process, {learn:.2f}x in learn()")


if __name__ == "__main__":
    main()
