"""Where rl-ppo's learn() time goes on MinAtar, with the settings of ``ppo_minatar.py``.

One process, one TensorFlow thread, a warm-up ``learn()`` (tracing) and then the timed
one. ``--mode time`` prints learn()'s seconds and the mean PPO update; ``--mode xla``
does the same with the update compiled by XLA (``jit_compile=True``); ``--mode profile``
prints cProfile's top functions by cumulative time. TensorFlow's oneDNN kernels are
switched by its own variable, read at import:

    taskset -c 1 uv run python benchmarks/ppo_minatar_profile.py --mode profile
    taskset -c 1 uv run python benchmarks/ppo_minatar_profile.py --mode time
    TF_ENABLE_ONEDNN_OPTS=0 taskset -c 1 uv run python benchmarks/ppo_minatar_profile.py --mode time
    taskset -c 1 uv run python benchmarks/ppo_minatar_profile.py --mode xla
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="MinAtar/SpaceInvaders-v1")
    parser.add_argument("--steps", type=int, default=60_000, help="timed env steps")
    parser.add_argument("--warmup", type=int, default=20_000, help="untimed env steps first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=("time", "xla", "profile"), default="time")
    args = parser.parse_args()

    import tensorflow as tf
    from ppo_minatar import OURS
    from rl_ppo import PPO, PPOConfig

    from rl_core.config import apply_overrides, parse_value
    from rl_core.distributed import limit_tf_threads

    limit_tf_threads(1)
    settings = {k: parse_value(str(v)) for k, v in OURS.items() if k != "eval_episodes"}
    settings.update(env=args.env, seed=args.seed, device="cpu")
    agent = PPO(apply_overrides(PPOConfig(), settings))
    if args.mode == "xla":
        agent.learner.update = tf.function(
            agent.learner.update.python_function, autograph=False, jit_compile=True
        )
    update_seconds: list[float] = []
    update_policy = agent.update_policy

    def timed_update(buf):
        start = time.perf_counter()
        record = update_policy(buf)
        update_seconds.append(time.perf_counter() - start)
        return record

    agent.update_policy = timed_update  # this instance only
    agent.learn(args.warmup)
    update_seconds.clear()
    profiler = cProfile.Profile() if args.mode == "profile" else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    agent.learn(args.steps)
    if profiler:
        profiler.disable()
    learn = time.perf_counter() - start
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
    print(
        f"{args.env} mode {args.mode} oneDNN {onednn}: learn() {learn:.1f} s for "
        f"{args.steps:,} steps, PPO update {1000 * sum(update_seconds) / len(update_seconds):.1f}"
        f" ms mean over {len(update_seconds)}"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
