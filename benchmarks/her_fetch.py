"""HER on FetchReach-v4 against Stable-Baselines3's TQC + HerReplayBuffer, whole processes.

Both sides train 20k env steps from scratch and evaluate the greedy policy over
``--eval-episodes`` fresh episodes (success rate: the env's ``is_success`` at the last
step). Each run is one process, timed here from start to exit (imports, compilation,
training, evaluation); env steps/s is ``steps / wall``. The runs alternate (ours, SB3,
ours, SB3, ...) so that both see the same load.

- ours: ``rl train her --env FetchReach-v4`` (the ``fetch-reach`` preset: SAC + HER with
  rl-zoo3's FetchReach settings, the HER paper's input normalization and target clipping);
- SB3: sb3-contrib's TQC with rl-zoo3's FetchReach settings (rl_zoo3 2.9.2,
  hyperparams/tqc.yml, FetchReach-v1: MultiInputPolicy, net_arch [64, 64], n_critics 1,
  batch 256, gamma 0.95, lr 1e-3, learning_starts 1000, buffer 1M, ent_coef auto,
  HerReplayBuffer future k = 4, normalize: VecNormalize of observations and rewards),
  run by this same file in its own virtualenv (``--side sb3``), which must have:

      python -m venv /work/sb3venv-fetch
      /work/sb3venv-fetch/bin/pip install torch==2.13.0 stable-baselines3 sb3-contrib \\
          gymnasium-robotics "mujoco>=3.3,<3.12"

Usage (from the repository root, project venv):

    uv run python benchmarks/her_fetch.py --seeds 0 1 2 --sb3-python /work/sb3venv-fetch/bin/python
    uv run python benchmarks/her_fetch.py --env-only          # the env alone, random actions
    uv run python benchmarks/her_fetch.py --profile           # where our training time goes

``--pin-cpu N`` runs both sides on CPU N (``taskset``), so that other work on the
machine's other core does not land on either side.

Each finished run appends one JSON line to ``benchmarks/her_fetch_results.jsonl``.
Only the standard library is imported at the top: the SB3 side runs without the project.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ENV_ID = "FetchReach-v4"
THREADS = {"TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "1"}


# ----------------------------------------------------------------------------- SB3 side


def sb3_main(steps: int, seed: int, eval_episodes: int) -> None:
    """Train TQC + HER with rl-zoo3's FetchReach settings; print one JSON line."""
    import gymnasium as gym
    import gymnasium_robotics
    import numpy as np
    import torch
    from sb3_contrib import TQC
    from stable_baselines3 import HerReplayBuffer
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    gym.register_envs(gymnasium_robotics)
    # rl-zoo3's `normalize: True` for an off-policy algorithm: VecNormalize(gamma=gamma).
    env = VecNormalize(make_vec_env(ENV_ID, n_envs=1, seed=seed), gamma=0.95)
    model = TQC(
        "MultiInputPolicy",
        env,
        buffer_size=1_000_000,
        ent_coef="auto",
        batch_size=256,
        gamma=0.95,
        learning_rate=1e-3,
        learning_starts=1000,
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"goal_selection_strategy": "future", "n_sampled_goal": 4},
        policy_kwargs={"net_arch": [64, 64], "n_critics": 1},
        seed=seed,
        device="cpu",
    )
    start = time.perf_counter()
    model.learn(steps)
    train_s = time.perf_counter() - start
    env.training, env.norm_reward = False, False
    eval_env = gym.make(ENV_ID)
    successes = []
    for episode in range(eval_episodes):
        obs, _ = eval_env.reset(seed=10_000 + episode)
        done, info = False, {}
        while not done:
            normalized = env.normalize_obs({k: v[None] for k, v in obs.items()})
            action, _ = model.predict(normalized, deterministic=True)
            obs, _, terminated, truncated, info = eval_env.step(action[0])
            done = terminated or truncated
        successes.append(float(info["is_success"]))
    print(json.dumps({"success": float(np.mean(successes)), "train_s": train_s}), flush=True)


# ----------------------------------------------------------------------------- our side


def ours_command(steps: int, seed: int, eval_episodes: int, run_dir: str) -> list[str]:
    return [
        sys.executable, "-m", "rl_cli", "train", "her", "--env", ENV_ID, "--steps", str(steps),
        "--seed", str(seed), "--run-dir", run_dir, "--set", f"eval_episodes={eval_episodes}",
    ]  # fmt: skip


def parse_ours(output: str) -> dict:
    match = re.search(r"final evaluation: .* success rate ([0-9.]+)", output)
    if match is None:
        raise RuntimeError(f"no final evaluation in rl train's output:\n{output[-2000:]}")
    return {"success": float(match.group(1))}


