"""Config dataclasses <-> TOML, ``key=value`` overrides, and validation errors.

Every algorithm's Config is a dataclass subclassing :class:`BaseConfig`; each
field has a type, a general-purpose default (env-specific values live in presets), and
a docstring (a string literal right under the field) that becomes its help text.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import inspect
import itertools
import math
import textwrap
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from rl_core.errors import ConfigError

C = TypeVar("C", bound="BaseConfig")


@dataclass
class BaseConfig:
    """Settings every algorithm shares; algorithm configs subclass this."""

    env: str = "CartPole-v1"
    """Gymnasium environment id."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the environment constructor, e.g. ``env_kwargs.n_bits=15``."""
    total_steps: int = 100_000
    """Environment steps to train for (summed over parallel envs)."""
    seed: int = 0
    """Seed for Python, NumPy, TensorFlow and the environments."""
    device: str = "auto"
    """auto, cpu, gpu or gpu:N."""
    checkpoint_every: int = 10_000
    """Environment steps between checkpoints (a killed run loses at most this many)."""
    keep_checkpoints: int = 3
    """How many of the newest checkpoints to keep."""
    eval_episodes: int = 10
    """Episodes of the final evaluation."""
    eval_deterministic: bool = True
    """Evaluate the greedy policy (false: sample actions as in training). Applies to the
    final evaluation, evaluations during training, tuning trials and `rl evaluate`
    (which --stochastic/--greedy override)."""
    eval_every: int = 0
    """Environment steps between evaluations during training (0: none). Each logs
    eval/episodic_return (and eval/success_rate) and keeps the best policy in best/."""
    eval_every_episodes: int = 5
    """Episodes of each evaluation during training (see eval_every)."""

    def __post_init__(self) -> None:
        if self.total_steps < 0:
            raise ValueError("total_steps must be >= 0")
        if self.checkpoint_every <= 0:
            raise ValueError("checkpoint_every must be > 0")
        if self.keep_checkpoints < 1:
            raise ValueError("keep_checkpoints must be >= 1")
        if self.eval_episodes < 0:
            raise ValueError("eval_episodes must be >= 0")
        if self.eval_every < 0:
            raise ValueError("eval_every must be >= 0")
        if self.eval_every_episodes < 1:
            raise ValueError("eval_every_episodes must be >= 1")


# --------------------------------------------------------------------------- help


@cache
def _own_field_docs(cls: type) -> dict[str, str]:
    """Docstrings written under the fields of ``cls`` itself (not its bases)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_help(cls: type) -> dict[str, str]:
    """Help text of every field of the dataclass ``cls``, subclasses overriding bases.

    Taken from the field's docstring, or from ``field(metadata={"help": ...})``.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            docs.update(_own_field_docs(klass))
    for f in dataclasses.fields(cls):
        if "help" in f.metadata:
            docs[f.name] = f.metadata["help"]
    return docs


