"""The MinAtar paper's DQN, run from its own repository, then evaluated greedily.

Runs in the peer's virtualenv (torch + minatar), never in the project's: it imports
``examples/dqn.py`` of a MinAtar checkout (github.com/kenjyoung/MinAtar; Young & Tian, 2019)
unchanged except for its frame budget, trains it on one game for ``--frames`` frames with
every other setting of the paper (replay 100k, batch 32, RMSProp 2.5e-4, target every 1,000
updates, epsilon 1 -> 0.1 over 100k frames, sticky actions 0.1), and prints one JSON line:

- ``train_return_last100``: mean return of the last 100 training episodes (epsilon 0.1), the
  quantity the paper's learning curves plot;
- ``eval_mean`` / ``eval_std``: the final network acting greedily for ``--eval-episodes``
  episodes, the same evaluation ``ngu_agent57_minatar.py`` gives NGU and Agent57.

Called by ``ngu_agent57_minatar.py dqn``; see there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _load_dqn_module(path: Path):
    spec = importlib.util.spec_from_file_location("minatar_dqn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dqn-script", type=Path, required=True, help="MinAtar's examples/dqn.py")
    parser.add_argument("--game", default="breakout")
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--eval-episodes", type=int, default=20)
    args = parser.parse_args()

    import numpy as np
    import torch
    from minatar import Environment

    torch.set_num_threads(1)
    random.seed(args.seed)
    np.random.seed(args.seed)  # noqa: NPY002 (dqn.py draws epsilon from the global RNG)
    torch.manual_seed(args.seed)
    dqn = _load_dqn_module(args.dqn_script)
    dqn.NUM_FRAMES = args.frames

    env = Environment(args.game)
    env.seed(args.seed)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        output = str(Path(tmp) / args.game)
        dqn.dqn(env, False, False, output)
        data = torch.load(output + "_data_and_weights", weights_only=False)
    train_s = time.perf_counter() - start

    network = dqn.QNetwork(env.state_shape()[2], env.num_actions())
    network.load_state_dict(data["policy_net_state_dict"])
    eval_env = Environment(args.game)
    eval_env.seed(10_000 + args.seed)
    returns = []
    for _ in range(args.eval_episodes):
        eval_env.reset()
        total, terminated = 0.0, False
        while not terminated:
            with torch.no_grad():
                action = network(dqn.get_state(eval_env.state())).argmax(1).item()
            reward, terminated = eval_env.act(action)
            total += float(reward)
        returns.append(total)
    row = {
        "eval_mean": statistics.fmean(returns),
        "eval_std": statistics.pstdev(returns),
        "eval_episodes": args.eval_episodes,
        "train_return_last100": statistics.fmean(data["returns"][-100:]),
        "train_episodes": len(data["returns"]),
        "train_s": train_s,
    }
    print(json.dumps(row))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
