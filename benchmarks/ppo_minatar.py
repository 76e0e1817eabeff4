"""PPO against Stable-Baselines3 on MinAtar (Young & Tian, 2019), the same small CNN.

Both sides are a fresh Python process each, timed from its start to the end of its
final evaluation (what a user waits for), that trains PPO for ``--steps`` env steps and
evaluates 20 greedy episodes: ours is ``rl train ppo --preset none --set ...`` as a user
runs it (run directory, metrics, checkpoints, the final policy); SB3's a script that
registers MinAtar's Gymnasium ids, trains and calls ``evaluate_policy``. Settings, the same on
both sides: 8 envs (Gymnasium's SyncVectorEnv / SB3's DummyVecEnv), 128 steps per env
per rollout, minibatches of 256, 4 epochs, Adam lr 5e-4 constant (eps 1e-5), clip 0.2
(no value clipping), entropy 0.01, vf_coef 0.5 on the unhalved squared error (SB3's
``F.mse_loss`` and ours), gamma 0.99, lambda 0.95, gradient norm 0.5, advantages
normalized per minibatch. These are the settings of ``tests/test_minatar.py``, for short
budgets: the ``minatar`` preset (gymnax-blines', 64 envs) is for 10M steps.

The network is MinAtar's CNN (conv 16 3x3/1, ReLU, dense 128, ReLU) shared by a policy
head (orthogonal gain 0.01) and a value head (gain 1), orthogonal sqrt(2) inside: ours is
``cnn = "minatar"``, ``shared_network = true``; SB3's is a custom
``BaseFeaturesExtractor`` with ``net_arch=[]`` and its default shared extractor and
orthogonal init. Each process is held to one thread (TF_NUM_INTRAOP/INTEROP_THREADS=1;
``torch.set_num_threads(1)``): the machine's 2 cores are shared.

    uv sync --all-packages --extra minatar --compile-bytecode
    python3 -m venv /work/sb3venv    # SB3's own venv; pip compiles bytecode as it installs
    /work/sb3venv/bin/pip install torch==2.13.0 stable-baselines3 minatar==1.0.15
    uv run python benchmarks/ppo_minatar.py --sb3-python /work/sb3venv/bin/python \\
        --steps 1000000 --seeds 0 1 2 --pin-cpu 1 --out benchmarks/ppo_minatar_results.jsonl

Compiled bytecode on both sides matters where ``PYTHONDONTWRITEBYTECODE`` is set (as on
the machine of RESULTS.md): a uv venv without ``--compile-bytecode`` then recompiles every
module at every start, and importing TensorFlow took ~5 s instead of ~2-3 s.

``--pin-cpu N`` runs both sides on CPU N (``taskset``), so that other work on the
machine's other core does not land on either side. Without the SB3 virtualenv only rl-ppo
is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import date
from functools import partial
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import machine, time_python_script, time_rl_train  # noqa: E402

EPISODES = 20

REGISTER = """
import gymnasium as gym
import minatar.gym
if "MinAtar/Breakout-v1" not in gym.registry:
    minatar.gym.register_envs()
"""

# The settings above as `rl train ppo --preset none --set key=value` takes them.
OURS = {
    "num_envs": 8,
    "n_steps": 128,
    "minibatch_size": 256,
    "n_epochs": 4,
    "learning_rate": 5e-4,
    "adam_eps": 1e-5,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "max_grad_norm": 0.5,
    "cnn": "minatar",
    "shared_network": "true",
    "eval_episodes": EPISODES,
}

SB3 = (
    REGISTER
    + """
import json, sys, time
import gymnasium as gym
import torch
from torch import nn
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
torch.set_num_threads(1)

class MinAtarCNN(BaseFeaturesExtractor):
    # Young & Tian (2019): conv 16 3x3/1, ReLU, flatten, dense 128, ReLU; NHWC in.
    def __init__(self, observation_space, features_dim=128):
        super().__init__(observation_space, features_dim)
        h, w, c = observation_space.shape
        self.conv = nn.Sequential(nn.Conv2d(c, 16, 3, 1), nn.ReLU(), nn.Flatten())
        self.dense = nn.Sequential(nn.Linear(16 * (h - 2) * (w - 2), features_dim), nn.ReLU())

    def forward(self, obs):
        return self.dense(self.conv(obs.permute(0, 3, 1, 2).float()))

