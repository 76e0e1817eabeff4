"""Registers ``random-search`` with the ``rl`` command (the only module `rl --help` imports)."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_random_search.config import RandomSearchConfig


def train(config: RandomSearchConfig, run):
    from rl_core.training import train_agent
    from rl_random_search.agent import RandomSearch

    return train_agent(RandomSearch, config, run)


def load_policy(path: Path):
    from rl_random_search.agent import RandomSearch

    return RandomSearch.load(path, device="cpu")


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec(
            name="random-search",
            summary="Basic random search over linear policies (example plugin).",
            config_cls=RandomSearchConfig,
            train=train,
            load_policy=load_policy,
        )
    )
