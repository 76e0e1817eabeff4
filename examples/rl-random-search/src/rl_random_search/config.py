"""Settings of basic random search. Import-light: no TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass

from rl_core.config import BaseConfig


@dataclass
class RandomSearchConfig(BaseConfig):
    """Basic Random Search V1 (Mania et al., 2018, algorithm 1)."""

    env: str = "CartPole-v1"
    """Gymnasium environment id (Box observations; Discrete or Box actions)."""
    total_steps: int = 50_000
    """Environment steps to train for."""
    directions: int = 8
    """Random directions per update (N in the paper)."""
    step_size: float = 0.02
    """Step size alpha."""
    noise: float = 0.03
    """Exploration noise nu: the scale of each direction."""
    max_episode_steps: int = 500
    """Longest rollout used to score one perturbed policy."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.directions < 1:
            raise ValueError("directions must be >= 1")
        if self.step_size <= 0 or self.noise <= 0:
            raise ValueError("step_size and noise must be > 0")
