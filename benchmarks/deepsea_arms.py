"""Which of Agent57's arms follow the treasure on DeepSea 20, and when they lose it.

A diagnostic beside ``deepsea_exploration.py``: one Agent57 run with the ``deepsea``
preset, and every ``--every`` env steps the greedy end of each policy j (one greedy
episode per arm: DeepSea is deterministic), the training success rate of the last log
interval, the meta-controller's best arm and how many episodes of its windows found the
treasure, and how often it pulled each arm. One JSON line per run goes to ``--out``.

    python benchmarks/deepsea_arms.py --seeds 100 101
    python benchmarks/deepsea_arms.py --seeds 100 101 --set ucb_shared=true
    python benchmarks/deepsea_arms.py --show      # the results file as arm strips
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides, parse_value
from rl_core.distributed import limit_tf_threads
from rl_core.evaluation import evaluate_policy

HERE = Path(__file__).parent
ENV = "rl/DeepSea-v0"


class ArmProbe(Callback):
    """Every ``every`` env steps: the greedy return of each arm and the bandit's view."""

    def __init__(self, env_kwargs: dict, every: int) -> None:
        self.env_kwargs, self.every, self.next = env_kwargs, every, every
        self.records: list[dict] = []

    def on_log(self, agent, metrics):
        if agent.num_timesteps < self.next:
            return True
        self.next += self.every
        chosen = agent.evaluation_policy
        returns = []
        for j in range(agent.config.num_policies):
            agent.evaluation_policy = lambda j=j: j  # this instance only
            agent.reset_policy_state()
            result = evaluate_policy(agent, ENV, self.env_kwargs, episodes=1, num_envs=1)
            returns.append(round(result.return_mean, 3))
        agent.evaluation_policy = chosen
        agent.reset_policy_state()
        history = agent.meta.history
        pulls = np.bincount([arm for arm, _ in history], minlength=agent.config.num_policies)
        record = {
            "steps": agent.num_timesteps,
            "episodes": int(metrics.get("episodes", 0)),
            "training_success": round(float(metrics.get("charts/success_rate", 0.0)), 3),
            "arm_returns": returns,
            "best_arm": agent.meta.best_arm(),
            "window_treasures": sum(1 for _, ret in history if ret > 0.5),
            "window_pulls": pulls.tolist(),
        }
        self.records.append(record)
        print(f"  {record['steps']:7d} {strip(returns)} best {record['best_arm']:2d} "
              f"success {record['training_success']:.2f}", flush=True)  # fmt: skip
        return True


def strip(returns: list[float]) -> str:
    """One character per arm j = 0, 1, ...: X where its greedy episode found the treasure."""
    return "".join("X" if r > 0.5 else "." for r in returns)


def run(seed: int, args) -> dict:
    from rl_ngu_agent57 import Agent57, Agent57Config

    from rl_cli.configs import preset_settings
    from rl_core.plugins import load_algorithms

    settings = preset_settings(load_algorithms()[1].get("agent57"), "deepsea")
    settings.update(seed=seed, device="cpu")
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = parse_value(value)
    config = apply_overrides(Agent57Config(), settings)
    probe = ArmProbe(config.env_kwargs, args.every)
    start = time.perf_counter()
    Agent57(config).learn(config.total_steps, callbacks=probe)
    return {
        "algo": "agent57",
        "seed": seed,
        "settings": args.set,
        "records": probe.records,
        "wall_s": time.perf_counter() - start,
        "date": dt.date.today().isoformat(),
    }


def show(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        label = " ".join([*row["settings"], row.get("code", "")]).strip() or "preset"
        lines.append(f"seed {row['seed']} ({label})")
        for r in row["records"]:
            lines.append(
                f"  {r['steps']:7d} {strip(r['arm_returns'])} best {r['best_arm']:2d} "
                f"success {r['training_success']:.2f}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100])
    parser.add_argument("--every", type=int, default=5_000, help="env steps between probes")
    parser.add_argument("--set", action="append", default=[], help="key=value (agent57)")
    parser.add_argument("--out", type=Path, default=HERE / "deepsea_arms_results.jsonl")
    parser.add_argument("--show", action="store_true", help="print --out, run none")
    args = parser.parse_args()
    if args.show:
        print(show(args.out))
        return
    limit_tf_threads(1)
    for seed in args.seeds:
        row = run(seed, args)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
