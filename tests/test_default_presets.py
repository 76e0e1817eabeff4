"""Defaults are general; each env-specific tuning is a preset picked only for its own env."""

from __future__ import annotations

import fnmatch

import pytest

from rl_cli.configs import preset_envs, preset_for_env, preset_settings
from rl_core.plugins import load_algorithms

_, REGISTRY = load_algorithms()
SPECS = REGISTRY.specs()
CLASSIC = ["CartPole-v1", "Acrobot-v1", "MountainCarContinuous-v0", "Pendulum-v1", "LunarLander-v3"]

# What `rl train ALGO` trains with on its default env: the tuning its defaults held until
# 2026-12-02, now a preset, so the figures measured with it still hold.
DEFAULT_ENV_PRESET = {
    "ppo": "cartpole",
    "gail": "cartpole",
    "her": "bitflip",
    "mpo": "pendulum",
    "ngu": "deepsea",
    "agent57": "deepsea",
}


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_a_preset_is_picked_only_for_the_env_it_was_made_for(spec):
    for name in spec.presets:
        own = preset_settings(spec, name).get("env")
        for pattern in preset_envs(spec, name):
            assert own is not None and fnmatch.fnmatchcase(own, pattern), (name, pattern)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_default_env_gets_its_former_tuning_and_other_envs_the_defaults(spec):
    if spec.name in DEFAULT_ENV_PRESET:
        assert preset_for_env(spec, spec.default_env) == DEFAULT_ENV_PRESET[spec.name]
    for env in CLASSIC:
        picked = preset_for_env(spec, env)
        assert picked is None or preset_settings(spec, picked)["env"] == env, (env, picked)
    assert preset_for_env(spec, "Acrobot-v1") is None