# ----------------------------------------------------------------------------- driver


def timed(command: list[str], cpu: int | None = None) -> tuple[str, float]:
    """Run ``command`` on one thread (on CPU ``cpu`` alone when given); its output and wall."""
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **THREADS}, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[:6]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout, wall


def load_average() -> float:
    return os.getloadavg()[0]


def env_only(steps: int, num_envs: int) -> None:
    """Step ``num_envs`` FetchReach arms with random actions (the preset's vector env): the
    env's share of a training run's time."""
    from rl_core.envs import make_vector_env

    envs = make_vector_env(ENV_ID, num_envs, seed=0)
    envs.action_space.seed(0)
    start = time.perf_counter()
    for _ in range(steps // num_envs):
        envs.step(envs.action_space.sample())
    seconds = time.perf_counter() - start
    print(json.dumps({"env_steps": steps, "num_envs": num_envs, "seconds": seconds,
                      "env_steps_per_s": steps / seconds, "load": load_average()}))  # fmt: skip


def profile(steps: int, seed: int) -> None:
    """Train ours in process (the fetch-reach preset) and split the training time into env
    stepping, replay sampling with relabeling, the fused learner update, and the rest
    (acting, storing, normalizer statistics, logging)."""
    import tomllib

    import rl_her
    from rl_her import HER, HERConfig

    from rl_core.config import apply_overrides

    path = Path(rl_her.__file__).parent / "presets" / "fetch-reach.toml"
    settings = tomllib.loads(path.read_text())
    settings.pop("preset")
    config = apply_overrides(HERConfig(), {**settings, "total_steps": steps, "seed": seed})
    agent = HER(config)
    spent = {"env step": 0.0, "replay sampling + relabeling": 0.0, "learner update": 0.0}

    def timing(name, fn):
        def wrapped(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapped

    agent.envs.step = timing("env step", agent.envs.step)
    agent.buffer.sample_minibatches = timing(
        "replay sampling + relabeling", agent.buffer.sample_minibatches
    )
    agent.learner.update = timing("learner update", agent.learner.update)
    start = time.perf_counter()
    agent.learn(steps)
    total = time.perf_counter() - start
    spent["other (acting, storing, normalizer, logging)"] = total - sum(spent.values())
    row = {name: round(seconds, 1) for name, seconds in spent.items()}
    shares = {name: round(seconds / total, 2) for name, seconds in spent.items()}
    print(json.dumps({"steps": steps, "train_s": round(total, 1), "seconds": row,
                      "shares": shares, "load": round(load_average(), 1)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", choices=("driver", "sb3"), default="driver")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--sb3-python", default="/work/sb3venv-fetch/bin/python")
    parser.add_argument("--only", choices=("ours", "sb3"), help="run one side only")
    parser.add_argument("--env-only", action="store_true", help="time the env alone")
    parser.add_argument("--profile", action="store_true", help="split our training time")
    parser.add_argument("--out", type=Path, default=HERE / "her_fetch_results.jsonl")
    parser.add_argument("--pin-cpu", type=int, help="run both sides on this CPU (taskset)")
    args = parser.parse_args()
    if args.side == "sb3":
        sb3_main(args.steps, args.seeds[0], args.eval_episodes)
        return
    if args.env_only:
        env_only(args.steps, num_envs=4)
        return
    if args.profile:
        profile(args.steps, args.seeds[0])
        return
    sys.path.insert(0, str(HERE))
    from run import machine  # the driver side only: the SB3 side runs without the project

    for seed in args.seeds:
        for side in ("ours", "sb3"):
            if args.only and side != args.only:
                continue
            load_before = load_average()
            if side == "ours":
                with tempfile.TemporaryDirectory() as run_dir:
                    command = ours_command(args.steps, seed, args.eval_episodes, run_dir)
                    out, wall = timed(command, args.pin_cpu)
                result = parse_ours(out)
            else:
                command = [
                    args.sb3_python, __file__, "--side", "sb3", "--steps", str(args.steps),
                    "--seeds", str(seed), "--eval-episodes", str(args.eval_episodes),
                ]  # fmt: skip
                out, wall = timed(command, args.pin_cpu)
                result = json.loads(out.strip().splitlines()[-1])
            row = {
                "side": side,
                "env": ENV_ID,
                "steps": args.steps,
                "seed": seed,
                "eval_episodes": args.eval_episodes,
                **result,
                "wall_s": round(wall, 1),
                "env_steps_per_s": round(args.steps / wall, 1),
                "load": round((load_before + load_average()) / 2, 1),
                "date": dt.date.today().isoformat(),
                "machine": machine(),
            }
            if args.pin_cpu is not None:
                row["pinned_cpu"] = args.pin_cpu
            print(json.dumps(row), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
