"""What a plugin registers: one :class:`AlgorithmSpec` per algorithm."""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from rl_core.config import BaseConfig
    from rl_core.run import RunDirectory

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@runtime_checkable
class Policy(Protocol):
    """A trained policy: maps a batch of observations to a batch of actions."""

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for ``obs`` (leading batch dimension; dict observations hold batches)."""
        ...


@runtime_checkable
class RecurrentPolicy(Policy, Protocol):
    """A policy that remembers within an episode (an LSTM state, the previous action).

    Row ``b`` of consecutive :meth:`predict` batches is one environment's episode, so
    a caller keeps the batch size fixed and says when a row's episode starts over.
    """

    def reset_policy_state(self, rows: np.ndarray | None = None) -> None:
        """Forget what rows ``rows`` (every row if None) remember: a new episode starts."""
        ...


@runtime_checkable
class RewardConditionedPolicy(RecurrentPolicy, Protocol):
    """A recurrent policy whose next action also depends on the reward the last one
    earned (R2D2 and NGU feed the previous extrinsic reward to the Q-network).

    After each :meth:`predict`, the caller hands back the rewards of that batch's
    actions, in the same row order, before the next :meth:`predict`.
    """

    def observe_rewards(self, rewards: np.ndarray) -> None:
        """The rewards the rows' last actions earned (0 for rows whose env was idle)."""
        ...


@dataclass(frozen=True)
class AlgorithmSpec:
    """Everything the ``rl`` command needs to know about one algorithm.

    Attributes:
        name: the command-line name (``rl train <name>``), lower case.
        summary: one line for ``rl list``.
        config_cls: the Config dataclass (a :class:`~rl_core.config.BaseConfig`
            subclass); its field defaults are general-purpose values (from the papers
            and reference implementations; what suits one env goes in a preset picked
            for that env) and its field docstrings are the settings' help.
        train: ``train(config, run)``: trains in the given run directory, resuming
            from its newest checkpoint if there is one, and saves the final policy.
        load_policy: ``load_policy(path)``: a :class:`Policy` from a saved policy or
            checkpoint directory.
        presets: named TOML files of settings shipped with the package.
        distributed: runners by backend (``{"ray": train_fn}``), each
            ``train_fn(config, run, options)`` with
            :class:`~rl_core.distributed.DistributedOptions`; what
            ``rl train --distributed`` offers for this algorithm.
        search_space: what ``rl tune`` searches by default: a mapping (or a TOML file) of
            setting name to ``{low, high, log}`` or ``{choices}`` (see ``rl_cli.tuning``).
        export: ``export(policy)``: the loaded policy's greedy
            :class:`~rl_core.export.ServingFunction`, for ``rl export``; None where the
            algorithm cannot be exported yet.
        observations: the observation kinds it trains on (:mod:`rl_core.spaces`:
            ``"flat"``, ``"image"``, ``"discrete"``, ``"dict"``), shown by ``rl list``;
            empty where the plugin does not say.
    """

    name: str
    summary: str
    config_cls: type[BaseConfig]
    train: Callable[[Any, RunDirectory], Any]
    load_policy: Callable[[Path], Policy]
    presets: Mapping[str, Path] = field(default_factory=dict)
    distributed: Mapping[str, Callable[[Any, RunDirectory, Any], Any]] = field(default_factory=dict)
    search_space: Mapping[str, Any] | Path | None = None
    export: Callable[[Policy], Any] | None = None
    observations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"algorithm name {self.name!r} must match {_NAME.pattern}")
        if not dataclasses.is_dataclass(self.config_cls):
            raise TypeError(f"{self.name}: config_cls must be a dataclass")
        from rl_core.config import BaseConfig

        if not issubclass(self.config_cls, BaseConfig):
            raise TypeError(f"{self.name}: config_cls must subclass rl_core.config.BaseConfig")
        from rl_core.observation_kinds import KIND_NAMES

        if unknown := set(self.observations) - set(KIND_NAMES):
            raise ValueError(
                f"{self.name}: observations must be among {', '.join(KIND_NAMES)}, "
                f"not {', '.join(sorted(unknown))}"
            )

    @classmethod
    def for_agent(
        cls,
        agent: str,
        *,
        name: str,
        summary: str,
        config_cls: type[BaseConfig],
        presets: Mapping[str, Path] | None = None,
        distributed: Mapping[str, str] | None = None,
        search_space: Mapping[str, Any] | Path | None = None,
        export: str | None = None,
        observations: tuple[str, ...] = (),
    ) -> AlgorithmSpec:
        """The spec of an :class:`~rl_core.agent.Agent` subclass named ``"module:Class"``.

        ``train`` is :func:`rl_core.training.train_agent` with that class and
        ``load_policy`` its ``load`` on the device this process already uses (the
        training device, for the evaluation after ``rl train``; TensorFlow cannot switch
        devices within a process), else on the CPU; ``distributed`` names runners the same
        way (``{"ray": "rl_ppo.distributed:train_on_ray"}``), and ``export`` the function
        that describes a loaded agent's greedy policy for ``rl export``
        (``"rl_ppo.export:serving_function"``). Modules are imported on first use, so the
        plugin module that registers the spec stays free of TensorFlow.
        """

        def agent_class():
            return _import(agent)

        def runner(target: str):
            def run_distributed(config, run, options):
                return _import(target)(config, run, options)

            return run_distributed

        def train(config, run):
            from rl_core.training import train_agent

            return train_agent(agent_class(), config, run)

        def load_policy(path: Path):
            from rl_core.device import configure_device, configured_device

            # Configured before the agent's module imports TensorFlow: that import then
            # happens with TensorFlow's start-up banners silenced.
            device = configure_device(configured_device() or "cpu")
            return agent_class().load(path, device=device)

        def export_policy(policy):
            return _import(export)(policy)

        runners = {backend: runner(target) for backend, target in (distributed or {}).items()}
        return cls(
            name, summary, config_cls, train, load_policy, dict(presets or {}), runners,
            search_space, export_policy if export else None, tuple(observations),
        )  # fmt: skip

    @property
    def default_env(self) -> str:
        """The environment the default config trains on."""
        return self.config_cls().env


def _import(target: str) -> Any:
    """``"package.module:attribute"`` -> the attribute."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
