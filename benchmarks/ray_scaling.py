"""Distributed throughput: env steps/s and learner updates/s against the number of workers.

Each configuration is a real ``rl train <algo> --distributed ray --num-workers N`` in
a subprocess (its own local Ray instance). Throughput is measured between the
first and the last log record, so Ray's start-up and the workers' TensorFlow
import are left out.

- ``ppo``: an update is one PPO iteration (one record each); "round" is the mean wall
  time of one round of rollout requests (the rest of an iteration is the update).
- ``ngu``/``agent57``: an update is one learner gradient step; "round" is the mean time
  of one actor call (16 vector steps and the initial priorities). The learner keeps a
  one-process run's replay ratio, so env steps/s is bounded by updates/s x 8 x
  ``train_every``; pass ``--set train_every=4`` (or more) to see more of the actors' speed.

    uv run python benchmarks/ray_scaling.py ppo --workers 1 2 4 8 --steps 200000
    uv run python benchmarks/ray_scaling.py agent57 --workers 1 2 4 8 --steps 100000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine  # noqa: E402

# What each runner logs: the seconds of one round (PPO) or actor call, and its losses.
ROUND_AND_FAILURES = {
    "ppo": ("distributed/round_s", "distributed/worker_failures"),
    "ngu": ("distributed/collect_s", "distributed/actor_failures"),
    "agent57": ("distributed/collect_s", "distributed/actor_failures"),
}


def measure(algo: str, workers: int, steps: int, settings: list[str], root: Path) -> dict:
    run_dir = root / f"{algo}-{workers}"
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = [sys.executable, "-m", "rl_cli", "train", algo, "--distributed", "ray"]
    cmd += ["--num-workers", str(workers), "--steps", str(steps), "--run-dir", str(run_dir)]
    cmd += ["--set", "eval_episodes=0", "--set", f"checkpoint_every={steps}"]
    for setting in settings:
        cmd += ["--set", setting]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    first, last = records[1], records[-1]  # records[0] includes the workers' start-up
    seconds = last["time"] - first["time"]
    round_key, failures_key = ROUND_AND_FAILURES[algo]
    rounds = [r[round_key] for r in records[1:]]
    if algo == "ppo":
        updates = len(records) - 2  # one record per update
    else:
        updates = last["charts/gradient_steps"] - first["charts/gradient_steps"]
    return {
        "workers": workers,
        "env_steps_per_s": (last["global_step"] - first["global_step"]) / seconds,
        "updates_per_s": updates / seconds,
        "round_s": sum(rounds) / len(rounds),
        "failures": last[failures_key],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("algo", choices=sorted(ROUND_AND_FAILURES))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--set", dest="settings", action="append", default=[])
    args = parser.parse_args()
    root = HERE / "runs" / "ray-scaling"
    rows = [measure(args.algo, n, args.steps, args.settings, root) for n in args.workers]
    print(f"{args.algo}, {args.steps} steps, {date.today()}, {machine()}")
    print("| workers | env steps/s | learner updates/s | round (s) | worker failures |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['env_steps_per_s']:,.0f} | {r['updates_per_s']:.1f} "
            f"| {r['round_s']:.3f} | {r['failures']:.0f} |"
        )


if __name__ == "__main__":
    main()
