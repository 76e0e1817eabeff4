"""Registers ``ppo`` with the ``rl`` command. Import-light: TensorFlow loads on first use."""

from __future__ import annotations

from pathlib import Path

from rl_core import AlgorithmSpec, hookimpl
from rl_ppo.config import PPOConfig

PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


def train(config: PPOConfig, run):
    from rl_core.training import train_agent
    from rl_ppo.agent import PPO

    return train_agent(PPO, config, run)


def load_policy(path: Path):
    from rl_ppo.agent import PPO

    return PPO.load(path, device="cpu")


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec(
            name="ppo",
            summary="Proximal Policy Optimization: clipped surrogate, GAE, any Box/Discrete env.",
            config_cls=PPOConfig,
            train=train,
            load_policy=load_policy,
            presets=PRESETS,
        )
    )
