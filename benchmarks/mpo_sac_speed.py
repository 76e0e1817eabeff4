"""MPO against Stable-Baselines3 SAC on HalfCheetah-v5: env steps/s at one gradient step
per env step, whole processes.

Issue 21 asks MPO for at least 3x SAC's env steps/s at one gradient step per env step.
Both sides run the same shapes: three hidden layers of 256 in the policy and the critic
(our ``halfcheetah`` preset, acme's MuJoCo settings; SAC's ``net_arch=[256, 256, 256]``),
minibatches of 256, 1,000 steps before learning, one env, then one gradient step per env
step (ours ``replay_ratio = 1``; SAC ``train_freq=1, gradient_steps=1``). What each
gradient step does is the algorithm's own: MPO's E-step evaluates the target critic on
20 sampled actions per next state and trains one critic, SAC trains two critics on one
sampled action each.

- ``rl-mpo (rl train)``: ``python -m rl_cli train mpo --env HalfCheetah-v5`` as a user
  runs it (the preset, run directory, metrics, one checkpoint at the end), evaluated over
  one greedy episode.
- ``Stable-Baselines3 SAC``: a script (imports, ``make_vec_env``, SAC, learn,
  ``evaluate_policy`` over one deterministic episode) in SB3's own virtualenv.

Each side also runs once with no gradient steps at all (learning would start after the
last step): acting, env stepping and filling the replay alone, so that the difference is what
learning costs. Every process is a fresh one, timed from its start to its exit and held
to one thread on one CPU with ``--pin-cpu``. learn() is ours from the last metrics record
(steps / charts/SPS) and SAC's measured around ``model.learn``.

    python3 -m venv /work/sb3venv && /work/sb3venv/bin/pip install torch==2.13.0 \\
        stable-baselines3 "gymnasium[mujoco]==1.4.0" mujoco==3.11.0
    uv run python benchmarks/mpo_sac_speed.py --sb3-python /work/sb3venv/bin/python \\
        --steps 6000 --seeds 0 1 --pin-cpu 0 --out benchmarks/mpo_sac_speed_results.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine, time_python_script, time_rl_train  # noqa: E402

ENV = "HalfCheetah-v5"
LEARNING_STARTS = 1000

SB3 = """
import json, sys, time
import gymnasium as gym
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
env_id, (seed, steps, learning_starts, one_thread) = sys.argv[1], map(int, sys.argv[2:6])
if one_thread:
    torch.set_num_threads(1)
env = make_vec_env(env_id, n_envs=1, seed=seed)
model = SAC("MlpPolicy", env, batch_size=256, learning_starts=learning_starts, train_freq=1,
            gradient_steps=1, buffer_size=1_000_000,
            policy_kwargs=dict(net_arch=[256, 256, 256]), seed=seed, device="cpu", verbose=0)
start = time.perf_counter()
model.learn(steps)
learn = time.perf_counter() - start
mean, _ = evaluate_policy(model, gym.make(env_id), n_eval_episodes=1, deterministic=True)
print(json.dumps({"learn": learn, "return": float(mean)}))
"""


def run_sb3(python: str, seed: int, steps: int, learning: bool, cpu: int | None) -> dict:
    starts = LEARNING_STARTS if learning else steps + 1
    args = [ENV, str(seed), str(steps), str(starts), "1" if cpu is not None else "0"]
    return time_python_script(python, SB3, args, cpu)


def run_ours(seed: int, steps: int, learning: bool, cpu: int | None) -> dict:
    starts = LEARNING_STARTS if learning else steps + 1
    args = ["mpo", "--env", ENV, "--steps", str(steps), "--seed", str(seed), "--device", "cpu"]
    args += ["--set", f"learning_starts={starts}"]
    args += ["--set", "replay_ratio=1.0", "--set", "eval_episodes=1"]
    return time_rl_train(args, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sb3-python", default="/work/sb3venv/bin/python")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--pin-cpu", type=int, help="run every process on this CPU, one thread")
    parser.add_argument("--out", type=Path, help="also write every run as JSON lines here")
    args = parser.parse_args()
    runs = {"rl-mpo (rl train)": lambda *a: run_ours(*a)}
    if Path(args.sb3_python).is_file():
        runs["Stable-Baselines3 SAC"] = lambda *a: run_sb3(args.sb3_python, *a)
    else:
        print(f"no {args.sb3_python}: measuring rl-mpo only")
    rows: dict[tuple[str, bool], list[dict]] = {}
    for seed in args.seeds:  # alternating sides, so drift in machine speed hits both alike
        for learning in (True, False):
            for name, run in runs.items():
                result = run(seed, args.steps, learning, args.pin_cpu)
                record = {"name": name, "env": ENV, "seed": seed, "steps": args.steps}
                record.update(result, learning=learning, pinned_cpu=args.pin_cpu)
                record["date"] = str(date.today())
                rows.setdefault((name, learning), []).append(result)
                print(json.dumps(record), flush=True)
                if args.out:
                    with args.out.open("a") as f:
                        f.write(json.dumps(record) + "\n")
    print(f"\n{date.today()}, {machine()}, {ENV}, {args.steps:,} steps, seeds {args.seeds}")
    print("| implementation | gradient steps | whole process | learn() | env steps/s in learn() |")
    print("|---|---|---|---|---|")
    for (name, learning), results in rows.items():
        mean = statistics.mean
        sps = mean(args.steps / r["learn"] for r in results)
        grads = "1 per env step" if learning else "none"
        print(
            f"| {name} | {grads} | {mean(r['wall'] for r in results):.1f} s "
            f"| {mean(r['learn'] for r in results):.1f} s | {sps:,.0f} |"
        )


if __name__ == "__main__":
    main()
