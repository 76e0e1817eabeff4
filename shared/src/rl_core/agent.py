"""The lifecycle every algorithm follows: construct, learn, predict, save, load.

Subclasses implement :meth:`Agent._learn`, :meth:`Agent.predict`,
:meth:`Agent._save_state` and :meth:`Agent._load_state`; this class handles the
callbacks, the counters and the on-disk format (``agent.json`` + the subclass's
own files), which is the same for a CLI run's checkpoints and for
``agent.save(path)``.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np

from rl_core.callbacks import Callback, CallbackList
from rl_core.config import BaseConfig, apply_overrides, config_from_dict, config_to_dict
from rl_core.device import configure_device, seed_everything
from rl_core.errors import RunDirectoryError
from rl_core.run import AGENT_FILE, locate_saved

FORMAT_VERSION = 1
ConfigT = TypeVar("ConfigT", bound=BaseConfig)


class Agent(ABC, Generic[ConfigT]):
    """Base class of every algorithm's agent.

    Attributes:
        algorithm: the registered algorithm name (``"ppo"``).
        distribution: the package that ships it (``"rl-ppo"``), for version records.
        config_class: the Config dataclass.
        config: the validated config.
        device: the device in use (``"cpu"``, ``"gpu:0"``).
        num_timesteps: environment steps taken so far (summed over parallel envs).
        num_episodes: episodes finished so far.
    """

    algorithm: ClassVar[str]
    distribution: ClassVar[str]
    config_class: ClassVar[type[BaseConfig]]

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self.device = configure_device(config.device)
        # Deterministic kernels make a CPU run repeat exactly at no visible cost; on a GPU
        # some ops have no deterministic kernel and would fail, so there it stays off.
        seed_everything(config.seed, deterministic_ops=self.device == "cpu")
        self.num_timesteps = 0
        self.num_episodes = 0
        self._sps_start: tuple[float, int] = (time.perf_counter(), 0)

    # ---------------------------------------------------------------- learning

    def learn(self, steps: int, callbacks: Callback | Iterable[Callback] = ()) -> Self:
        """Train for ``steps`` more environment steps; a callback returning False stops early."""
        callback = CallbackList([callbacks] if isinstance(callbacks, Callback) else callbacks)
        target = self.num_timesteps + int(steps)
        self._sps_start = (time.perf_counter(), self.num_timesteps)
        callback.on_training_start(self, target)
        try:
            if steps > 0:
                self._learn(target, callback)
        finally:
            callback.on_training_end(self)
        return self

    @abstractmethod
    def _learn(self, target_steps: int, callback: Callback) -> None:
        """Step and update until ``num_timesteps >= target_steps`` or ``_emit`` says stop."""

    def _emit(self, callback: Callback, metrics: Mapping[str, Any]) -> bool:
        """Send one log record (counters, steps/s and ``metrics``); False means stop."""
        start_time, start_step = self._sps_start
        elapsed = max(time.perf_counter() - start_time, 1e-9)
        record = {
            "global_step": self.num_timesteps,
            "episodes": self.num_episodes,
            "charts/SPS": (self.num_timesteps - start_step) / elapsed,
            **metrics,
        }
        return callback.on_log(self, record) is not False

    # ---------------------------------------------------------------- acting

    @abstractmethod
    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations."""

    # ----------------------------------------------------------------- saving

    @abstractmethod
    def _save_state(self, path: Path) -> None:
        """Write weights and whatever training state a resume needs into ``path``."""

    @abstractmethod
    def _load_state(self, path: Path) -> None:
        """Read back what :meth:`_save_state` wrote."""

    def save(self, path: str | Path) -> Path:
        """Save to the directory ``path`` (created if needed); loadable with :meth:`load`."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._save_state(path)
        try:
            package_version = version(self.distribution)
        except (PackageNotFoundError, AttributeError):
            package_version = "unknown"
        meta = {
            "format": FORMAT_VERSION,
            "algorithm": self.algorithm,
            "distribution": getattr(self, "distribution", None),
            "version": package_version,
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes,
            "config": config_to_dict(self.config),
        }
        # Written last: a directory with agent.json is complete.
        (path / AGENT_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read_metadata(cls, path: str | Path) -> dict[str, Any]:
        meta_path = Path(path) / AGENT_FILE
        if not meta_path.is_file():
            raise RunDirectoryError(f"{path} is not a saved rl agent (no {AGENT_FILE})")
        return json.loads(meta_path.read_text(encoding="utf-8"))

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> Self:
        """An agent from :meth:`save`'s directory or from a run directory (its final
        policy, or its newest checkpoint); ``overrides`` change settings (e.g. device)."""
        path = locate_saved(path)[2]
        meta = cls.read_metadata(path)
        if meta.get("algorithm") != cls.algorithm:
            raise RunDirectoryError(
                f"{path} holds a {meta.get('algorithm')!r} agent, not {cls.algorithm!r}"
            )
        config = config_from_dict(cls.config_class, meta["config"])
        if overrides:
            config = apply_overrides(config, overrides)
        agent = cls(config)
        agent._load_state(Path(path))
        agent.num_timesteps = int(meta.get("num_timesteps", 0))
        agent.num_episodes = int(meta.get("num_episodes", 0))
        return agent
