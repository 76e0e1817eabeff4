"""Registers ``random-search`` with the ``rl`` command (the only module `rl --help` imports)."""

from __future__ import annotations

from rl_core import AlgorithmSpec, hookimpl
from rl_random_search.config import RandomSearchConfig


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_random_search.agent:RandomSearch",
            name="random-search",
            summary="Basic random search over linear policies (example plugin).",
            config_cls=RandomSearchConfig,
        )
    )
