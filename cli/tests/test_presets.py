"""Preset files: flat keys for every algorithm, ``[only.<algo>]`` for one of them."""

from __future__ import annotations

import dataclasses

import pytest
from toy_plugin import ToyConfig

from rl_cli.configs import build_config
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
