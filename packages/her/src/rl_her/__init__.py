"""Hindsight Experience Replay for the ``rl`` library.

``from rl_her import HER, HERConfig, HindsightReplayBuffer``; only ``HER`` imports
TensorFlow, and the buffer (NumPy) loads on first use too, so the plugin module,
``rl_her.plugin``, keeps ``rl list`` light.
"""

from rl_her.config import HERConfig

__all__ = ["HER", "HERConfig", "HindsightReplayBuffer"]


def __getattr__(name: str):
    if name == "HER":
        from rl_her.agent import HER

        return HER
    if name == "HindsightReplayBuffer":
        from rl_her.buffer import HindsightReplayBuffer

        return HindsightReplayBuffer
    raise AttributeError(f"module 'rl_her' has no attribute {name!r}")
