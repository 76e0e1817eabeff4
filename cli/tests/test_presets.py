"""Preset files: flat keys for every algorithm, ``[only.<algo>]`` for one of them, and
the preset picked by env id (``[preset] envs`` or the preset's own ``env``)."""

from __future__ import annotations

import dataclasses

import pytest
from toy_plugin import ToyConfig

from rl_cli.configs import build_config, compose_config, preset_for_env
from rl_core import AlgorithmSpec
from rl_core.errors import ConfigError


def _spec(name: str, presets: dict) -> AlgorithmSpec:
    return AlgorithmSpec(name, "test", ToyConfig, lambda c, r: None, lambda p: None, presets)


def test_an_only_table_overrides_the_shared_keys_for_its_algorithm(tmp_path):
    preset = tmp_path / "small.toml"
    preset.write_text("num_envs = 4\nnoise = 0.1\n\n[only.toy]\nnoise = 0.3\n")
    toy = build_config(_spec("toy", {"small": preset}), preset="small")
    other = build_config(_spec("other", {"small": preset}), preset="small")
    assert (toy.num_envs, toy.noise) == (4, 0.3)
    assert (other.num_envs, other.noise) == (4, 0.1)
    assert "only" not in {f.name for f in dataclasses.fields(toy)}


def test_an_only_table_with_a_bad_key_is_a_config_error(tmp_path):
    preset = tmp_path / "small.toml"
    preset.write_text("[only.toy]\nnoize = 0.3\n")
    with pytest.raises(ConfigError, match="did you mean 'noise'"):
        build_config(_spec("toy", {"small": preset}), preset="small")


def test_only_must_be_tables_per_algorithm(tmp_path):
    preset = tmp_path / "small.toml"
    preset.write_text("only = 3\n")
    with pytest.raises(ConfigError, match="one table per algorithm"):
        build_config(_spec("toy", {"small": preset}), preset="small")


@dataclasses.dataclass
class SeaConfig(ToyConfig):
    env: str = "rl/DeepSea-v0"
    env_kwargs: dict = dataclasses.field(default_factory=lambda: {"size": 6})


def _sea_spec(tmp_path) -> AlgorithmSpec:
    files = {
        "cartpole": 'env = "CartPole-v1"\nnoise = 0.1\n',
        # Settings come before the [preset] table (TOML puts later keys inside it).
        "classic": 'noise = 0.2\n\n[preset]\nenvs = ["Acro*", "MountainCar*"]\nhelp = "c"\n',
        "acrobot": 'noise = 0.3\n\n[preset]\nenvs = ["Acrobot-v1"]\n',
        "deep": 'env = "rl/DeepSea-v0"\nenv_kwargs = { size = 8 }\nnum_envs = 3\n',
    }
    presets = {}
    for name, text in files.items():
        presets[name] = tmp_path / f"{name}.toml"
        presets[name].write_text(text)
    return AlgorithmSpec("sea", "test", SeaConfig, lambda c, r: None, lambda p: None, presets)


def test_the_preset_for_the_env_is_picked_exact_id_before_a_pattern(tmp_path):
    spec = _sea_spec(tmp_path)
    assert preset_for_env(spec, "CartPole-v1") == "cartpole"  # by its own env key
    assert preset_for_env(spec, "Acrobot-v1") == "acrobot"  # exact beats "Acro*"
    assert preset_for_env(spec, "MountainCar-v0") == "classic"
    assert preset_for_env(spec, "Pendulum-v1") is None
    assert preset_for_env(spec, "gymnasium.envs:Acrobot-v1") == "acrobot"

    composed = compose_config(spec, flags={"env": "MountainCar-v0"})
    assert (composed.preset, composed.picked, composed.config.noise) == ("classic", True, 0.2)
    named = compose_config(spec, preset="acrobot", flags={"env": "MountainCar-v0"})
    assert (named.preset, named.picked, named.config.noise) == ("acrobot", False, 0.3)


def test_the_default_env_gets_its_preset_and_none_turns_it_off(tmp_path):
    spec = _sea_spec(tmp_path)
    composed = compose_config(spec)
    assert composed.preset == "deep" and composed.picked
    assert composed.config.env_kwargs == {"size": 8} and composed.config.num_envs == 3
    plain = compose_config(spec, preset="none")
    assert plain.preset is None and plain.config == SeaConfig()


def test_default_env_kwargs_do_not_follow_another_env(tmp_path):
    spec = _sea_spec(tmp_path)
    for layers in (
        {"flags": {"env": "Pendulum-v1"}},
        {"overrides": ["env=Pendulum-v1"]},
        {"flags": {"env": "Pendulum-v1"}, "preset": "none"},
    ):
        config = compose_config(spec, **layers).config
        assert config.env == "Pendulum-v1" and config.env_kwargs == {}, layers
    # ... but a user's own env_kwargs, and the default env's with its own id, stay.
    own = compose_config(spec, flags={"env": "Pendulum-v1"}, overrides=["env_kwargs.g=9.0"])
    assert own.config.env_kwargs == {"g": 9.0}
    same = compose_config(spec, flags={"env": "rl/DeepSea-v0"}, preset="none")
    assert same.config.env_kwargs == {"size": 6}


def test_a_config_file_sets_the_env_the_preset_is_picked_for(tmp_path):
    spec = _sea_spec(tmp_path)
    settings = tmp_path / "mine.toml"
    settings.write_text('env = "CartPole-v1"\nseed = 3\n')
    composed = compose_config(spec, config_file=settings)
    assert composed.preset == "cartpole" and composed.config.noise == 0.1
    assert composed.config.env_kwargs == {} and composed.config.seed == 3


def test_a_bad_preset_table_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[preset]\nenvs = 3\n")
    with pytest.raises(ConfigError, match="envs must be a list"):
        preset_for_env(_spec("toy", {"bad": bad}), "CartPole-v1")
    # A setting written below [preset] lands inside it: say so, don't drop it silently.
    bad.write_text('[preset]\nenvs = ["CartPole-v1"]\nnoise = 0.1\n')
    with pytest.raises(ConfigError, match=r"\[preset\] holds noise; put settings above it"):
        build_config(_spec("toy", {"bad": bad}), preset="bad")
