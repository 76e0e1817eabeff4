"""Network building blocks shared by the algorithm packages (imports TensorFlow).

``Dense`` and ``MLP`` with orthogonal initialization (Saxe et al., 2014), as the PPO
implementation studies use (Engstrom et al., 2020; Huang et al., 2022).
"""

from rl_core.networks.mlp import MLP, Dense, orthogonal

__all__ = ["MLP", "Dense", "orthogonal"]
