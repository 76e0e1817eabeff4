"""Registers ``ngu`` and ``agent57`` with the ``rl`` command. Import-light: TensorFlow
loads on first use."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_ngu_agent57.config import Agent57Config, NGUConfig

RUNNERS = {"ray": "rl_ngu_agent57.distributed:train_on_ray"}
# The kinds rl_ngu_agent57.observations accepts (a literal: the plugin stays import-light).
OBSERVATIONS = ("flat", "image", "discrete", "dict")
SEARCH_SPACE = Path(__file__).parent / "search_space.toml"
PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_ngu_agent57.agent:NGU",
            name="ngu",
            summary="Never Give Up: R2D2 + episodic/RND intrinsic reward over N policies.",
            config_cls=NGUConfig,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            distributed=RUNNERS,
            observations=OBSERVATIONS,
        )
    )
    register(
        AlgorithmSpec.for_agent(
            "rl_ngu_agent57.agent:Agent57",
            name="agent57",
            summary="Agent57: NGU with split Q heads, Retrace and a UCB meta-controller.",
            config_cls=Agent57Config,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            distributed=RUNNERS,
            observations=OBSERVATIONS,
        )
    )
