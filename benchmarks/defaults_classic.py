"""Each algorithm's *defaults* on envs they were not tuned on, beside SB3's defaults.

Our side is ``rl train ALGO --env ENV --preset none`` (the dataclass defaults, no preset);
the control is ``benchmarks/sb3_defaults.py`` (SB3's defaults) in its own virtual
environment, at the same budget: SB3 PPO beside PPO, SB3 DQN beside the discrete-action
runs of MPO, NGU and Agent57, SB3 SAC beside MPO on continuous actions (and beside NGU and
Agent57 on Pendulum-v1, which they play with 11 discretized torques, ``action_bins=11``).
HER (needs a goal env) and GAIL (needs expert demonstrations) are not run here.

    uv run python benchmarks/defaults_classic.py run --sb3-python /work/sb3venv/bin/python
    uv run python benchmarks/defaults_classic.py table     # the RESULTS.md table

Every finished run appends one JSON line to ``defaults_classic_results.jsonl``; ``run``
skips the runs already there, so an interrupted sweep continues where it stopped. Runs go
two at a time under ``nice`` (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Lock

HERE = Path(__file__).parent
RESULTS = HERE / "defaults_classic_results.jsonl"
DISCRETE = ["CartPole-v1", "Acrobot-v1", "LunarLander-v3"]
CONTINUOUS = ["MountainCarContinuous-v0", "Pendulum-v1"]
ORDER = ["CartPole-v1", "Acrobot-v1", "MountainCarContinuous-v0", "Pendulum-v1", "LunarLander-v3"]
EVAL_EPISODES = 10


# Off-policy runs, most informative first (a shared 2-core machine may not finish them all).
OURS_OFFPOLICY = [
    ("mpo", "Pendulum-v1"),
    ("mpo", "CartPole-v1"),
    ("ngu", "CartPole-v1"),
    ("agent57", "CartPole-v1"),
    ("mpo", "Acrobot-v1"),
    ("ngu", "Acrobot-v1"),
    ("agent57", "Acrobot-v1"),
    ("mpo", "MountainCarContinuous-v0"),
    ("mpo", "LunarLander-v3"),
    ("ngu", "LunarLander-v3"),
    ("agent57", "LunarLander-v3"),
    ("ngu", "Pendulum-v1"),
    ("agent57", "Pendulum-v1"),
]
SB3_ORDER = [
    ("ppo", "CartPole-v1"),
    ("ppo", "Acrobot-v1"),
    ("dqn", "CartPole-v1"),
    ("dqn", "Acrobot-v1"),
    ("sac", "Pendulum-v1"),
    ("ppo", "Pendulum-v1"),
    ("ppo", "LunarLander-v3"),
    ("ppo", "MountainCarContinuous-v0"),
    ("dqn", "LunarLander-v3"),
    ("sac", "MountainCarContinuous-v0"),
]


def jobs(ppo_steps: int, offpolicy_steps: int, seeds: list[int], offpolicy_seeds: list[int]):
    """(side, algo, env, steps, seed, settings), seed by seed, in the order they run: PPO,
    then the off-policy algorithms, most informative first (OURS_OFFPOLICY, SB3_ORDER)."""
    out = []
    for seed in seeds:
        offpolicy = seed in offpolicy_seeds
        out += [("rl", "ppo", env, ppo_steps, seed, []) for env in ORDER]
        for algo, env in OURS_OFFPOLICY if offpolicy else []:
            discretize = algo != "mpo" and env in CONTINUOUS
            settings = ["action_bins=11"] if discretize else []
            out.append(("rl", algo, env, offpolicy_steps, seed, settings))
        for algo, env in SB3_ORDER:
            if algo == "ppo" or offpolicy:
                steps = ppo_steps if algo == "ppo" else offpolicy_steps
                out.append(("sb3", algo, env, steps, seed, []))
    return out


def done_keys() -> set:
    if not RESULTS.exists():
        return set()
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    return {(r["side"], r["algo"], r["env"], r["steps"], r["seed"]) for r in rows}


def run_ours(algo, env, steps, seed, settings, preset_none: bool) -> dict:
    run_dir = HERE / "runs" / "defaults_classic" / f"{algo}-{env}-{steps}-s{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)  # scratch space of an interrupted attempt
    cmd = ["nice", "-n", "10", sys.executable, "-m", "rl_cli", "train", algo, "--env", env]
    cmd += ["--steps", str(steps), "--seed", str(seed), "--device", "cpu"]
    cmd += ["--run-dir", str(run_dir), "--set", f"eval_episodes={EVAL_EPISODES}"]
    if preset_none:
        cmd += ["--preset", "none"]
    for setting in settings:
        cmd += ["--set", setting]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:], "wall_s": wall}
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    return {
        "eval_mean": evaluation["return_mean"],
        "eval_std": evaluation["return_std"],
        "eval_episodes": evaluation["episodes"],
        "wall_s": wall,
        "preset_none": preset_none,
        "settings": settings,
    }


def run_sb3(sb3_python, algo, env, steps, seed) -> dict:
    cmd = ["nice", "-n", "10", sb3_python, str(HERE / "sb3_defaults.py"), algo, env]
    cmd += ["--steps", str(steps), "--seed", str(seed), "--eval-episodes", str(EVAL_EPISODES)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(args) -> None:
    todo = jobs(args.ppo_steps, args.offpolicy_steps, args.seeds, args.offpolicy_seeds)
    if args.only:
        todo = [j for j in todo if {j[0], j[1], f"{j[0]}:{j[1]}"} & set(args.only)]
    if args.envs:
        todo = [j for j in todo if j[2] in args.envs]
    done = done_keys()
    todo = [j for j in todo if j[:5] not in done]
    lock = Lock()

    def one(job):
        side, algo, env, steps, seed, settings = job
        if side == "rl":
            result = run_ours(algo, env, steps, seed, settings, not args.no_preset_flag)
        else:
            result = run_sb3(args.sb3_python, algo, env, steps, seed)
        row = {"side": side, "algo": algo, "env": env, "steps": steps, "seed": seed, **result}
        row["date"] = time.strftime("%Y-%m-%d")
        with lock:
            print(json.dumps(row), flush=True)
            if "error" not in row:
                with RESULTS.open("a") as f:
                    f.write(json.dumps(row) + "\n")

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, todo))


def table() -> str:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    groups = defaultdict(list)
    for r in rows:
        groups[(r["side"], r["algo"], r["env"], r["steps"])].append(r)
    lines = [
        "| algo (ours) | env | steps | seeds (ours / SB3) | ours: greedy return "
        "| ours: wall / seed | SB3 control | SB3: greedy return | SB3: wall / seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(rs):
        means = [r["eval_mean"] for r in rs]
        ret = f"{means[0]:.1f}"
        if len(means) > 1:
            ret = f"{statistics.mean(means):.1f} ± {statistics.pstdev(means):.1f}"
            ret += f" ({', '.join(f'{m:.1f}' for m in means)})"
        wall = statistics.mean(r["wall_s"] for r in rs)
        return ret, f"{wall:.0f} s", len(rs)

    order = {"ppo": 0, "mpo": 1, "ngu": 2, "agent57": 3}
    ours = sorted(
        (k for k in groups if k[0] == "rl"), key=lambda k: (order[k[1]], ORDER.index(k[2]))
    )
    for _, algo, env, steps in ours:
        ret, wall, n = fmt(groups[("rl", algo, env, steps)])
        control = "ppo" if algo == "ppo" else ("dqn" if env in DISCRETE else "sac")
        name = env + (" (11 bins)" if algo in ("ngu", "agent57") and env in CONTINUOUS else "")
        sb3 = groups.get(("sb3", control, env, steps))
        if sb3:
            sret, swall, sn = fmt(sb3)
            seeds = f"{n}" if n == sn else f"{n} / {sn}"
        else:
            sret, swall, seeds = "not run", "-", f"{n} / 0"
        lines.append(
            f"| {algo} | {name} | {steps:,} | {seeds} | {ret} | {wall} "
            f"| {control.upper()} | {sret} | {swall} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--sb3-python", default="/work/sb3venv/bin/python")
    r.add_argument("--ppo-steps", type=int, default=200_000)
    r.add_argument("--offpolicy-steps", type=int, default=30_000)
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r.add_argument("--offpolicy-seeds", type=int, nargs="+", default=[0])
    r.add_argument("--only", nargs="*", help="a side (rl, sb3), algos (ppo, sac) or rl:ppo")
    r.add_argument("--envs", nargs="*", help="only these env ids")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument(
        "--no-preset-flag",
        action="store_true",
        help="omit --preset none (a CLI that picks no preset by env id)",
    )
    sub.add_parser("table")
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    else:
        print(table())


if __name__ == "__main__":
    main()
