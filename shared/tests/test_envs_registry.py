"""Registration of the rl/ envs and the env factories (make_env, make_vector_env)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from importlib.metadata import EntryPoint

import gymnasium as gym
import gymnasium.envs.registration as registration
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rl_core.envs as rl_envs
from rl_core.envs import (
    ENV_IDS,
    BitFlippingEnv,
    DeepSeaEnv,
    PointMassGoalEnv,
    UnknownEnvironmentError,
    is_goal_env,
    make_env,
    make_vector_env,
    register_envs,
)
from rl_core.errors import ConfigError, RLError

EXPECTED_IDS = {"rl/BitFlipping-v0", "rl/PointMassGoal-v0", "rl/CartPole-v1", "rl/DeepSea-v0"}


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_with_plain_gymnasium_in_a_fresh_interpreter():
    # Through the `gymnasium.envs` entry point if gymnasium loads it (it stopped loading
    # plugins in 1.0), else through `import rl_core.envs`. Neither may import TensorFlow.
    out = run_python(
        """
        import sys
        import gymnasium
        via = "entry point" if "rl/DeepSea-v0" in gymnasium.registry else "import"
        if via == "import":
            import rl_core.envs  # noqa: F401
        env = gymnasium.make("rl/DeepSea-v0", size=5)
        obs, _ = env.reset(seed=0)
        print(via, obs.shape, "tensorflow" in sys.modules, sep="|")
        """
    )
    via, shape, tensorflow = out.split("|")
    assert via in ("entry point", "import"), out
    assert shape == "(5, 5)" and tensorflow == "False", out


def test_module_prefixed_id_imports_the_package_in_a_fresh_interpreter():
    out = run_python(
        """
        import sys
        import gymnasium
        env = gymnasium.make("rl_core.envs:rl/BitFlipping-v0", n_bits=3)
        print(env.observation_space["desired_goal"].shape, "tensorflow" in sys.modules)
        """
    )
    assert out == "(3,) False"


def test_all_envs_registered_and_pass_the_checker():
    assert set(ENV_IDS) == EXPECTED_IDS
    assert set(gym.registry) >= EXPECTED_IDS
    for env_id in sorted(EXPECTED_IDS):
        env = gym.make(env_id)
        assert env.spec.id == env_id
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*infinity.*")  # CartPole's Box
            check_env(env.unwrapped, skip_render_check=True)
        env.close()


def test_register_envs_is_idempotent():
    specs = {env_id: gym.registry[env_id] for env_id in EXPECTED_IDS}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns "Overriding environment ..."
        register_envs()
        register_envs()
    assert all(gym.registry[env_id] is spec for env_id, spec in specs.items())


def test_register_envs_from_scratch_under_a_plugin_loaders_namespace(monkeypatch):
    for env_id in EXPECTED_IDS:
        monkeypatch.delitem(gym.registry, env_id)
    assert not EXPECTED_IDS & set(gym.registry)
    before = set(gym.registry)
    with registration.namespace("someplugin"):
        EntryPoint(name="rl", value="rl_core.envs:register_envs", group="gymnasium.envs").load()()
    assert set(gym.registry) - before == EXPECTED_IDS
    assert gym.make("rl/DeepSea-v0", size=3).observation_space.shape == (3, 3)


def test_registered_entry_points_build_our_classes():
    assert isinstance(gym.make("rl/BitFlipping-v0").unwrapped, BitFlippingEnv)
    assert isinstance(gym.make("rl/PointMassGoal-v0").unwrapped, PointMassGoalEnv)
    assert isinstance(gym.make("rl/DeepSea-v0").unwrapped, DeepSeaEnv)
    assert gym.make("rl/DeepSea-v0").unwrapped.size == 10


def test_make_env_passes_kwargs():
    env = make_env("rl/DeepSea-v0", size=4, mapping_seed=3)
    assert env.observation_space.shape == (4, 4)
    np.testing.assert_array_equal(
        env.unwrapped.action_mapping, DeepSeaEnv(4, mapping_seed=3).action_mapping
    )
    assert make_env("CartPole-v1").spec.id == "CartPole-v1"  # gymnasium's own ids work too


@pytest.mark.parametrize(
    ("env_id", "suggestion"),
    [
        ("rl/DeepSe-v0", "'rl/DeepSea-v0'"),
        ("rl/deepsea-v0", "'rl/DeepSea-v0'"),
        ("rl/DeepSea-v3", "'rl/DeepSea-v0'"),
        ("rl/BitFliping-v0", "'rl/BitFlipping-v0'"),
        ("DeepSea-v0", "'rl/DeepSea-v0'"),
        ("rl_core.envs:rl/PointMass-v0", "'rl/PointMassGoal-v0'"),
    ],
)
def test_unknown_id_raises_with_the_closest_ids(env_id, suggestion):
    with pytest.raises(UnknownEnvironmentError) as excinfo:
        make_env(env_id)
    message = str(excinfo.value)
    assert "\n" not in message and repr(env_id.split(":")[-1]) in message
    assert f"did you mean {suggestion}" in message
    assert isinstance(excinfo.value, ValueError) and isinstance(excinfo.value, RLError)


def test_unknown_id_without_close_matches_and_unknown_module():
    with pytest.raises(UnknownEnvironmentError, match="rl/DeepSea-v0"):
        make_env("zzzzzzzzzzzzzzzzzzzz")  # lists the rl/ ids instead
    with pytest.raises(UnknownEnvironmentError, match="no module named 'no_such_module_xyz'"):
        make_env("no_such_module_xyz:rl/DeepSea-v0")
    with pytest.raises(UnknownEnvironmentError):
        make_vector_env("rl/Nope-v0", 2, seed=0)


def test_make_vector_env_seeding_is_repeatable():
    def rollout(seed):
        envs = make_vector_env("rl/BitFlipping-v0", 3, seed, env_kwargs={"n_bits": 16})
        assert isinstance(envs, gym.vector.SyncVectorEnv) and envs.num_envs == 3
        obs, _ = envs.reset()  # no seed: continues from the seeded generators
        actions = envs.action_space.sample()
        next_obs, *_ = envs.step(actions)
        envs.close()
        return obs, actions, next_obs

    first, second, other = rollout(7), rollout(7), rollout(8)
    for key in ("observation", "desired_goal"):
        np.testing.assert_array_equal(first[0][key], second[0][key])
        np.testing.assert_array_equal(first[2][key], second[2][key])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[0]["observation"].shape == (3, 16)
    assert not np.array_equal(first[0]["desired_goal"], other[0]["desired_goal"])
    # copies are seeded seed, seed+1, ...: they differ from each other
    assert not np.array_equal(first[0]["desired_goal"][0], first[0]["desired_goal"][1])


def test_make_vector_env_seeds_copies_like_single_envs():
    envs = make_vector_env("rl/PointMassGoal-v0", 2, seed=10)
    obs, _ = envs.reset(seed=10)
    for i in range(2):
        single, _ = PointMassGoalEnv().reset(seed=10 + i)
        np.testing.assert_array_equal(obs["desired_goal"][i], single["desired_goal"])
    envs.close()


def test_make_vector_env_async_and_vector_kwargs():
    envs = make_vector_env(
        "rl/DeepSea-v0",
        2,
        seed=0,
        env_kwargs={"size": 4},
        vectorization="async",
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    try:
        assert isinstance(envs, gym.vector.AsyncVectorEnv)
        assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
        obs, _ = envs.reset(seed=0)
        assert obs.shape == (2, 4, 4)
        for _ in range(4):  # N steps: every copy terminates and is reset in the same step
            obs, _, terminated, truncated, _ = envs.step(np.zeros(2, dtype=np.int64))
        assert terminated.all() and not truncated.any()
        assert np.all(obs[:, 0, 0] == 1.0)  # SAME_STEP: already the next episode's start
    finally:
        envs.close()


def test_make_vector_env_rejects_unknown_vectorization():
    with pytest.raises(ConfigError, match="vectorization"):
        make_vector_env("rl/DeepSea-v0", 2, seed=0, vectorization="threads")


def test_is_goal_env():
    assert is_goal_env(BitFlippingEnv().observation_space)
    assert is_goal_env(PointMassGoalEnv().observation_space)
    assert not is_goal_env(DeepSeaEnv().observation_space)
    box = gym.spaces.Box(0, 1, (2,))
    assert not is_goal_env(gym.spaces.Dict({"observation": box, "achieved_goal": box}))
    assert not is_goal_env(gym.spaces.Tuple((box, box, box)))


def test_importing_the_package_registers_the_envs():
    assert rl_envs.register_envs is register_envs
    assert all(env_id in gym.registry for env_id in rl_envs.ENV_IDS)


# --------------------------------------------------------------- module:factory ids


@pytest.mark.parametrize("target", ["user_envs:Corridor", "user_envs:make_corridor"])
def test_a_module_factory_id_makes_single_and_vector_envs(target, monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))
    env = make_env(target, length=2)
    assert env.unwrapped.length == 2
    env.close()
    envs = make_vector_env(target, 2, seed=0, env_kwargs={"length": 3})
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 1)
    _, rewards, terminated, _, _ = envs.step(np.array([1, 1]))
    assert not terminated.any() and rewards.sum() == 0
    envs.close()


def test_module_factory_errors_are_one_clear_line(monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))
    with pytest.raises(UnknownEnvironmentError, match=r"not a gymnasium\.Env class"):
        make_env("user_envs:not_a_factory")
    with pytest.raises(
        ConfigError,
        match="creating user_envs:broken_factory failed: "
        "RuntimeError: the simulator is not running",
    ):
        make_env("user_envs:broken_factory")
    with pytest.raises(ConfigError, match="env_kwargs do not fit user_envs:Corridor"):
        make_env("user_envs:Corridor", size=3)
    with pytest.raises(UnknownEnvironmentError, match="no module named 'no_such_pkg'"):
        make_env("no_such_pkg.envs:Thing")


# ------------------------------------------------------------ env creation failures


def test_a_missing_optional_dependency_names_the_extra(monkeypatch):
    def needs_box2d(**kwargs):
        raise gym.error.DependencyNotInstalled("Box2D is not installed")

    # Pretend the entry point lives in Gymnasium's box2d package, as LunarLander's does.
    needs_box2d.__module__ = "gymnasium.envs.box2d.lunar_lander"
    registration.register(id="rl-test/NeedsBox2D-v0", entry_point=needs_box2d)
    try:
        with pytest.raises(ConfigError) as info:
            make_env("rl-test/NeedsBox2D-v0")
        message = str(info.value)
        assert "uv sync --extra box2d" in message and "./shared[box2d]" in message
        with pytest.raises(ConfigError, match="uv sync --extra box2d"):
            make_vector_env("rl-test/NeedsBox2D-v0", 2, seed=0)
    finally:
        del registration.registry["rl-test/NeedsBox2D-v0"]


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("Box2D") is not None, reason="Box2D is installed"
)
def test_lunar_lander_without_box2d_is_one_line():
    with pytest.raises(ConfigError, match=r"LunarLander-v3 needs .*uv sync --extra box2d"):
        make_env("LunarLander-v3")


def test_a_module_whose_import_fails_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "half_installed.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="needs 'no_such_dependency_xyz'"):
        make_env("half_installed:Env-v0")


def test_a_module_in_the_working_directory_is_found_without_pythonpath(tmp_path, monkeypatch):
    # `rl` is a console script: its sys.path starts at its own folder, not the cwd.
    (tmp_path / "cwd_envs_xyz.py").write_text(
        "import gymnasium as gym\ndef make():\n    return gym.make('CartPole-v1')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    env = make_env("cwd_envs_xyz:make")
    assert env.spec is not None
    env.close()
    assert sys.path[-1] == str(tmp_path)


# ------------------------------------------------------------ suites registered on demand


def test_a_fetch_id_without_gymnasium_robotics_names_the_robotics_extra(monkeypatch):
    import rl_core.envs as envs

    real_import = envs.importlib.import_module

    def no_robotics(name, *args):
        if name == "gymnasium_robotics":
            raise ModuleNotFoundError("No module named 'gymnasium_robotics'", name=name)
        return real_import(name, *args)

    monkeypatch.setattr(envs.importlib, "import_module", no_robotics)
    if "FetchReach-v4" in gym.registry:  # installed and registered: forget it for this test
        monkeypatch.delitem(gym.registry, "FetchReach-v4")
    with pytest.raises(ConfigError, match=r"^FetchReach-v4 .*uv sync --extra robotics") as info:
        make_env("FetchReach-v4")
    assert "\n" not in str(info.value)
    # Ids of no lazily registered suite stay plain unknown ids.
    with pytest.raises(UnknownEnvironmentError, match="unknown environment 'Fetc-v0'"):
        make_env("Fetc-v0")


def test_a_fetch_id_imports_and_registers_gymnasium_robotics_on_demand():
    pytest.importorskip("gymnasium_robotics")
    env = make_env("FetchReach-v4")
    try:
        obs, _ = env.reset(seed=0)
        assert set(obs) == {"observation", "achieved_goal", "desired_goal"}
        # The goal-env convention HER relies on: a batched, vectorized reward.
        goals = np.zeros((3, 3))
        achieved = np.array([[0.0, 0.0, 0.0], [0.04, 0.0, 0.0], [0.06, 0.0, 0.0]])
        reward = env.unwrapped.compute_reward(achieved, goals, [{}] * 3)
        np.testing.assert_array_equal(reward, [0.0, 0.0, -1.0])  # threshold 0.05
    finally:
        env.close()
