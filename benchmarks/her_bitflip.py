"""HER on bit flipping: greedy success rate against env steps, for several n and strategies.

``benchmarks/run.py`` tracks the training return; what HER's bit-flipping results are
about is the greedy success rate (the HER paper, Fig. 1), so this script trains in
process and, every ``--eval-every`` env steps, evaluates the greedy policy over
``--eval-episodes`` (default 100) episodes. It records the env steps at which that
success rate first reaches ``--target``, the final success rate, the training speed
(env steps/s over the intervals between evaluations, evaluation time excluded; the
first interval, which holds the XLA compilation, is left out of the median) and the
wall time, and appends one JSON line per run to ``--out``.

    python benchmarks/her_bitflip.py --bits 15 --steps 30000 --seeds 0 1 2 --target 0.95
    python benchmarks/her_bitflip.py --bits 15 --steps 30000 --strategy none --seeds 0
    python benchmarks/her_bitflip.py --bits 50 --steps 600000 --stop-at-target --seeds 0 \\
        --set exploration_fraction=0.1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

from rl_her import HER, HERConfig

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides, parse_value
from rl_core.evaluation import evaluate_policy

HERE = Path(__file__).parent


class Evaluate(Callback):
    """Greedy success rate every ``every`` env steps; stops training once it hits the target."""

    def __init__(self, every: int, episodes: int, target: float, stop: bool) -> None:
        self.every, self.episodes, self.target, self.stop = every, episodes, target, stop
        self.next = every
        self.curve: list[tuple[int, float]] = []
        self.steps_to_target: int | None = None
        self.eval_seconds = 0.0
        self.interval_sps: list[float] = []
        self._mark = (time.perf_counter(), 0)

    def on_log(self, agent, metrics):
        step = agent.num_timesteps
        if step < self.next:
            return True
        self.next = (step // self.every + 1) * self.every
        now = time.perf_counter()
        self.interval_sps.append((step - self._mark[1]) / (now - self._mark[0]))
        cfg = agent.config
        result = evaluate_policy(
            agent, cfg.env, cfg.env_kwargs, episodes=self.episodes, seed=10_000 + len(self.curve)
        )
        self.eval_seconds += time.perf_counter() - now
        self._mark = (time.perf_counter(), step)
        self.curve.append((step, result.success_rate))
        print(f"  step {step:>7}  success {result.success_rate:.2f}", flush=True)
        if self.steps_to_target is None and result.success_rate >= self.target:
            self.steps_to_target = step
            return not self.stop
        return True


def run(args, seed: int) -> dict:
    from rl_cli.configs import preset_settings
    from rl_core.plugins import load_algorithms

    # The bitflip preset, as `rl train her --env rl/BitFlipping-v0` picks it (until
    # 2026-12-02 these settings were HER's defaults).
    settings = preset_settings(load_algorithms()[1].get("her"), "bitflip")
    settings |= {
        "env_kwargs": {"n_bits": args.bits},
        "total_steps": args.steps,
        "strategy": args.strategy,
        "seed": seed,
        "device": "cpu",
        "log_every": min(1000, args.eval_every),
    }
    for item in args.set:
        key, _, raw = item.partition("=")
        settings[key] = parse_value(raw)
    config = apply_overrides(HERConfig(), settings)
    evaluate = Evaluate(args.eval_every, args.eval_episodes, args.target, args.stop_at_target)
    start = time.perf_counter()
    agent = HER(config)
    agent.learn(config.total_steps, callbacks=[evaluate])
    wall = time.perf_counter() - start
    final = evaluate.curve[-1][1] if evaluate.curve else None
    sps = evaluate.interval_sps[1:] or evaluate.interval_sps
    return {
        "bits": args.bits,
        "strategy": args.strategy,
        "seed": seed,
        "settings": args.set,
        "steps": agent.num_timesteps,
        "target": args.target,
        "steps_to_target": evaluate.steps_to_target,
        "final_success": final,
        "env_steps_per_s": statistics.median(sps) if sps else None,
        "wall_s": wall,
        "train_wall_s": wall - evaluate.eval_seconds,
        "curve": evaluate.curve,
        "date": dt.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=15)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--strategy", default="future")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--stop-at-target", action="store_true")
    parser.add_argument("--set", nargs="*", default=[], help="HERConfig overrides key=value")
    parser.add_argument("--out", type=Path, default=HERE / "her_bitflip_results.jsonl")
    args = parser.parse_args()
    for seed in args.seeds:
        print(f"n={args.bits} strategy={args.strategy} seed={seed}", flush=True)
        record = run(args, seed)
        with args.out.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(
            f"n={args.bits} {args.strategy} seed {seed}: final success {record['final_success']}, "
            f"steps to {args.target}: {record['steps_to_target']}, "
            f"{record['env_steps_per_s']:.0f} env steps/s, wall {record['wall_s']:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
