"""Registers ``ppo`` with the ``rl`` command. Import-light: TensorFlow loads on first use."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_ppo.config import PPOConfig

SEARCH_SPACE = Path(__file__).parent / "search_space.toml"
PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_ppo.agent:PPO",
            name="ppo",
            summary="Proximal Policy Optimization: clipped surrogate, GAE; MLP or CNN torsos "
            "from the observation space, Discrete or Box actions.",
            observations=("flat", "image", "discrete", "dict"),
            config_cls=PPOConfig,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            export="rl_ppo.export:serving_function",
            distributed={"ray": "rl_ppo.distributed:train_on_ray"},
        )
    )
