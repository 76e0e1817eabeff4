"""rl-core: the plugin contract, run directories, envs, RL math and replay buffers.

Importing ``rl_core`` stays light (no TensorFlow, no Gymnasium); the heavy
pieces live in submodules: ``rl_core.envs``, ``rl_core.math``,
``rl_core.replay``, ``rl_core.device``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rl_core.errors import (
    ConfigError,
    DeviceError,
    DuplicateAlgorithmError,
    NonFiniteLossError,
    RLError,
    RunDirectoryError,
    UnknownAlgorithmError,
)
from rl_core.hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from rl_core.agent import Agent
    from rl_core.algorithm import AlgorithmSpec, Policy, RecurrentPolicy, RewardConditionedPolicy
    from rl_core.callbacks import Callback, CallbackList
    from rl_core.config import BaseConfig, apply_overrides, config_from_dict, config_to_toml
    from rl_core.run import RunDirectory
    from rl_core.training import train_agent

# Resolved on first access so that `import rl_core` (done by `rl --help`) stays cheap.
_LAZY = {
    "Agent": "rl_core.agent",
    "AlgorithmSpec": "rl_core.algorithm",
    "Policy": "rl_core.algorithm",
    "RecurrentPolicy": "rl_core.algorithm",
    "RewardConditionedPolicy": "rl_core.algorithm",
    "Callback": "rl_core.callbacks",
    "CallbackList": "rl_core.callbacks",
    "BaseConfig": "rl_core.config",
    "apply_overrides": "rl_core.config",
    "config_from_dict": "rl_core.config",
    "config_to_toml": "rl_core.config",
    "RunDirectory": "rl_core.run",
    "train_agent": "rl_core.training",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl_core' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AlgorithmSpec",
    "BaseConfig",
    "Callback",
    "CallbackList",
    "ConfigError",
    "DeviceError",
    "DuplicateAlgorithmError",
    "NonFiniteLossError",
    "Policy",
    "RLError",
    "RecurrentPolicy",
    "RewardConditionedPolicy",
    "RunDirectory",
    "RunDirectoryError",
    "UnknownAlgorithmError",
    "__version__",
    "apply_overrides",
    "config_from_dict",
    "config_to_toml",
    "hookimpl",
    "hookspec",
    "train_agent",
]
