"""Basic random search over linear policies: an example ``rl`` plugin."""

from rl_random_search.config import RandomSearchConfig

__all__ = ["RandomSearchConfig"]
