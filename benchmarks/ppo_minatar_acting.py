"""Time one acting call of PPO on MinAtar Breakout's grids: the TensorFlow head against the
NumPy mirror of the MinAtar CNN, with OpenBLAS at its default threads and at one thread.

Each variant runs in a fresh process (OpenBLAS reads OPENBLAS_NUM_THREADS once, at load),
TensorFlow held to one thread as in benchmarks/ppo_minatar.py. Per variant: ``--repeats``
blocks of ``--calls`` calls of ``act`` on 8 random 10x10x4 grids (the preset's 8 envs),
ms per call of each block. The last two are what rl-ppo does: threadpoolctl limits BLAS
to one thread around a lone call (``predict``, evaluation) and once for a whole rollout
(the block of calls inside ``policy.rollout()``), since a library cannot rely on the env
var being set.

    nice -n 5 uv run python benchmarks/ppo_minatar_acting.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time

# name: (extra environment, NumpyCNNPolicy's blas_threads)
VARIANTS = {
    "tensorflow": ({}, None),
    "numpy, OpenBLAS default threads": ({}, None),
    "numpy, OPENBLAS_NUM_THREADS=1": ({"OPENBLAS_NUM_THREADS": "1"}, None),
    "numpy, threadpoolctl limit per call (rl-ppo, lone calls)": ({}, 1),
    "numpy, threadpoolctl limit per rollout (rl-ppo, rollouts)": ({}, 1),
}


def child(variant: str, calls: int, repeats: int) -> None:
    import numpy as np
    from gymnasium import spaces
    from rl_ppo.networks import ActorCritic, NumpyCNNPolicy, TensorFlowPolicy

    space = spaces.Box(0, 1, (10, 10, 4), np.bool_)
    model = ActorCritic(space, 3, True, (64, 64), "tanh", True, 0.0, seed=0, cnn="minatar")
    if variant == "tensorflow":
        policy = TensorFlowPolicy(model)
    else:
        policy = NumpyCNNPolicy.for_model(model, "tanh", blas_threads=VARIANTS[variant][1])
    policy.load(model.policy_weights())
    rng = np.random.default_rng(0)
    obs = rng.integers(0, 2, (8, 10, 10, 4)).astype(np.uint8)
    act = policy.act
    for _ in range(200):  # warm-up: tracing, first BLAS calls
        act(obs, rng, False)
    scope = policy.rollout if "per rollout" in variant else contextlib.nullcontext
    blocks = []
    for _ in range(repeats):
        start = time.perf_counter()
        with scope():
            for _ in range(calls):
                act(obs, rng, False)
        blocks.append(1000 * (time.perf_counter() - start) / calls)
    print(json.dumps({"variant": variant, "ms_per_call": blocks}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls, args.repeats)
        return
    base = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        base.pop(key, None)
    for variant, (extra, _) in VARIANTS.items():
        load = os.getloadavg()[0]
        command = [sys.executable, __file__, "--child", variant, "--calls", str(args.calls)]
        command += ["--repeats", str(args.repeats)]
        out = subprocess.run(
            command, env={**base, **extra}, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            print(f"{variant}: failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        times = ", ".join(f"{t:.3f}" for t in row["ms_per_call"])
        print(f"{variant}: {times} ms per call (load {load:.1f}-{os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
