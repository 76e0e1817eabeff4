from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rl_core.config import (
    BaseConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    config_to_toml,
    field_help,
    parse_value,
)
from rl_core.errors import ConfigError


@dataclass
class Net:
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes."""
    activation: Literal["tanh", "relu"] = "tanh"


@dataclass
class DemoConfig(BaseConfig):
    env: str = "rl/BitFlipping-v0"
    learning_rate: float = 3e-4
    """Adam step size."""
    target_kl: float | None = None
    """Stop the epochs early past this KL; unset means never."""
    normalize: bool = True
    net: Net = field(default_factory=Net)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.learning_rate <= 0:
            raise ValueError("learning_rate must be > 0")


def test_field_help_reads_docstrings_including_base_fields():
    docs = field_help(DemoConfig)
    assert docs["learning_rate"] == "Adam step size."
    assert docs["seed"].startswith("Seed for Python")
    assert "normalize" not in docs  # no docstring, no help


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("3e-4", 3e-4),
        ("true", True),
        ("[64, 32]", [64, 32]),
        ("relu", "relu"),
        ('"42"', "42"),
        ("none", None),
        ("{a = 1}", {"a": 1}),
    ],
)
def test_parse_value_uses_toml_syntax_with_bare_string_fallback(raw, expected):
    assert parse_value(raw) == expected


def test_none_unsets_only_settings_that_can_be_unset():
    # HER's `--set strategy=none` names a strategy; `target_kl=none` unsets a limit.
    cfg = apply_overrides(DemoConfig(target_kl=0.02), ["env=none", "target_kl=None"])
    assert cfg.env == "none"
    assert cfg.target_kl is None
    message = "net.activation: expected one of 'tanh', 'relu', got 'null'"
    with pytest.raises(ConfigError, match=re.escape(message)):
        apply_overrides(DemoConfig(), ["net.activation=null"])
    # A mapping's None is a value, not a word to read.
    with pytest.raises(ConfigError, match="env: expected str, got None"):
        apply_overrides(DemoConfig(), {"env": None})


def test_overrides_are_type_checked_and_converted():
    cfg = apply_overrides(
        DemoConfig(),
        ["learning_rate=1", "net.hidden=[32]", "target_kl=0.02", "env_kwargs.n_bits=15", "seed=7"],
    )
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float)
    assert cfg.net.hidden == (32,)
    assert cfg.target_kl == 0.02
    assert cfg.env_kwargs == {"n_bits": 15}
    assert cfg.seed == 7


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("learning_rat=1", "did you mean 'learning_rate'"),
        ("seed=abc", "seed: expected int"),
        ("normalize=1", "normalize: expected bool"),
        ("net.activation=gelu", "expected one of 'tanh', 'relu'"),
        ("net.hiden=[1]", "did you mean 'hidden'"),
        ("seed.x=1", "has no sub-keys"),
        ("learning_rate=-1", "learning_rate must be > 0"),
        ("novalue", "expects key=value"),
    ],
)
def test_bad_overrides_give_one_clear_line(override, message):
    with pytest.raises(ConfigError, match=message) as info:
        apply_overrides(DemoConfig(), [override])
    assert "\n" not in str(info.value)


def test_toml_round_trip_keeps_every_value_and_documents_fields():
    cfg = apply_overrides(DemoConfig(), {"net.hidden": [8, 8], "env_kwargs": {"n_bits": 5}})
    text = config_to_toml(cfg)
    assert "# Adam step size.\nlearning_rate = 0.0003" in text
    assert "# target_kl = (unset)" in text  # None has no TOML form; reads back as default
    back = config_from_dict(DemoConfig, tomllib.loads(text))
    assert back == cfg
    assert config_to_dict(back)["net"]["hidden"] == [8, 8]


def test_unknown_key_in_file_data_is_an_error_with_suggestion():
    with pytest.raises(
        ConfigError, match="unknown setting 'total_step'; did you mean 'total_steps'"
    ):
        config_from_dict(DemoConfig, {"total_step": 5})
