"""Every installed algorithm honours the contract: config, smoke train, save/load/predict.

Parametrized over whatever the entry points register, so a new package is
covered as soon as it is installed.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from rl_cli.configs import preset_settings
from rl_core.config import apply_overrides, config_from_dict, config_to_toml
from rl_core.plugins import load_algorithms
from rl_core.run import RunDirectory

_, REGISTRY = load_algorithms()
SPECS = REGISTRY.specs()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_default_config_round_trips_through_toml(spec):
    config = spec.config_cls()
    assert config_from_dict(spec.config_cls, tomllib.loads(config_to_toml(config))) == config


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_presets_are_valid_settings(spec):
    for name, path in spec.presets.items():
        # As `rl train --preset` composes them, [only.<algo>] tables included.
        assert apply_overrides(spec.config_cls(), preset_settings(spec, name)), name
        # An [only.<algo>] table must name an algorithm that ships this very file.
        sharing = {s.name for s in SPECS if path in s.presets.values()}
        assert set(tomllib.loads(path.read_text()).get("only", {})) <= sharing, name


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_smoke_train_save_load_predict(spec, tmp_path):
    config = apply_overrides(
        spec.config_cls(), {"total_steps": 256, "checkpoint_every": 128, "device": "cpu"}
    )
    run = RunDirectory.create(spec.name, config.env, path=tmp_path / "run")
    run.write_config(spec.name, config, device="cpu")
    spec.train(config, run)
    assert run.read_metrics(), "a smoke run should log at least once"
    assert run.checkpoints(), "a smoke run should checkpoint"
    policy = spec.load_policy(run.policy_source())
    again = spec.load_policy(run.policy_source())
    from rl_core.envs import make_vector_env

    envs = make_vector_env(config.env, 3, seed=0, env_kwargs=config.env_kwargs)
    obs, _ = envs.reset(seed=0)
    actions = policy.predict(obs, deterministic=True)
    assert len(actions) == 3
    assert all(
        envs.single_action_space.contains(np.asarray(a, dtype=envs.single_action_space.dtype))
        for a in actions
    )
    np.testing.assert_array_equal(actions, again.predict(obs, deterministic=True))
    envs.close()


def test_rl_list_shows_installed_plugins_without_importing_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from rl_cli.app import main\n"
        "try:\n"
        "    main(['list'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TF-IMPORTED' if 'tensorflow' in sys.modules else 'NO-TF')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    ).stdout
    assert "NO-TF" in out
    for spec in SPECS:
        assert spec.name in out


# Per algorithm: envs besides the default one, covering the action spaces it takes
# (discrete and continuous where it takes both). Each is trained from the CLI, so the
# settings composed for it (the env's preset, the defaults' env_kwargs left behind)
# are the ones a user gets.
OTHER_ENVS = {
    "ppo": ["Pendulum-v1"],
    "gail": ["Pendulum-v1"],
    "her": ["rl/PointMassGoal-v0"],
    "mpo": ["CartPole-v1"],
    "ngu": ["CartPole-v1", "Pendulum-v1"],
    "agent57": ["CartPole-v1", "Pendulum-v1"],
}
CLI_CASES = [(spec.name, env) for spec in SPECS for env in [None, *OTHER_ENVS.get(spec.name, [])]]


@pytest.mark.parametrize(
    ("algo", "env"), CLI_CASES, ids=[f"{a}-{e or 'default'}" for a, e in CLI_CASES]
)
def test_cli_trains_on_the_default_env_and_another(algo, env, tmp_path, monkeypatch, capsys):
    from rl_cli.app import main

    monkeypatch.chdir(tmp_path)
    args = ["train", algo, "--steps", "300", "--device", "cpu", "--run-dir", "run"]
    args += ["--set", "eval_episodes=2", "--set", "checkpoint_every=200"]
    if env is not None:
        args += ["--env", env]
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, None), err
    run = RunDirectory(tmp_path / "run")
    meta, config = run.read_config()
    assert config["env"] == (env or REGISTRY.get(algo).default_env)
    assert (tmp_path / "run" / "evaluation.json").is_file(), err
    assert run.checkpoints() and run.policy_dir.is_dir()
