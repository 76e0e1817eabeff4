"""Generative Adversarial Imitation Learning for the ``rl`` library.

``from rl_gail import GAIL`` imports TensorFlow; ``GAILConfig`` and the plugin module do not.
"""

from rl_gail.config import GAILConfig

__all__ = ["GAIL", "GAILConfig"]


def __getattr__(name: str):
    if name == "GAIL":
        from rl_gail.agent import GAIL

        return GAIL
    raise AttributeError(f"module 'rl_gail' has no attribute {name!r}")
