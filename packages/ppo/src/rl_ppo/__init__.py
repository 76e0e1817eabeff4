"""Proximal Policy Optimization for the ``rl`` library.

``from rl_ppo import PPO, PPOConfig`` imports TensorFlow; the plugin module
(``rl_ppo.plugin``) does not.
"""

from rl_ppo.config import PPOConfig

__all__ = ["PPO", "PPOConfig"]


def __getattr__(name: str):
    if name == "PPO":
        from rl_ppo.agent import PPO

        return PPO
    raise AttributeError(f"module 'rl_ppo' has no attribute {name!r}")
