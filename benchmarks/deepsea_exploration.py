"""Deep exploration on rl/DeepSea-v0: NGU and Agent57 against R2D2 (beta = 0) and DQN.

The issue's table: on DeepSea of size N = 20, within 5,000 episodes (100,000 env steps),
does the greedy policy collect the treasure (mean evaluation return >= 0.9)? Dithering
(epsilon-greedy) finds it with probability about 2^-20 per episode, so R2D2 alone and DQN
are the controls that must fail. For each run this script records, every
``--eval-every`` env steps, the greedy evaluation return over ``--eval-episodes``
episodes; the episode at which training first collected the treasure and the episode
at which the greedy return first reached ``--target``; the final evaluation; env
steps/s; the wall time. One JSON line per run goes to ``--out``. The first treasure is
read from the training log, so it is known to within ``log_every`` steps (the preset's
2,000: 100 episodes at N = 20); the greedy one to within ``--eval-every``.

    python benchmarks/deepsea_exploration.py ngu agent57 r2d2 dqn --seeds 0 1 2
    python benchmarks/deepsea_exploration.py --table    # the results file as markdown

``dqn`` is the control written here: feed-forward Double DQN, Huber loss, uniform
replay, epsilon decayed linearly from 1 to 0.05 over the first 10% of the steps (more
dithering than bsuite's fixed 0.05, to give it its best chance).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides, parse_value
from rl_core.distributed import limit_tf_threads
from rl_core.envs import make_vector_env
from rl_core.evaluation import evaluate_policy

HERE = Path(__file__).parent
ENV = "rl/DeepSea-v0"
ALGOS = ("ngu", "agent57", "r2d2", "dqn")
# Rows are labelled with the code they ran with: the losses, inputs and novelty networks
# changed with issue 19, so earlier rows are not comparable with later ones.
CODE = "after issue 19"
# Agent57's meta-controller became one bandit per actor slot (the paper's one per actor)
# on 2026-12-03, and its replay priority |delta_e| + |delta_i| (priority_td = "heads")
# later that day; rows carry the code they ran with.
AGENT57_CODE = "after issue 19, per-slot bandits, heads priority"


class Progress(Callback):
    """Greedy evaluation every ``every`` env steps, and the first training success."""

    def __init__(self, env_kwargs: dict, every: int, episodes: int, target: float) -> None:
        self.env_kwargs, self.every, self.episodes, self.target = (
            env_kwargs,
            every,
            episodes,
            target,
        )
        self.next_eval = every
        self.first_treasure_episode: int | None = None
        self.target_episode: int | None = None
        self.curve: list[tuple[int, float]] = []

    def on_log(self, agent, metrics):
        if self.first_treasure_episode is None and metrics.get("charts/success_rate", 0) > 0:
            self.first_treasure_episode = int(metrics["episodes"])
        if agent.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            result = evaluate_policy(
                agent, ENV, self.env_kwargs, episodes=self.episodes, seed=10**6
            )
            self.curve.append((agent.num_timesteps, result.return_mean))
            print(f"  {agent.num_timesteps:7d} steps: greedy return {result.return_mean:.2f}")
            if self.target_episode is None and result.return_mean >= self.target:
                self.target_episode = int(metrics["episodes"])
        return True


def run_recurrent(algo: str, size: int, steps: int, seed: int, args) -> dict:
    import tomllib

    from rl_ngu_agent57 import NGU, Agent57, Agent57Config, NGUConfig

    from rl_cli.configs import preset_settings
    from rl_core.plugins import load_algorithms

    cls, config_cls = (Agent57, Agent57Config) if algo == "agent57" else (NGU, NGUConfig)
    # The preset as `rl train --preset deepsea` composes it; r2d2 is NGU with beta = 0.
    spec = load_algorithms()[1].get("ngu" if algo == "r2d2" else algo)
    preset = tomllib.loads(spec.presets["deepsea"].read_text())  # stored with the row
    settings = preset_settings(spec, "deepsea")
    settings.update(env_kwargs={"size": size}, seed=seed, total_steps=steps, device="cpu")
    if algo == "r2d2":
        settings["intrinsic_beta"] = 0.0
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = parse_value(value)
    config = apply_overrides(config_cls(), settings)
    progress = Progress(config.env_kwargs, args.eval_every, args.eval_episodes, args.target)
    agent = cls(config)
    start = time.perf_counter()
    agent.learn(steps, callbacks=progress)
    train_s = time.perf_counter() - start
    final = evaluate_policy(agent, ENV, config.env_kwargs, episodes=20, seed=10**6)
    # The diagnostic from the same trained agent: NGU's best arm, Agent57's j = 0. It
    # separates "exploration never found the treasure" from "found, but the evaluated
    # policy did not follow" without a second training run.
    diagnostic = "j0" if algo == "agent57" else "best_arm"
    evaluated_arm = agent.evaluation_policy()
    diagnostic_result = _evaluate_with(agent, diagnostic)
    extra = {}
    if algo == "agent57" and config.evaluator_period > 0:
        # Training is the same with the evaluator as without it (it has its own env and
        # generator), so the actors' best arm scores what evaluation scored before it.
        extra["actors_best_arm_return"] = _evaluate_with(agent, "best_arm").return_mean
    return {
        "first_treasure_episode": progress.first_treasure_episode,
        "target_episode": progress.target_episode,
        "final_return": final.return_mean,
        "final_success": final.success_rate,
        "evaluated_arm": evaluated_arm,
        "diagnostic": {
            "evaluation_policy": diagnostic,
            "final_return": diagnostic_result.return_mean,
        },
        **extra,
        "curve": progress.curve,
        "env_steps_per_s": steps / train_s,
        "settings": args.set,
        "preset": preset,
    }


def _evaluate_with(agent, evaluation_policy: str):
    """The final evaluation of the same trained agent with another ``evaluation_policy``."""
    evaluated_with = agent.config.evaluation_policy
    agent.config.evaluation_policy = evaluation_policy
    try:
        return evaluate_policy(agent, ENV, agent.config.env_kwargs, episodes=20, seed=10**6)
    finally:
        agent.config.evaluation_policy = evaluated_with


def run_dqn(size: int, steps: int, seed: int, args) -> dict:
    import tensorflow as tf

    from rl_core.optim import Adam
    from rl_core.replay import ReplayBuffer

    num_envs, batch, gamma = 8, 64, 0.99
    envs = make_vector_env(
        ENV, num_envs, seed, {"size": size}, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    obs_dim = size * size
    rng = np.random.default_rng(seed)
    tf.random.set_seed(seed)

    def mlp():
        return tf.keras.Sequential(
            [
                tf.keras.Input((obs_dim,)),
                tf.keras.layers.Dense(64, "relu"),
                tf.keras.layers.Dense(64, "relu"),
                tf.keras.layers.Dense(2),
            ]
        )

    online, target = mlp(), mlp()
    target.set_weights(online.get_weights())
    optimizer = Adam(online.trainable_variables, 1e-3)
    replay = ReplayBuffer(
        50_000,
        {
            "obs": ((obs_dim,), np.float32),
            "action": ((), np.int32),
            "reward": ((), np.float32),
            "next_obs": ((obs_dim,), np.float32),
            "terminal": ((), np.float32),
        },
    )

    @tf.function
    def q_values(x):
        return online(x)

    @tf.function
    def train_step(obs, action, reward, next_obs, terminal):
        best = tf.argmax(online(next_obs), axis=1, output_type=tf.int32)
        next_q = tf.gather(target(next_obs), best, batch_dims=1)
        y = reward + gamma * (1.0 - terminal) * next_q
        with tf.GradientTape() as tape:
            q = tf.gather(online(obs), action, batch_dims=1)
            loss = tf.reduce_mean(tf.keras.losses.huber(y[:, None], q[:, None]))
        optimizer.apply(tape.gradient(loss, online.trainable_variables))
        return loss

    class Greedy:
        def predict(self, x, deterministic=True):
            return q_values(np.asarray(x, np.float32).reshape(len(x), -1)).numpy().argmax(1)

    obs = envs.reset(seed=seed)[0].reshape(num_envs, -1)
    start = time.perf_counter()
    episodes, first_treasure, target_episode, curve = 0, None, None, []
    next_eval = args.eval_every
    for t in range(0, steps, num_envs):
        epsilon = max(0.05, 1.0 - 0.95 * t / (0.1 * steps))
        greedy = q_values(obs).numpy().argmax(1)
        explore = rng.random(num_envs) < epsilon
        actions = np.where(explore, rng.integers(2, size=num_envs), greedy)
        next_obs, reward, terminated, truncated, info = envs.step(actions)
        next_obs = next_obs.reshape(num_envs, -1)
        arrived = next_obs.copy()
        for i in np.flatnonzero(terminated | truncated):
            arrived[i] = info["final_obs"][i].reshape(-1)
            episodes += 1
            if first_treasure is None and info["final_info"]["is_success"][i]:
                first_treasure = episodes
        replay.add_batch(
            obs=obs, action=actions, reward=reward, next_obs=arrived, terminal=terminated
        )
        obs = next_obs
        if len(replay) >= 1_000:
            sample = replay.sample(batch, rng)
            sample.pop("indices")
            train_step(**sample)
        if (t // num_envs) % 100 == 0:
            target.set_weights(online.get_weights())
        if t + num_envs >= next_eval:
            next_eval += args.eval_every
            result = evaluate_policy(Greedy(), ENV, {"size": size}, episodes=args.eval_episodes)
            curve.append((t + num_envs, result.return_mean))
            print(f"  {t + num_envs:7d} steps: greedy return {result.return_mean:.2f}")
            if target_episode is None and result.return_mean >= args.target:
                target_episode = episodes
    train_s = time.perf_counter() - start
    final = evaluate_policy(Greedy(), ENV, {"size": size}, episodes=20, seed=10**6)
    return {
        "first_treasure_episode": first_treasure,
        "target_episode": target_episode,
        "final_return": final.return_mean,
        "final_success": final.success_rate,
        "curve": curve,
        "env_steps_per_s": steps / train_s,
        "settings": [],
    }


def _only_settings(preset: dict, algo: str) -> dict:
    """The ``[only.<algo>]`` table of a row's stored preset that applied to its agent."""
    return preset.get("only", {}).get("ngu" if algo == "r2d2" else algo, {})


