"""NGU and Agent57 on MinAtar Breakout (preset ``minatar``), beside a uniform random policy.

The comparison the preset is made for is the MinAtar paper's DQN (Young & Tian, 2019,
arXiv:1903.03176, Figure 2 and the repository's results plot: 30 seeds, returns against
frames, sticky actions 0.1 as in ``minatar.Environment``'s default) at the same number of
frames (MinAtar has no frame skip: one frame is one env step, ``--steps``). The paper shows
curves, not a table; issue 20 reads its DQN at 5M frames as about 10 on Breakout (and 43
on SpaceInvaders). Read the DQN return at the budget you run off the figure and say so
beside the row. What this script measures itself is the greedy evaluation return of each
agent and, as a control on the same env and evaluation, a uniform random policy.

    uv sync --all-packages      # the dev group has rl-core's minatar extra
    uv run python benchmarks/ngu_agent57_minatar.py run --steps 100000 --seeds 1 2 3
    uv run python benchmarks/ngu_agent57_minatar.py dqn --peer-python /path/to/venv/bin/python \
        --dqn-script /path/to/MinAtar/examples/dqn.py --steps 100000 --seeds 1 2 3
    uv run python benchmarks/ngu_agent57_minatar.py table

``dqn`` runs the paper's DQN itself, from MinAtar's repository (``examples/dqn.py``, PyTorch)
in the peer's own virtualenv (``pip install torch minatar``), through
``minatar_dqn_reference.py``: the paper's settings at ``--steps`` frames, then the same greedy
evaluation as NGU and Agent57, beside the mean of its last 100 training episodes (what the
paper's curves plot). Its env differs from ours in one way: the full 6-action set, where the
``MinAtar/<Game>-v1`` ids use the minimal one.

Each (algorithm, seed) trains in its own process, one at a time, under ``nice -n 5`` with
one TensorFlow thread each way (the machine is shared); every finished run appends one JSON
line to ``ngu_agent57_minatar_results.jsonl`` and ``run`` skips those already there. The
preset was chosen from the papers' settings before any run, not on these seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "ngu_agent57_minatar_results.jsonl"
ENV = "MinAtar/Breakout-v1"


def _ensure_minatar() -> None:
    """rl-core finds the MinAtar ids lazily; without the package it says in one line
    which extra to install."""
    from rl_core.envs import make_env
    from rl_core.errors import ConfigError

    try:
        make_env(ENV).close()
    except ConfigError as error:
        sys.exit(str(error))


def _random_policy_return(episodes: int, seed: int) -> float:
    """Mean return of uniform random actions over ``episodes`` episodes (the control)."""
    from rl_core.envs import make_env

    env = make_env(ENV)
    env.action_space.seed(seed)
    returns = []
    for i in range(episodes):
        env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return statistics.fmean(returns)


def one(algo: str, steps: int, seed: int, eval_episodes: int) -> dict:
    """Train ``algo`` with the minatar preset for ``steps`` env steps; evaluate greedily."""
    _ensure_minatar()
    from rl_cli.configs import preset_settings
    from rl_core.config import apply_overrides
    from rl_core.evaluation import evaluate_policy
    from rl_core.plugins import load_algorithms

    _, registry = load_algorithms()
    spec = next(s for s in registry.specs() if s.name == algo)
    settings = preset_settings(spec, "minatar")
    overrides = {**settings, "env": ENV, "seed": seed, "total_steps": steps, "device": "cpu"}
    config = apply_overrides(spec.config_cls(), overrides)
    agent_cls = {"ngu": "NGU", "agent57": "Agent57"}[algo]
    import rl_ngu_agent57

    start = time.perf_counter()
    agent = getattr(rl_ngu_agent57, agent_cls)(config).learn(steps)
    train_s = time.perf_counter() - start
    result = evaluate_policy(agent, ENV, {}, episodes=eval_episodes, seed=10_000 + seed)
    return {
        "eval_mean": result.return_mean,
        "eval_std": result.return_std,
        "eval_episodes": eval_episodes,
        "random_mean": _random_policy_return(eval_episodes, 10_000 + seed),
        "learner_steps": agent.learner.steps,
        "train_s": train_s,
        "load": os.getloadavg()[0],
    }


def _done() -> set:
    if not RESULTS.exists():
        return set()
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    return {(r["algo"], r["steps"], r["seed"]) for r in rows if "error" not in r}


def run(args) -> None:
    for seed in args.seeds:
        for algo in args.algos:
            # Read again before each run: another invocation may have done it meanwhile.
            if (algo, args.steps, seed) in _done():
                continue
            cmd = ["nice", "-n", "5", sys.executable, __file__, "one", algo]
            cmd += ["--steps", str(args.steps), "--seed", str(seed)]
            cmd += ["--eval-episodes", str(args.eval_episodes)]
            threads = {"TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **threads}
            _record(algo, args.steps, seed, cmd, env)


def _record(algo: str, steps: int, seed: int, cmd: list[str], env: dict) -> None:
    """Run one training process and append its JSON line (or its error) to RESULTS."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    row = {"algo": algo, "env": ENV, "steps": steps, "seed": seed}
    if proc.returncode != 0:
        row["error"] = proc.stderr[-1500:]
    else:
        row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    row["wall_s"] = time.perf_counter() - start
    row["date"] = time.strftime("%Y-%m-%d")
    with RESULTS.open("a") as file:
        file.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def dqn(args) -> None:
    """The MinAtar paper's DQN from its own code, one seed at a time (rows ``minatar-dqn``)."""
    for seed in args.seeds:
        if ("minatar-dqn", args.steps, seed) in _done():
            continue
        cmd = ["nice", "-n", "5", args.peer_python, str(HERE / "minatar_dqn_reference.py")]
        cmd += ["--dqn-script", args.dqn_script, "--game", "breakout"]
        cmd += ["--frames", str(args.steps), "--seed", str(seed)]
        cmd += ["--eval-episodes", str(args.eval_episodes)]
        _record("minatar-dqn", args.steps, seed, cmd, os.environ)