{callback_class}
env_id, seed, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
env = make_vec_env(env_id, n_envs=8, seed=seed)
model = PPO("MlpPolicy", env, n_steps=128, batch_size=256, n_epochs=4, learning_rate=5e-4,
            clip_range=0.2, ent_coef=0.01, vf_coef=0.5, gamma=0.99, gae_lambda=0.95,
            max_grad_norm=0.5,
            policy_kwargs=dict(features_extractor_class=MinAtarCNN, net_arch=[]),
            seed=seed, device="cpu", verbose=0)
start = time.perf_counter()
model.learn(steps{callback})
learn = time.perf_counter() - start
mean, _ = evaluate_policy(model, gym.make(env_id), n_eval_episodes={episodes}, deterministic=True)
print(json.dumps({{"learn": learn, "return": float(mean){extra}}}))
"""
)


THREADS = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


def sb3_script(callback_class: str = "", callback: str = "", extra: str = "") -> str:
    """SB3's side as a script; ``benchmarks/ppo_minatar_curves.py`` adds a callback (its
    class, the ``learn`` argument and what the final JSON object gains)."""
    fields = {"callback_class": callback_class, "callback": callback, "extra": extra}
    return SB3.format(episodes=EPISODES, **fields)


def run_sb3(python: str, env: str, seed: int, steps: int, cpu: int | None) -> dict:
    args = [env, str(seed), str(steps)]  # one thread each already (THREADS)
    return time_python_script(python, sb3_script(), args, cpu, THREADS)


def run_ours(
    env: str, seed: int, steps: int, cpu: int | None, overrides: dict[str, str] | None = None
) -> dict:
    """``rl train ppo`` as a user runs it: run directory, metrics, checkpoints, the final
    policy and its evaluation. ``overrides`` change settings of :data:`OURS` (an ablation)."""
    return time_rl_train(train_args(env, seed, steps, overrides), cpu, THREADS)


def train_args(
    env: str, seed: int, steps: int, overrides: dict[str, str] | None = None
) -> list[str]:
    """``rl train``'s arguments for our side: :data:`OURS` with ``overrides`` on top."""
    args = ["ppo", "--env", env, "--preset", "none", "--steps", str(steps)]
    args += ["--seed", str(seed), "--device", "cpu"]
    for key, value in {**OURS, **(overrides or {})}.items():
        args += ["--set", f"{key}={value}"]
    return args


OURS_NAME, SB3_NAME = "rl-ppo (rl train)", "Stable-Baselines3 PPO"