# --------------------------------------------------------------------- type checks


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` checked against (and gently converted to) the annotation ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    def fail() -> typing.NoReturn:
        raise ConfigError(
            f"{key}: expected {_type_name(tp)}, got {value!r} ({type(value).__name__})"
        )

    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError:
                continue
        fail()
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{key}: expected one of {', '.join(map(repr, args))}, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        fail()
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        fail()
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        fail()
    if tp is str:
        if isinstance(value, str):
            return value
        fail()
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            fail()
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                fail()
            return tuple(
                _coerce(v, a, f"{key}[{i}]")
                for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        item = args[0] if args else Any
        items = [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            fail()
        value_tp = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(v, value_tp, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _from_mapping(tp, value, prefix=f"{key}.")
        fail()
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        fail()
    return value


def _suggest(name: str, valid: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_mapping(cls: type[C], data: Mapping[str, Any], prefix: str = "") -> C:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    hints = _hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(f"unknown setting {prefix}{key!r}{_suggest(key, names)}")
        kwargs[key] = _coerce(value, hints[key], f"{prefix}{key}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from None


def config_from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
    """Build and validate a config from plain data (as read from TOML or JSON).

    Missing keys take their defaults; unknown keys and wrong types raise
    :class:`~rl_core.errors.ConfigError` with a one-line message.
    """
    return _from_mapping(cls, data)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain data (tuples as lists) for TOML or JSON."""

    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}


# ----------------------------------------------------------------------- overrides


def parse_value(raw: str) -> Any:
    """A ``--set`` value: TOML syntax (``3e-4``, ``true``, ``[64, 64]``), else a string."""
    raw = raw.strip()
    if raw.lower() in ("none", "null"):
        return None
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _admits_none(tp: Any) -> bool:
    if tp is Any or tp is type(None):
        return True
    if typing.get_origin(tp) in (Union, types.UnionType):
        return type(None) in typing.get_args(tp)
    return typing.get_origin(tp) is Literal and None in typing.get_args(tp)


def _set_path(
    data: dict[str, Any], cls: type, path: list[str], value: Any, full: str, raw: str | None
) -> None:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    head = path[0]
    if head not in names:
        raise ConfigError(f"unknown setting {full!r}{_suggest(head, names)}")
    if len(path) == 1:
        if value is None and raw is not None and not _admits_none(_hints(cls)[head]):
            # `--set strategy=none` names a choice: "none" means None only where a
            # setting can be unset.
            value = raw.strip()
        data[head] = value
        return
    tp = _hints(cls)[head]
    if dataclasses.is_dataclass(tp):
        sub = data.get(head)
        sub = dict(sub) if isinstance(sub, Mapping) else config_to_dict(sub)
        _set_path(sub, tp, path[1:], value, full, raw)
        data[head] = sub
    elif typing.get_origin(tp) is dict or tp is dict:
        sub = dict(data.get(head) or {})
        node = sub
        for part in path[1:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        data[head] = sub
    else:
        raise ConfigError(f"{full!r}: {head!r} is a {_type_name(tp)}, it has no sub-keys")


def apply_overrides(config: C, overrides: Mapping[str, Any] | Iterable[str]) -> C:
    """A new config with ``key=value`` strings (or a mapping of keys) applied.

    Keys may be nested with dots: ``env_kwargs.n_bits=15`` or ``network.hidden=[64]``.
    """
    if isinstance(overrides, Mapping):
        items = [(key, value, None) for key, value in overrides.items()]
    else:
        items = []
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"--set expects key=value, got {item!r}")
            items.append((key.strip(), parse_value(raw), raw))
    data = config_to_dict(config)
    for key, value, raw in items:
        _set_path(data, type(config), key.split("."), value, key, raw)
    return config_from_dict(type(config), data)


# ---------------------------------------------------------------------------- TOML


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning a syntax error or a missing file into a ConfigError."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def toml_value(value: Any) -> str:
    """One TOML value (no tables): strings, numbers, booleans, arrays, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}" if inner else "{}"
    if dataclasses.is_dataclass(value):
        return toml_value(config_to_dict(value))
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else toml_value(key)


def dumps_table(data: Mapping[str, Any], help_text: Mapping[str, str] | None = None) -> str:
    """The body of one TOML table, ``# help`` comments above each key when given.

    ``None`` has no TOML form; such a key is written commented out and reads back
    as its default.
    """
    lines = []
    for key, value in data.items():
        if help_text and key in help_text:
            lines.extend(f"# {line}".rstrip() for line in help_text[key].splitlines())
        if value is None:
            lines.append(f"# {_toml_key(key)} = (unset)")
        else:
            lines.append(f"{_toml_key(key)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def config_to_toml(config: Any, *, with_help: bool = True, table: str | None = None) -> str:
    """The config as TOML; with ``with_help`` each key carries its docstring as a comment."""
    help_text = field_help(type(config)) if with_help else None
    header = f"[{table}]\n" if table else ""
    return header + dumps_table(config_to_dict(config), help_text)
