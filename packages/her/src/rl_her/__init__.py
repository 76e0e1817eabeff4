"""Hindsight Experience Replay for the ``rl`` library.

``from rl_her import HER, HERConfig, HindsightReplayBuffer``; only ``HER`` imports
TensorFlow (the plugin module, ``rl_her.plugin``, does not).
"""

from rl_her.buffer import HindsightReplayBuffer
from rl_her.config import HERConfig

__all__ = ["HER", "HERConfig", "HindsightReplayBuffer"]


def __getattr__(name: str):
    if name == "HER":
        from rl_her.agent import HER

        return HER
    raise AttributeError(f"module 'rl_her' has no attribute {name!r}")