def table(args) -> None:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "error" not in r]
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["algo"], r["steps"]), []).append(r)
    print(
        "| algorithm | env steps (= frames) | seeds | greedy return (per seed) "
        "| last 100 training episodes | random policy | wall s |"
    )
    print("|---|---|---|---|---|---|---|")
    for (algo, steps), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["seed"])
        means = [r["eval_mean"] for r in rs]
        spread = f" ± {statistics.stdev(means):.2f}" if len(means) > 1 else ""
        per_seed = ", ".join(f"{m:.2f}" for m in means)
        training = [r["train_return_last100"] for r in rs if "train_return_last100" in r]
        trained = f"{statistics.fmean(training):.2f}" if training else "-"
        randoms = [r["random_mean"] for r in rs if "random_mean" in r]
        random_text = f"{statistics.fmean(randoms):.2f}" if randoms else "-"
        wall = statistics.fmean(r["wall_s"] for r in rs)
        print(f"| {algo} | {steps:,} | {len(rs)} | {statistics.fmean(means):.2f}{spread} "
              f"({per_seed}) | {trained} | {random_text} | {wall:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--steps", type=int, default=100_000)
    p_run.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p_run.add_argument("--algos", nargs="+", default=["ngu", "agent57"])
    p_run.add_argument("--eval-episodes", type=int, default=20)
    p_one = sub.add_parser("one")
    p_one.add_argument("algo", choices=["ngu", "agent57"])
    p_one.add_argument("--steps", type=int, required=True)
    p_one.add_argument("--seed", type=int, required=True)
    p_one.add_argument("--eval-episodes", type=int, default=20)
    p_dqn = sub.add_parser("dqn")
    p_dqn.add_argument("--peer-python", required=True, help="a venv with torch and minatar")
    p_dqn.add_argument("--dqn-script", required=True, help="MinAtar's examples/dqn.py")
    p_dqn.add_argument("--steps", type=int, default=100_000)
    p_dqn.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p_dqn.add_argument("--eval-episodes", type=int, default=20)
    sub.add_parser("table")
    args = parser.parse_args()
    if args.command == "one":
        print(json.dumps(one(args.algo, args.steps, args.seed, args.eval_episodes)))
    elif args.command == "run":
        run(args)
    elif args.command == "dqn":
        dqn(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