def _setting_label(row: dict) -> str:
    """The settings a row ran with, in short: actor slots, novelty learning rate, the rest."""
    if row["algo"] == "dqn":
        return "-"
    # Rows written before the preset was stored with them ran the preset of 2026-11-21.
    settings = dict(row.get("preset", {"num_envs": 8, "novelty_learning_rate": 5e-4}))
    settings.setdefault("novelty_learning_rate", 5e-4)
    # The preset's own keys for this agent first, then --set, which overrides them.
    extra = {k: f"{k}={v}" for k, v in _only_settings(settings, row["algo"]).items()}
    for item in row.get("settings", []):
        key, value = item.split("=", 1)
        if key in ("num_envs", "novelty_learning_rate"):
            settings[key] = parse_value(value)
        else:
            extra[key] = item
    if row["algo"] == "ngu" and "code" in row and "intrinsic_beta" not in extra:
        # Since issue 19 an NGU row without a beta of its own ran the default, the paper's.
        extra["intrinsic_beta"] = "intrinsic_beta=0.3"
    label = f"{settings['num_envs']} envs, novelty lr {settings['novelty_learning_rate']:g}"
    if "novelty_train_steps" in settings:  # in the preset since 2026-12-02 (0: every step)
        label += f", novelty_train_steps={settings['novelty_train_steps']}"
    if "code" in row:
        label = f"{row['code']}: {label}"
    return ", ".join([label, *extra.values()])


