"""Plugin discovery: a fresh plugin manager per use, fed from the ``rl`` entry points."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from importlib.metadata import entry_points

import pluggy

from rl_core import hookspecs
from rl_core.algorithm import AlgorithmSpec
from rl_core.errors import DuplicateAlgorithmError, UnknownAlgorithmError

ENTRY_POINT_GROUP = "rl"
PLUGINS_ENV_VAR = "RL_PLUGINS"


class PluginLoadWarning(UserWarning):
    """An installed plugin could not be imported; the others still load."""


def _selected_names(only: Iterable[str] | None) -> set[str] | None:
    if only is not None:
        return set(only)
    raw = os.environ.get(PLUGINS_ENV_VAR, "").strip()
    if not raw:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def make_plugin_manager(
    *, load_entry_points: bool = True, only: Iterable[str] | None = None
) -> pluggy.PluginManager:
    """A new plugin manager with the ``rl`` hook specs, and the installed plugins loaded.

    ``only`` (or the ``RL_PLUGINS`` environment variable, comma-separated) restricts
    loading to those entry-point names. A plugin that fails to import is reported
    as a :class:`PluginLoadWarning` naming its distribution; the rest still load.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        selected = _selected_names(only)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if selected is not None and ep.name not in selected:
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ep.value
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not take the host down
                warnings.warn(
                    f"plugin {ep.name!r} from {dist} failed to load: {type(exc).__name__}: {exc}",
                    PluginLoadWarning,
                    stacklevel=2,
                )
                continue
            pm.register(plugin, name=ep.name)
    return pm


class AlgorithmRegistry:
    """The algorithms registered through a plugin manager, by name."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._specs: dict[str, AlgorithmSpec] = {}
        pm.hook.register_algorithms(register=self._register)

    def _register(self, spec: AlgorithmSpec) -> None:
        if not isinstance(spec, AlgorithmSpec):
            raise TypeError(f"register() expects an AlgorithmSpec, got {type(spec).__name__}")
        if spec.name in self._specs:
            raise DuplicateAlgorithmError(
                f"two plugins register an algorithm named {spec.name!r}; "
                f"uninstall one or restrict loading with {PLUGINS_ENV_VAR}"
            )
        self._specs[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self):
        return iter(sorted(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def specs(self) -> list[AlgorithmSpec]:
        return [self._specs[name] for name in sorted(self._specs)]

    def get(self, name: str) -> AlgorithmSpec:
        """The spec named ``name``, or an error that lists the installed ones."""
        try:
            return self._specs[name]
        except KeyError:
            installed = ", ".join(sorted(self._specs)) or "none"
            raise UnknownAlgorithmError(
                f"unknown algorithm {name!r}; installed: {installed}"
            ) from None


def load_algorithms(
    *, only: Iterable[str] | None = None
) -> tuple[pluggy.PluginManager, AlgorithmRegistry]:
    """Discover the installed plugins and collect their algorithms."""
    pm = make_plugin_manager(only=only)
    return pm, AlgorithmRegistry(pm)
