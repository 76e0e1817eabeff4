from __future__ import annotations

import types
import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

from rl_core import AlgorithmSpec, hookimpl
from rl_core import plugins as plugins_mod
from rl_core.config import BaseConfig
from rl_core.errors import DuplicateAlgorithmError, UnknownAlgorithmError
from rl_core.plugins import AlgorithmRegistry, PluginLoadWarning, make_plugin_manager


@dataclass
class FakeConfig(BaseConfig):
    env: str = "rl/DeepSea-v0"


def plugin_for(*names: str) -> types.SimpleNamespace:
    @hookimpl
    def register_algorithms(register):
        for name in names:
            register(
                AlgorithmSpec(
                    name=name,
                    summary=f"{name} summary",
                    config_cls=FakeConfig,
                    train=lambda config, run: None,
                    load_policy=lambda path: None,
                )
            )

    return types.SimpleNamespace(register_algorithms=register_algorithms)


def test_in_process_registration_and_lookup():
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(plugin_for("alpha", "beta"), name="fake")
    registry = AlgorithmRegistry(pm)
    assert list(registry) == ["alpha", "beta"]
    assert registry.get("beta").default_env == "rl/DeepSea-v0"
    with pytest.raises(
        UnknownAlgorithmError, match="unknown algorithm 'gamma'; installed: alpha, beta"
    ):
        registry.get("gamma")


def test_duplicate_names_across_plugins_are_an_error():
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(plugin_for("alpha"), name="one")
    pm.register(plugin_for("alpha"), name="two")
    with pytest.raises(DuplicateAlgorithmError, match="'alpha'"):
        AlgorithmRegistry(pm)


def test_spec_validates_its_fields():
    with pytest.raises(ValueError, match="must match"):
        AlgorithmSpec("Bad Name", "", FakeConfig, lambda c, r: None, lambda p: None)
    with pytest.raises(TypeError, match="config_cls must be a dataclass"):
        AlgorithmSpec("ok", "", dict, lambda c, r: None, lambda p: None)  # type: ignore[arg-type]


class FakeDist:
    name = "rl-broken"
    version = "9.9"


def fake_entry_points(monkeypatch, eps):
    monkeypatch.setattr(plugins_mod, "entry_points", lambda group: eps if group == "rl" else [])


def good_module_entry(name, module_name, monkeypatch, *algos):
    module = types.ModuleType(module_name)
    plugin = plugin_for(*algos)
    module.register_algorithms = plugin.register_algorithms
    monkeypatch.setitem(__import__("sys").modules, module_name, module)
    return EntryPoint(name=name, value=module_name, group="rl")


def test_broken_plugin_warns_with_its_distribution_and_others_still_load(monkeypatch):
    good = good_module_entry("good", "fake_good_plugin", monkeypatch, "good")
    broken = EntryPoint(name="broken", value="no_such_module_xyz", group="rl")
    object.__setattr__(broken, "dist", FakeDist())
    fake_entry_points(monkeypatch, [broken, good])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = make_plugin_manager()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]
    assert len(messages) == 1 and "rl-broken 9.9" in messages[0]
    assert list(AlgorithmRegistry(pm)) == ["good"]


def test_rl_plugins_variable_restricts_loading(monkeypatch):
    eps = [
        good_module_entry("ppo", "fake_ppo_plugin", monkeypatch, "ppo"),
        good_module_entry("her", "fake_her_plugin", monkeypatch, "her"),
        good_module_entry("mpo", "fake_mpo_plugin", monkeypatch, "mpo"),
    ]
    fake_entry_points(monkeypatch, eps)
    monkeypatch.setenv("RL_PLUGINS", "ppo, her")
    assert list(AlgorithmRegistry(make_plugin_manager())) == ["her", "ppo"]
    monkeypatch.delenv("RL_PLUGINS")
    assert list(AlgorithmRegistry(make_plugin_manager())) == ["her", "mpo", "ppo"]


def test_every_hook_is_documented():
    from rl_core import hookspecs

    for name in ("register_algorithms", "register_commands"):
        assert getattr(hookspecs, name).__doc__


def test_for_agent_imports_the_agent_only_when_used(monkeypatch):
    import sys

    loaded = []

    class FakeAgent:
        @classmethod
        def load(cls, path, device=None):
            loaded.append((path, device))
            return "policy"

    spec = AlgorithmSpec.for_agent(
        "fake_lazy_agent_module:FakeAgent", name="lazy", summary="s", config_cls=FakeConfig
    )
    assert "fake_lazy_agent_module" not in sys.modules  # registering imported nothing
    module = types.ModuleType("fake_lazy_agent_module")
    module.FakeAgent = FakeAgent
    monkeypatch.setitem(sys.modules, "fake_lazy_agent_module", module)
    assert spec.load_policy("some/path") == "policy"
    assert loaded == [("some/path", "cpu")]
    assert spec.default_env == "rl/DeepSea-v0"
