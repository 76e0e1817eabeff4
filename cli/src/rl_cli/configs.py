"""How the CLI composes a config: defaults < preset < --config file < flags < --set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def _settings_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """A settings file is either flat keys or a run's config.toml ([config] table)."""
    return dict(data["config"]) if isinstance(data.get("config"), Mapping) else dict(data)


def preset_settings(spec: AlgorithmSpec, name: str) -> dict[str, Any]:
    """A preset's settings for ``spec``. A package that registers several algorithms can
    share one preset file and give one of them its own values in an ``[only.<algo>]``
    table, which overrides the flat keys for that algorithm and is ignored by the others.
    """
    if name not in spec.presets:
        shipped = ", ".join(sorted(spec.presets)) or "none"
        raise ConfigError(f"{spec.name} has no preset {name!r}; presets: {shipped}")
    settings = _settings_of(load_toml(spec.presets[name]))
    only = settings.pop("only", {})
    if not isinstance(only, Mapping) or not all(isinstance(v, Mapping) for v in only.values()):
        raise ConfigError(f"preset {name!r}: `only` must hold one table per algorithm")
    settings.update(only.get(spec.name, {}))
    return settings


def build_config(
    spec: AlgorithmSpec,
    *,
    preset: str | None = None,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
) -> BaseConfig:
    config = spec.config_cls()
    if preset is not None:
        config = apply_overrides(config, preset_settings(spec, preset))
    if config_file is not None:
        config = apply_overrides(config, _settings_of(load_toml(config_file)))
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if given:
        config = apply_overrides(config, given)
    return apply_overrides(config, list(overrides))


def config_of_run(spec: AlgorithmSpec, run: RunDirectory) -> BaseConfig:
    return config_from_dict(spec.config_cls, run.read_config()[1])


def check_env(config: BaseConfig) -> None:
    """Fail early, before a run directory exists, on a bad env id or env kwargs."""
    from rl_core.envs import make_env

    try:
        env = make_env(config.env, **config.env_kwargs)
    except TypeError as exc:
        raise ConfigError(f"env_kwargs do not fit {config.env}: {exc}") from None
    env.close()


def describe(spec: AlgorithmSpec, config: BaseConfig) -> str:
    """``rl config`` output: a header, the presets, then the TOML with help comments."""
    lines = [f"# {spec.name}: {spec.summary}", f"# default env: {spec.default_env}"]
    if spec.presets:
        lines.append(f"# presets (--preset NAME): {', '.join(sorted(spec.presets))}")
    lines.append("# Use as --config FILE.toml, or override single keys with --set key=value.")
    return "\n".join(lines) + "\n\n" + config_to_toml(config)
