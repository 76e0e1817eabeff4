"""Atari env throughput: Gymnasium's vector envs over rl_core's preprocessed ALE env
against envpool and ale-py's own C++ vector env, with the same preprocessing.

Each variant runs as a whole process of its own, one after the other: import, make 8
Breakout envs, reset, step them with uniform random actions (seeded) for ``--steps``
env steps in all, close. The process's wall time is the like-for-like figure; the
child also reports its stepping loop alone. Every variant gives channels-last
84x84x4 uint8 frames (channels-first output is transposed, as rl would have to),
Machado et al.'s settings: sticky actions 0.25, no-op starts up to 30, frame skip 4
with max-pool, no life-loss terminals, no FIRE on reset, unclipped rewards.

envpool is not a dependency of rl (its wheels stop at Python 3.11 with 1.2.5); run
this with an interpreter that has it, or its variant is skipped:

    uv venv /tmp/v-bench && uv pip install -p /tmp/v-bench/bin/python envpool==1.2.5 \
        -e './shared[atari]'
    nice -n 5 /tmp/v-bench/bin/python benchmarks/atari_vector_envs.py --steps 10000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np

VARIANTS = ("gym-sync", "gym-async", "ale-vector", "envpool")
NEEDS = {"envpool": "envpool", "ale-vector": "ale_py"}


def make(variant: str, num_envs: int, seed: int):
    """The vector env of ``variant`` and a function turning its observations channels-last."""
    if variant in ("gym-sync", "gym-async"):
        from rl_core.envs import make_vector_env

        mode = variant.removeprefix("gym-")
        envs = make_vector_env("ALE/Breakout-v5", num_envs, seed=seed, vectorization=mode)
        return envs, lambda obs: obs
    if variant == "ale-vector":
        from ale_py.vector_env import AtariVectorEnv

        envs = AtariVectorEnv(
            "breakout",
            num_envs,
            repeat_action_probability=0.25,
            reward_clipping=False,
            use_fire_reset=False,
            episodic_life=False,
            noop_max=30,
        )
    else:
        import envpool

        envs = envpool.make(
            "Breakout-v5",
            env_type="gymnasium",
            num_envs=num_envs,
            seed=seed,
            repeat_action_probability=0.25,
            reward_clip=False,
            use_fire_reset=False,
            episodic_life=False,
            noop_max=30,
        )
    # (N, stack, H, W) -> (N, H, W, stack), as rl_core's env gives them
    return envs, lambda obs: np.ascontiguousarray(obs.transpose(0, 2, 3, 1))


def child(variant: str, steps: int, num_envs: int, seed: int) -> dict:
    start = time.perf_counter()
    envs, channels_last = make(variant, num_envs, seed)
    obs, _ = envs.reset(seed=seed)
    obs = channels_last(obs)
    assert obs.shape == (num_envs, 84, 84, 4) and obs.dtype == np.uint8, obs.shape
    ready = time.perf_counter()
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, envs.single_action_space.n, size=(steps // num_envs, num_envs))
    game_return, episodes = np.zeros(num_envs), []
    for action in actions:
        obs, reward, terminated, truncated, _ = envs.step(action)
        obs = channels_last(obs)
        game_return += reward
        for i in np.flatnonzero(terminated | truncated):
            episodes.append(float(game_return[i]))
            game_return[i] = 0.0
    loop = time.perf_counter() - ready
    envs.close()
    return {
        "setup_s": ready - start,
        "loop_s": loop,
        "env_steps": len(actions) * num_envs,
        "loop_steps_per_s": len(actions) * num_envs / loop,
        "episodes": len(episodes),
        "mean_return": float(np.mean(episodes)) if episodes else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="env steps over all envs")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.num_envs, args.seed)))
        return
    print("| variant | whole process | stepping loop | env steps/s (loop) | load before |")
    print("|---|---|---|---|---|")
    for variant in args.variants:
        module = NEEDS.get(variant)
        if module and importlib.util.find_spec(module) is None:
            print(f"| {variant} | skipped: {module} not installed | | | |")
            continue
        load = os.getloadavg()[0]
        cmd = [sys.executable, __file__, "--child", variant, "--steps", str(args.steps)]
        cmd += ["--num-envs", str(args.num_envs), "--seed", str(args.seed)]
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        whole = time.perf_counter() - start
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {variant} | {whole:.1f} s | {result['loop_s']:.1f} s "
            f"| {result['loop_steps_per_s']:,.0f} | {load:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
