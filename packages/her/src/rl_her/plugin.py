"""Registers ``her`` with the ``rl`` command. Import-light: TensorFlow loads on first use."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_her.config import HERConfig

SEARCH_SPACE = Path(__file__).parent / "search_space.toml"
PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_her.agent:HER",
            name="her",
            summary="Hindsight Experience Replay: goal relabeling for DQN (Discrete) or "
            "DDPG/TD3/SAC (Box) on goal envs.",
            # A goal env's Dict of flat Boxes (observation, achieved_goal, desired_goal).
            observations=("dict",),
            config_cls=HERConfig,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            export="rl_her.export:serving_function",
        )
    )