def ours_name(overrides: dict[str, str]) -> str:
    """The rows' name for our side: a variant's names its changed settings."""
    if not overrides:
        return OURS_NAME
    return f"rl-ppo (rl train, {', '.join(f'{k}={v}' for k, v in overrides.items())})"


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:  # an unknown key is rl train's error, with the valid ones
            raise SystemExit(f"--ours-set takes KEY=VALUE, not {pair!r}")
        overrides[key] = value
    return overrides


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def compare(path: Path, steps: int, games: list[str], ours: str, sb3: str) -> None:
    """Two sides' returns (``ours`` and ``sb3``: row names) over every seed in ``path``
    at ``steps``, with Welch's t-test, Mann-Whitney's U and a 95% interval for the
    difference of means (ours minus the other's).

    A seed run more than once counts once, with its latest row, the one RESULTS.md
    reports (neither side repeats exactly across machines)."""
    from scipy import stats

    latest: dict[tuple[str, str, int], float] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["steps"] == steps:
            latest[(row["name"], row["env"], row["seed"])] = row["return"]
    for game in games:
        env = f"MinAtar/{game}-v1"
        side = {
            name: {s: v for (n, e, s), v in latest.items() if (n, e) == (name, env)}
            for name in (ours, sb3)
        }
        seeds = sorted(side[ours].keys() & side[sb3].keys())
        if len(seeds) < 2:
            print(f"{env}: fewer than two seeds with both sides at {steps:,} steps")
            continue
        a, b = ([side[name][s] for s in seeds] for name in (ours, sb3))
        welch = stats.ttest_ind(a, b, equal_var=False)
        interval = welch.confidence_interval(0.95)
        u = stats.mannwhitneyu(a, b, alternative="two-sided")
        print(f"{env}, {steps:,} steps, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} a side):")
        for name, values in ((ours, a), (sb3, b)):
            print(
                f"  {name}: {statistics.mean(values):.2f} +- {statistics.stdev(values):.2f}"
                f" (median {statistics.median(values):.2f})"
            )
        print(
            f"  difference: {statistics.mean(a) - statistics.mean(b):+.2f}, 95% interval"
            f" {interval.low:+.2f} to {interval.high:+.2f}; Welch p = {welch.pvalue:.2g},"
            f" Mann-Whitney p = {u.pvalue:.2g}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sb3-python", default="/work/sb3venv-fetch/bin/python")
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--games", nargs="+", default=["Breakout", "SpaceInvaders"])
    parser.add_argument("--pin-cpu", type=int, help="run both sides on this CPU (taskset)")
    parser.add_argument("--out", type=Path, help="also write every run as JSON lines here")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="JSONL",
        help="run nothing; compare the two sides' returns in these rows at --steps, per game",
    )
    parser.add_argument(
        "--ours-set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="change our side's settings (an ablation); its rows are named after the change",
    )
    parser.add_argument("--no-sb3", action="store_true", help="run our side only")
    parser.add_argument(
        "--against",
        choices=["sb3", "ours"],
        default="sb3",
        help="with --compare and --ours-set: compare the variant with SB3 or with our defaults",
    )
    args = parser.parse_args()
    overrides = parse_overrides(args.ours_set)
    if args.compare:
        other = SB3_NAME if args.against == "sb3" else OURS_NAME
        compare(args.compare, args.steps, args.games, ours_name(overrides), other)
        return
    with_sb3 = not args.no_sb3 and Path(args.sb3_python).is_file()
    if not with_sb3:
        why = "--no-sb3" if args.no_sb3 else f"no {args.sb3_python}"
        print(f"{why}: measuring rl-ppo only")
    impls = {ours_name(overrides): partial(run_ours, overrides=overrides)}
    if with_sb3:
        impls[SB3_NAME] = partial(run_sb3, args.sb3_python)
    results: dict[tuple[str, str], list[dict]] = {}
    for game in args.games:
        env = f"MinAtar/{game}-v1"
        for seed in args.seeds:  # interleaved, so drift in machine load hits both alike
            for name, run in impls.items():
                before = load()
                result = run(env, seed, args.steps, args.pin_cpu)
                record = {"name": name, "env": env, "seed": seed, "steps": args.steps}
                if overrides and name != SB3_NAME:
                    record["overrides"] = overrides
                record.update(result, load_before=before, load_after=load(), date=str(date.today()))
                if args.pin_cpu is not None:
                    record["pinned_cpu"] = args.pin_cpu
                results.setdefault((name, env), []).append(result)
                print(json.dumps(record), flush=True)
                if args.out:
                    with args.out.open("a") as f:
                        f.write(json.dumps(record) + "\n")
    print(f"\n{date.today()}, {machine()}, {args.steps:,} steps, seeds {args.seeds}")
    print(
        "| env | implementation | whole process | learn() | env steps/s in learn() | eval return |"
    )
    print("|---|---|---|---|---|---|")
    for (name, env), rows in results.items():
        mean = statistics.mean
        sps = mean(args.steps / r["learn"] for r in rows)
        print(
            f"| {env} | {name} | {mean(r['wall'] for r in rows):.1f} s "
            f"| {mean(r['learn'] for r in rows):.1f} s | {sps:,.0f} "
            f"| {mean(r['return'] for r in rows):.2f} |"
        )


if __name__ == "__main__":
    main()
