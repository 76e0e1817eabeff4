"""How the CLI composes a config: defaults < preset < --config file < flags < --set.

The preset is the one named by ``--preset``, or else the one the package ships for the
env being trained on (rl-zoo3 style): a preset file says which env ids it is for in a
``[preset]`` table at its end (``envs = ["CartPole-v1", "ALE/*"]``, fnmatch patterns;
``help`` = one line), or, without one, by its own ``env`` setting. ``--preset none`` trains on the plain defaults.
Settings that belong to the default env (its ``env_kwargs``) do not follow a user to
another env.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rl_core.algorithm import AlgorithmSpec
from rl_core.config import (
    BaseConfig,
    apply_overrides,
    config_from_dict,
    config_to_toml,
    load_toml,
)
from rl_core.errors import ConfigError
from rl_core.run import RunDirectory

NO_PRESET = "none"
"""``--preset none``: no preset, not even the one picked for the env."""


def _settings_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """A settings file is either flat keys or a run's config.toml ([config] table)."""
    return dict(data["config"]) if isinstance(data.get("config"), Mapping) else dict(data)


def _read_preset(spec: AlgorithmSpec, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(settings with the [only.*] tables still in, [preset] metadata)``."""
    if name not in spec.presets:
        shipped = ", ".join(sorted(spec.presets)) or "none"
        raise ConfigError(f"{spec.name} has no preset {name!r}; presets: {shipped}")
    settings = _settings_of(load_toml(spec.presets[name]))
    meta = settings.pop("preset", {})
    if not isinstance(meta, Mapping):
        raise ConfigError(f"preset {name!r}: `preset` must be a table (envs, help)")
    strays = sorted(set(meta) - {"envs", "help"})
    if strays:
        raise ConfigError(
            f"preset {name!r}: [preset] holds {', '.join(strays)}; put settings above it "
            "(in TOML every key below a table header belongs to that table)"
        )
    return settings, dict(meta)


def preset_settings(spec: AlgorithmSpec, name: str) -> dict[str, Any]:
    """A preset's settings for ``spec``. A package that registers several algorithms can
    share one preset file and give one of them its own values in an ``[only.<algo>]``
    table, which overrides the flat keys for that algorithm and is ignored by the others.
    """
    settings, _ = _read_preset(spec, name)
    only = settings.pop("only", {})
    if not isinstance(only, Mapping) or not all(isinstance(v, Mapping) for v in only.values()):
        raise ConfigError(f"preset {name!r}: `only` must hold one table per algorithm")
    settings.update(only.get(spec.name, {}))
    return settings


def preset_envs(spec: AlgorithmSpec, name: str) -> list[str]:
    """The env ids (fnmatch patterns) preset ``name`` is picked for; may be empty."""
    settings, meta = _read_preset(spec, name)
    envs = meta.get("envs", [settings["env"]] if isinstance(settings.get("env"), str) else [])
    if isinstance(envs, str):
        envs = [envs]
    if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs):
        raise ConfigError(f"preset {name!r}: [preset] envs must be a list of env ids")
    return envs


def preset_help(spec: AlgorithmSpec, name: str) -> str:
    """The one line a preset's ``[preset] help`` gives, or ``""``."""
    return str(_read_preset(spec, name)[1].get("help", ""))


def _bare_id(env_id: str) -> str:
    # "module:Env-v0" (Gymnasium's import-then-make form) is matched by its id.
    return env_id.rpartition(":")[2] if "/" not in env_id.partition(":")[0] else env_id


def preset_for_env(spec: AlgorithmSpec, env_id: str) -> str | None:
    """The preset the package ships for ``env_id``: one naming the id exactly wins over
    one matching it by a pattern; among equals the first by name."""
    bare = _bare_id(env_id)
    envs = {name: preset_envs(spec, name) for name in sorted(spec.presets)}
    for name, patterns in envs.items():
        if env_id in patterns or bare in patterns:
            return name
    for name, patterns in envs.items():
        if any(fnmatch.fnmatchcase(bare, p) for p in patterns):
            return name
    return None


@dataclass(frozen=True)
class ComposedConfig:
    """A config as ``rl train`` composes it, and the preset that went into it."""

    config: BaseConfig
    preset: str | None
    """The preset applied (None: the plain defaults)."""
    picked: bool
    """True when the preset was picked by env id rather than named with --preset."""


def _parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    parsed = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if sep:
            parsed[key.strip()] = raw
    return parsed


def compose_config(
    spec: AlgorithmSpec,
    *,
    preset: str | None = None,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
) -> ComposedConfig:
    """defaults < preset (named, or picked for the env) < ``config_file`` < ``flags`` <
    ``overrides`` (``key=value`` strings)."""
    overrides = list(overrides)
    file_settings = _settings_of(load_toml(config_file)) if config_file is not None else {}
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    user_sets_env = "env" in file_settings or "env" in given or "env" in _parse_overrides(overrides)
    defaults = spec.config_cls()
    user_env = None
    if user_sets_env:
        # Only to learn the env: the layers above the preset, on the defaults.
        probe = apply_overrides(defaults, file_settings)
        probe = apply_overrides(apply_overrides(probe, given), overrides)
        user_env = probe.env

    picked = False
    if preset is not None and preset.lower() == NO_PRESET:
        preset = None
    elif preset is None:
        preset = preset_for_env(spec, user_env or defaults.env)
        picked = preset is not None
    settings = preset_settings(spec, preset) if preset is not None else {}

    env = user_env or settings.get("env") or defaults.env
    if env != defaults.env and defaults.env_kwargs:
        # The defaults' env_kwargs are for the default env: they do not follow --env.
        defaults = dataclasses.replace(defaults, env_kwargs={})
    config = apply_overrides(defaults, settings) if settings else defaults
    if file_settings:
        config = apply_overrides(config, file_settings)
    if given:
        config = apply_overrides(config, given)
    return ComposedConfig(apply_overrides(config, overrides), preset, picked)


def build_config(
    spec: AlgorithmSpec,
    *,
    preset: str | None = None,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
) -> BaseConfig:
    """:func:`compose_config`'s config."""
    return compose_config(
        spec, preset=preset, config_file=config_file, flags=flags, overrides=overrides
    ).config


def config_of_run(spec: AlgorithmSpec, run: RunDirectory) -> BaseConfig:
    return config_from_dict(spec.config_cls, run.read_config()[1])


def check_env(config: BaseConfig) -> None:
    """Fail early, before a run directory exists, on a bad env id or env kwargs."""
    from rl_core.envs import make_env

    make_env(config.env, **config.env_kwargs).close()


def describe(spec: AlgorithmSpec, composed: ComposedConfig) -> str:
    """``rl config`` output: a header, the presets, then the TOML with help comments."""
    config = composed.config
    lines = [f"# {spec.name}: {spec.summary}", f"# default env: {spec.default_env}"]
    for name in sorted(spec.presets):
        envs = ", ".join(preset_envs(spec, name)) or "named only"
        about = preset_help(spec, name)
        lines.append(f"# preset {name} (for {envs})" + (f": {about}" if about else ""))
    if composed.preset is None:
        lines.append("# settings: the defaults (no preset)")
    else:
        how = f"picked for {config.env}" if composed.picked else "named"
        lines.append(f"# settings: preset {composed.preset} ({how}; --preset none for defaults)")
    lines.append("# Use as --config FILE.toml, or override single keys with --set key=value.")
    return "\n".join(lines) + "\n\n" + config_to_toml(config)
