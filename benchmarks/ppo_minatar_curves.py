"""Training curves of PPO on MinAtar, ours against Stable-Baselines3: where do they part?

Both sides log the same quantity: the mean return of the last 100 training episodes
(ours ``charts/episodic_return`` in a run's ``metrics.jsonl``, SB3 its ``ep_info_buffer``,
what it logs as ``rollout/ep_rew_mean``), here every ``--every`` env steps.

- ``--sb3-python PY --seeds ...``: train SB3 exactly as ``ppo_minatar.py`` does (its
  script, plus a callback that samples ``ep_info_buffer``), one row per seed.
- ``--ours-runs DIR ...``: read our curves from finished ``rl train`` run directories
  (e.g. the ones ``ppo_minatar_eval_seed.py`` keeps), one row per run.
- ``--plot PNG``: mean and spread over seeds of each side, from the rows of ``--out``.

    uv run python benchmarks/ppo_minatar_curves.py --sb3-python /work/sb3venv/bin/python \\
        --game SpaceInvaders --seeds 0 1 2 3 --pin-cpu 0 --out FILE
    uv run python benchmarks/ppo_minatar_curves.py --ours-runs /tmp/evalseed/* --out FILE
    uv run python benchmarks/ppo_minatar_curves.py --out FILE --plot PNG
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tomllib
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from ppo_minatar import OURS_NAME, SB3_NAME, THREADS, sb3_script  # noqa: E402
from run import machine, time_python_script  # noqa: E402

CALLBACK_CLASS = """
from stable_baselines3.common.callbacks import BaseCallback

class Curve(BaseCallback):
    # The mean return of the last 100 training episodes, every EVERY env steps.
    def __init__(self, every):
        super().__init__()
        self.every, self.next, self.points = every, every, []

    def _on_rollout_end(self):
        buffer = self.model.ep_info_buffer
        if self.num_timesteps >= self.next and buffer:
            self.points.append([self.num_timesteps, sum(e["r"] for e in buffer) / len(buffer)])
            self.next += self.every

    def _on_step(self):
        return True

curve = Curve(int(sys.argv[4]))
"""


def sb3_curve(python: str, env: str, seed: int, steps: int, every: int, cpu: int | None) -> dict:
    script = sb3_script(CALLBACK_CLASS, ", callback=curve", ', "curve": curve.points')
    args = [env, str(seed), str(steps), str(every)]
    return time_python_script(python, script, args, cpu, THREADS)


def ours_curve(run_dir: Path, every: int) -> tuple[dict, list[list[float]], int]:
    """The run's config, its curve (sampled at the first record past each ``every``) and
    the steps it trained."""
    config = tomllib.loads((run_dir / "config.toml").read_text())["config"]
    points, next_step, record = [], every, {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        value = record.get("charts/episodic_return")
        if record.get("global_step", 0) >= next_step and value is not None:
            points.append([record["global_step"], value])
            next_step += every
    return config, points, record.get("global_step", 0)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for env in sorted({r["env"] for r in rows}):
        for name, colour in ((OURS_NAME, "tab:blue"), (SB3_NAME, "tab:orange")):
            curves = [r["curve"] for r in rows if r["env"] == env and r["name"] == name]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            steps = [curves[0][i][0] for i in range(n)]
            values = [[c[i][1] for c in curves] for i in range(n)]
            mean = [statistics.mean(v) for v in values]
            low, high = ([min(v) for v in values], [max(v) for v in values])
            label = f"{name}: mean, min-max of {len(curves)} seeds"
            ax.plot(steps, mean, color=colour, label=label)
            ax.fill_between(steps, low, high, color=colour, alpha=0.15)
        ax.set_title(f"{env}: training return (last 100 episodes)")
    ax.set_xlabel("env steps")
    ax.set_ylabel("return")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sb3-python")
    parser.add_argument("--game", default="SpaceInvaders")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--pin-cpu", type=int)
    parser.add_argument("--ours-runs", type=Path, nargs="+", default=[])
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended")
    parser.add_argument("--plot", type=Path, help="plot the rows of --out to this PNG")
    args = parser.parse_args()
    new = []
    for run_dir in args.ours_runs:
        config, points, steps = ours_curve(run_dir, args.every)
        env, seed = config["env"], config["seed"]
        new.append({"name": OURS_NAME, "env": env, "seed": seed, "steps": steps, "curve": points})
    if args.sb3_python:
        env = f"MinAtar/{args.game}-v1"
        for seed in args.seeds:
            result = sb3_curve(args.sb3_python, env, seed, args.steps, args.every, args.pin_cpu)
            row = {"name": SB3_NAME, "env": env, "seed": seed, "steps": args.steps, **result}
            new.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "curve"}), flush=True)
    for row in new:
        row.update(date=str(date.today()), machine=machine())
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
    if args.plot:
        plot([json.loads(line) for line in args.out.read_text().splitlines()], args.plot)


if __name__ == "__main__":
    main()
