"""Maximum a Posteriori Policy Optimisation for the ``rl`` library.

``from rl_mpo import MPO, MPOConfig`` imports TensorFlow; the plugin module
(``rl_mpo.plugin``) does not.
"""

from rl_mpo.config import MPOConfig

__all__ = ["MPO", "MPOConfig"]


def __getattr__(name: str):
    if name == "MPO":
        from rl_mpo.agent import MPO

        return MPO
    raise AttributeError(f"module 'rl_mpo' has no attribute {name!r}")
