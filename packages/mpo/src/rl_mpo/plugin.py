"""Registers ``mpo`` with the ``rl`` command. Import-light: TensorFlow loads on first use."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_mpo.config import MPOConfig

SEARCH_SPACE = Path(__file__).parent / "search_space.toml"
PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_mpo.agent:MPO",
            name="mpo",
            summary="Maximum a Posteriori Policy Optimisation (decoupled KL): MLPs, "
            "Box or Discrete actions.",
            observations=("flat",),
            config_cls=MPOConfig,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            export="rl_mpo.export:serving_function",
        )
    )