def _diagnostic(runs: list[dict]) -> str:
    """How many seeds the diagnostic evaluation (NGU's best arm, Agent57's j = 0) of the
    same trained agents brought to >= 0.9; "-" for rows recorded without it."""
    diagnostics = [r["diagnostic"] for r in runs if "diagnostic" in r]
    if not diagnostics:
        return "-"
    passed = sum(d["final_return"] >= 0.9 for d in diagnostics)
    text = f"{diagnostics[0]['evaluation_policy']}: {passed}/{len(diagnostics)}"
    actors = [r["actors_best_arm_return"] for r in runs if "actors_best_arm_return" in r]
    if actors:
        text += f"; actors' best arm: {sum(x >= 0.9 for x in actors)}/{len(actors)}"
    return text


def table(path: Path) -> str:
    """The results file as one markdown row per (size, algo, --set settings): mean ± std
    over seeds."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[tuple[int, str, str], list[dict]] = {}
    for row in rows:
        key = (row["size"], row["algo"], _setting_label(row))
        groups.setdefault(key, []).append(row)
    lines = [
        "| size | agent | settings | episodes | seeds | final greedy return | seeds >= 0.9 "
        "| first treasure (episode; seed 0, 1, ...) | greedy >= 0.9 at episode | env steps/s "
        "| wall / seed | diagnostic: seeds >= 0.9 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (size, algo, settings), runs in sorted(groups.items()):
        runs = sorted(runs, key=lambda r: r["seed"])  # the per-seed columns in seed order
        final = np.array([r["final_return"] for r in runs])
        lines.append(
            f"| {size} | {algo} | {settings} | {runs[0]['episodes']:,} | {len(runs)} "
            f"| {final.mean():.2f} ± {final.std():.2f} | {int((final >= 0.9).sum())}/{len(runs)} "
            f"| {', '.join(str(r['first_treasure_episode'] or 'never') for r in runs)} "
            f"| {', '.join(str(r['target_episode'] or 'never') for r in runs)} "
            f"| {np.mean([r['env_steps_per_s'] for r in runs]):.0f} "
            f"| {np.mean([r['wall_s'] for r in runs]):.0f} s | {_diagnostic(runs)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("algos", nargs="*", help="any of: " + " ".join(ALGOS))
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=5_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=8)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--set", action="append", default=[], help="key=value (ngu/agent57)")
    parser.add_argument("--threads", type=int, default=1, help="TF threads per run")
    parser.add_argument("--out", type=Path, default=HERE / "deepsea_exploration_results.jsonl")
    parser.add_argument("--table", action="store_true", help="print --out as a table, run none")
    args = parser.parse_args()
    if args.table:
        print(table(args.out))
        return
    if not args.algos or set(args.algos) - set(ALGOS):
        parser.error(f"name one or more of {', '.join(ALGOS)} (or --table)")
    limit_tf_threads(args.threads)
    steps = args.episodes * args.size  # every DeepSea episode lasts exactly N steps
    for algo in args.algos:
        for seed in args.seeds:
            print(f"{algo} DeepSea {args.size} seed {seed}: {steps} steps")
            start = time.perf_counter()
            if algo == "dqn":
                row = run_dqn(args.size, steps, seed, args)
            else:
                row = run_recurrent(algo, args.size, steps, seed, args)
            row = {
                "algo": algo,
                "size": args.size,
                "episodes": args.episodes,
                "seed": seed,
                **row,
                "wall_s": time.perf_counter() - start,
                "date": dt.date.today().isoformat(),
                "code": AGENT57_CODE if algo == "agent57" else CODE,
                "machine": f"{platform.processor() or platform.machine()}, TF threads "
                f"{args.threads}",
            }
            print(
                f"{algo} seed {seed}: final {row['final_return']:.2f}, first treasure at "
                f"episode {row['first_treasure_episode']}, >= target at episode "
                f"{row['target_episode']}, {row['env_steps_per_s']:.0f} steps/s"
            )
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
