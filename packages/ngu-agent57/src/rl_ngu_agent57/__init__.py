"""Never Give Up and Agent57 for the ``rl`` library.

``from rl_ngu_agent57 import NGU, Agent57`` imports TensorFlow; the plugin module
(``rl_ngu_agent57.plugin``) does not.
"""

from rl_ngu_agent57.config import Agent57Config, NGUConfig

__all__ = ["NGU", "Agent57", "Agent57Config", "NGUConfig"]


def __getattr__(name: str):
    if name in ("NGU", "Agent57"):
        from rl_ngu_agent57 import agent

        return getattr(agent, name)
    raise AttributeError(f"module 'rl_ngu_agent57' has no attribute {name!r}")
