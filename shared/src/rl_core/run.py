"""The run directory: config, metrics, TensorBoard events, checkpoints, final policy.

::

    runs/<algo>-<env>-<timestamp>/
        config.toml        [run] (algorithm, seed, device, versions, ...) + [config]
        metrics.jsonl      one JSON object per log interval
        tb/                TensorBoard event files
        checkpoints/       step_000010000/ ... written atomically, newest few kept
        policy/            the final policy (same format as a checkpoint)
        evaluation.json    the final evaluation

Nothing written is lost if the process is killed: files are replaced atomically
and metrics are appended line by line.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, distributions, version
from pathlib import Path
from typing import Any

from rl_core.config import config_to_toml, dumps_table, load_toml
from rl_core.errors import RunDirectoryError

CONFIG_FILE = "config.toml"
AGENT_FILE = "agent.json"
"""What ``Agent.save`` writes last into a saved agent (a checkpoint, ``policy/``, or any
directory given to ``agent.save``)."""
METRICS_FILE = "metrics.jsonl"
EVALUATION_FILE = "evaluation.json"
CHECKPOINT_DIR = "checkpoints"
POLICY_DIR = "policy"
_STEP_DIR = re.compile(r"^step_(\d+)$")
_TRACKED_PACKAGES = ("tensorflow", "tensorflow-probability", "tf-keras", "gymnasium", "numpy")


def package_versions() -> dict[str, str]:
    """Versions of the rl packages and the libraries results depend on."""
    found = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name and name.lower().startswith("rl-"):
            found[name.lower()] = dist.version
    for name in _TRACKED_PACKAGES:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return dict(sorted(found.items()))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "env"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


class RunDirectory:
    """One training run on disk. Create with :meth:`create`, reopen with :meth:`open`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.show_progress = False
        """Whether training shows a live progress display (the CLI turns it on)."""
        self.interrupted = False
        """Set when training stopped on Ctrl-C (a checkpoint was written)."""
        self._tb_writer: Any = None

    # ------------------------------------------------------------ create / open

    @classmethod
    def create(
        cls,
        algorithm: str,
        env_id: str,
        *,
        path: str | Path | None = None,
        root: str | Path = "runs",
    ) -> RunDirectory:
        """A new, empty run directory (``runs/<algo>-<env>-<timestamp>`` by default)."""
        if path is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(root) / f"{algorithm}-{_slug(env_id)}-{stamp}"
            suffix = 1
            while path.exists():
                suffix += 1
                path = Path(root) / f"{algorithm}-{_slug(env_id)}-{stamp}-{suffix}"
        path = Path(path)
        if (path / CONFIG_FILE).exists():
            raise RunDirectoryError(
                f"{path} already holds a run; continue it with `rl resume {path}` "
                "or choose another --run-dir"
            )
        if path.exists() and not path.is_dir():
            raise RunDirectoryError(f"{path} exists and is not a directory")
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @classmethod
    def open(cls, path: str | Path, algorithm: str | None = None) -> RunDirectory:
        """An existing run directory; checks that it is one (and of ``algorithm``)."""
        path = Path(path)
        if not path.is_dir():
            raise RunDirectoryError(f"run directory not found: {path}")
        if not (path / CONFIG_FILE).is_file():
            raise RunDirectoryError(f"{path} is not an rl run directory (no {CONFIG_FILE})")
        run = cls(path)
        meta = run.read_config()[0]
        if "algorithm" not in meta:
            raise RunDirectoryError(f"{path / CONFIG_FILE} has no [run] algorithm; not an rl run")
        if algorithm is not None and meta["algorithm"] != algorithm:
            raise RunDirectoryError(f"{path} is a {meta['algorithm']!r} run, not {algorithm!r}")
        return run

    # ------------------------------------------------------------------ config

    def write_config(self, algorithm: str, config: Any, **meta: Any) -> None:
        """Write ``config.toml``: a ``[run]`` table (algorithm, versions, ``meta``), the config."""
        run_meta = {
            "algorithm": algorithm,
            "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": socket.gethostname(),
            "python": sys.version.split()[0],
            **meta,
        }
        text = (
            "# Written by rl; `rl resume` reads it back.\n[run]\n"
            + dumps_table(run_meta)
            + "\n[run.versions]\n"
            + dumps_table(package_versions())
            + "\n"
            + config_to_toml(config, table="config")
        )
        atomic_write_text(self.path / CONFIG_FILE, text)

    def read_config(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(run metadata, config data)`` from ``config.toml``."""
        data = load_toml(self.path / CONFIG_FILE)
        return dict(data.get("run", {})), dict(data.get("config", {}))

    @property
    def algorithm(self) -> str:
        return self.read_config()[0]["algorithm"]

    # ----------------------------------------------------------------- metrics

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    def log_metrics(self, record: Mapping[str, Any]) -> None:
        """Append one record to ``metrics.jsonl`` and its numbers to TensorBoard."""
        clean = {k: _jsonable(v) for k, v in record.items()}
        with self.metrics_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(clean) + "\n")
        self._log_tensorboard(clean)

    def _log_tensorboard(self, record: Mapping[str, Any]) -> None:
        # TensorBoard's own event writer: one protobuf per record, no TensorFlow op per
        # scalar (tf.summary costs ~0.5 ms per scalar, a quarter of a fast PPO run).
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        step = record.get("global_step")
        if step is None:
            return
        if self._tb_writer is None:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter

            self._tb_writer = EventFileWriter(str(self.path / "tb"))
        values = [
            Summary.Value(tag=key, simple_value=float(value))
            for key, value in record.items()
            if "/" in key and isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
        event = Event(wall_time=time.time(), step=int(step), summary=Summary(value=values))
        self._tb_writer.add_event(event)

    def read_metrics(self) -> list[dict[str, Any]]:
        """All complete records (a line cut short by a kill is skipped)."""
        if not self.metrics_path.exists():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records past ``step``: after a resume they would be logged again."""
        if not self.metrics_path.exists():
            return
        kept = [r for r in self.read_metrics() if r.get("global_step", 0) <= step]
        atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))

    def flush(self) -> None:
        if self._tb_writer is not None:
            self._tb_writer.flush()

    def close(self) -> None:
        if self._tb_writer is not None:
            self._tb_writer.close()
            self._tb_writer = None

    # ------------------------------------------------------------- checkpoints

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def policy_dir(self) -> Path:
        return self.path / POLICY_DIR

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        if not self.checkpoint_dir.is_dir():
            return []
        found = []
        for child in self.checkpoint_dir.iterdir():
            match = _STEP_DIR.match(child.name)
            if match and child.is_dir():
                found.append((int(match.group(1)), child))
        return [p for _, p in sorted(found)]

    @staticmethod
    def checkpoint_step(checkpoint: Path) -> int:
        """The env step a checkpoint directory was written at."""
        match = _STEP_DIR.match(checkpoint.name)
        if not match:
            raise RunDirectoryError(f"{checkpoint} is not a checkpoint directory")
        return int(match.group(1))

    def latest_checkpoint(self) -> Path | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def save_checkpoint(self, step: int, write: Callable[[Path], None], keep: int = 3) -> Path:
        """Have ``write(dir)`` fill a fresh directory, then publish it as ``step_<step>``.

        The directory is renamed into place only once complete and synced, so a
        kill at any moment leaves the previous checkpoints intact; the oldest
        beyond ``keep`` are then removed.
        """
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.checkpoint_dir.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        final = self.checkpoint_dir / f"step_{step:012d}"
        tmp = self.checkpoint_dir / f".tmp-{final.name}-{os.getpid()}"
        tmp.mkdir()
        try:
            write(tmp)
            _fsync_tree(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old in self.checkpoints()[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        self.flush()
        return final

    def save_policy(self, write: Callable[[Path], None]) -> Path:
        """Write the final policy atomically to ``policy/``."""
        tmp = self.path / f".tmp-{POLICY_DIR}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write(tmp)
        _fsync_tree(tmp)
        if self.policy_dir.exists():
            shutil.rmtree(self.policy_dir)
        os.replace(tmp, self.policy_dir)
        return self.policy_dir

    def policy_source(self) -> Path:
        """The final policy, or the newest checkpoint of an unfinished run."""
        if self.policy_dir.is_dir():
            return self.policy_dir
        latest = self.latest_checkpoint()
        if latest is None:
            raise RunDirectoryError(f"{self.path} holds no policy and no checkpoint yet")
        return latest

    def write_evaluation(self, result: Mapping[str, Any]) -> None:
        atomic_write_text(self.path / EVALUATION_FILE, json.dumps(dict(result), indent=2) + "\n")


def locate_saved(path: str | Path) -> tuple[str, dict[str, Any], Path]:
    """``(algorithm, config data, directory to load the policy from)`` for either form a
    trained policy comes in: a run directory (its final policy, or its newest checkpoint)
    or a directory written by ``agent.save(path)`` (``agent.json``)."""
    path = Path(path)
    if not path.exists():
        raise RunDirectoryError(f"run directory not found: {path}")
    if (path / CONFIG_FILE).is_file():
        run = RunDirectory.open(path)
        meta, config = run.read_config()
        return meta["algorithm"], config, run.policy_source()
    if (path / AGENT_FILE).is_file():
        try:
            meta = json.loads((path / AGENT_FILE).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunDirectoryError(f"{path / AGENT_FILE} is not valid JSON: {exc}") from None
        if not isinstance(meta, dict) or "algorithm" not in meta:
            raise RunDirectoryError(f"{path / AGENT_FILE} names no algorithm; not a saved agent")
        return meta["algorithm"], dict(meta.get("config", {})), path
    raise RunDirectoryError(
        f"{path} is not an rl run directory ({CONFIG_FILE}) nor a saved agent ({AGENT_FILE})"
    )


def _jsonable(value: Any) -> Any:
    """Numbers from NumPy/TensorFlow as plain floats; NaN/Inf as strings JSON can hold."""
    if hasattr(value, "item") and callable(value.item):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
