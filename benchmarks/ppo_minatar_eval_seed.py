"""Does the fixed evaluation seed of ``rl train`` move our MinAtar figures?

``rl train``'s final evaluation always seeds its envs with 1,000,000 (+ i per env), so
every training seed of ``benchmarks/ppo_minatar.py`` is evaluated on the same sticky-action
draws, where SB3's ``evaluate_policy`` gets a fresh, unseeded env each time. In MinAtar's
SpaceInvaders the sticky actions are the game's only randomness, so with a greedy
policy those draws are all the evaluation's noise, shared by every one of our seeds.

Per training seed this script runs ``rl train ppo`` with ``ppo_minatar.py``'s settings
(the same command, one thread, pinned), keeps the run directory, and evaluates its final
policy twice with ``rl evaluate``: the 20 episodes at seed 1,000,000 that the benchmark
reports, and ``--wide-episodes`` episodes at an unrelated seed (2,000,000 + 1,000 x the
training seed). A JSON line per training seed goes to ``--out``.

    uv run python benchmarks/ppo_minatar_eval_seed.py --games SpaceInvaders \\
        --seeds 0 1 2 3 --pin-cpu 0 --runs /tmp/evalseed --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from ppo_minatar import THREADS, train_args  # noqa: E402
from run import machine, pinned  # noqa: E402


def evaluate(run_dir: Path, episodes: int, seed: int, prefix: list[str], env: dict) -> dict:
    cmd = [*prefix, sys.executable, "-m", "rl_cli", "evaluate", str(run_dir)]
    cmd += ["--episodes", str(episodes), "--seed", str(seed), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", nargs="+", default=["SpaceInvaders"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--wide-episodes", type=int, default=200)
    parser.add_argument("--pin-cpu", type=int)
    parser.add_argument("--runs", type=Path, required=True, help="where the runs are kept")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    prefix, threads = pinned(args.pin_cpu)
    env = {**os.environ, **THREADS, **threads}
    for game in args.games:
        env_id = f"MinAtar/{game}-v1"
        for seed in args.seeds:
            run_dir = args.runs / f"{game}-{seed}"
            if not (run_dir / "evaluation.json").is_file():
                cmd = [*prefix, sys.executable, "-m", "rl_cli", "train"]
                cmd += [*train_args(env_id, seed, args.steps), "--run-dir", str(run_dir)]
                subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            trained = json.loads((run_dir / "evaluation.json").read_text())
            fixed = evaluate(run_dir, 20, 1_000_000, prefix, env)
            wide_seed = 2_000_000 + 1_000 * seed
            wide = evaluate(run_dir, args.wide_episodes, wide_seed, prefix, env)
            record = {
                "env": env_id,
                "seed": seed,
                "steps": args.steps,
                "train_eval_20_at_1000000": trained["return_mean"],
                "eval_20_at_1000000": fixed["return_mean"],
                "wide_seed": wide_seed,
                "wide_episodes": args.wide_episodes,
                "wide_return": wide["return_mean"],
                "wide_std": wide["return_std"],
                "date": str(date.today()),
                "machine": machine(),
            }
            print(json.dumps(record), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
