"""The plugin contract: the hooks an algorithm package implements.

A package declares an entry point in the ``rl`` group whose module implements
these hooks with :data:`hookimpl`::

    [project.entry-points.rl]
    ppo = "rl_ppo.plugin"

The plugin module is imported by ``rl --help`` and ``rl list``, so it must stay
light: no TensorFlow at import time (import it inside ``train``/``load_policy``).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("rl")
hookimpl = pluggy.HookimplMarker("rl")


@hookspec
def register_algorithms(register):
    """Call ``register(spec)`` once for each :class:`~rl_core.algorithm.AlgorithmSpec`."""


@hookspec
def register_commands(app):
    """Add algorithm-specific commands (Typer apps) to the ``rl`` Typer ``app``."""
