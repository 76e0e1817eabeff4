"""The env suites that are extras of rl-core: found lazily, one line when missing,
MinAtar and MiniGrid observations as the algorithms get them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rl_core.envs import SUITES, make_env, make_vector_env
from rl_core.errors import ConfigError
from rl_core.spaces import image_scale


def test_importing_rl_core_envs_imports_no_suite():
    code = """
        import sys
        import rl_core.envs
        heavy = ("ale_py", "cv2", "minatar", "minigrid", "matplotlib", "pygame")
        print([name for name in heavy if name in sys.modules])
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("env_id", "extra"),
    [
        ("ALE/Breakout-v5", "atari"),
        ("BreakoutNoFrameskip-v4", "atari"),
        ("MinAtar/Breakout-v1", "minatar"),
        ("MiniGrid-DoorKey-8x8-v0", "minigrid"),
    ],
)
def test_a_missing_suite_is_one_line_naming_the_extra(env_id, extra, monkeypatch):
    suite = next(s for s in SUITES if s.extra == extra)
    monkeypatch.setitem(sys.modules, suite.module, None)  # import fails as if not installed
    for make in (lambda: make_env(env_id), lambda: make_vector_env(env_id, 2, seed=0)):
        with pytest.raises(ConfigError) as info:
            make()
        message = str(info.value)
        assert "\n" not in message and message.startswith(f"{env_id} needs the {extra!r} extra")
        assert f"uv sync --extra {extra}" in message and f"./shared[{extra}]" in message


def test_an_unknown_id_of_an_installed_suite_names_close_ids():
    pytest.importorskip("minigrid")
    with pytest.raises(ConfigError, match="did you mean 'MiniGrid-DoorKey-8x8-v0'"):
        make_env("MiniGrid-DoorKey-8x9-v0")


# ---------------------------------------------------------------------------- MinAtar


def test_minatar_breakout_is_a_10x10xC_bool_image():
    pytest.importorskip("minatar")
    env = make_env("MinAtar/Breakout-v1")
    assert env.observation_space == spaces.Box(0, 1, (10, 10, 4), bool)
    assert env.action_space == spaces.Discrete(3)  # v1: the game's minimal action set
    obs, _ = env.reset(seed=0)
    assert obs.shape == (10, 10, 4) and obs.dtype == np.bool_ and obs.any()
    obs, reward, terminated, _, _ = env.step(0)
    assert obs.shape == (10, 10, 4) and obs.dtype == np.bool_
    assert env.observation_space.contains(obs) and reward == 0 and not terminated
    env.close()


def test_minatar_vector_env_is_seeded():
    pytest.importorskip("minatar")

    def first_steps(seed):
        envs = make_vector_env("MinAtar/Breakout-v1", 2, seed=seed)
        observations = [envs.reset()[0]]
        for _ in range(20):
            observations.append(envs.step(np.array([1, 2]))[0])
        envs.close()
        return np.stack(observations)

    first = first_steps(3)
    assert first.shape == (21, 2, 10, 10, 4) and first.dtype == np.bool_
    np.testing.assert_array_equal(first, first_steps(3))


@pytest.mark.parametrize("env_id", ["MinAtar/SpaceInvaders-v1", "MinAtar/Breakout-v0"])
def test_minatar_own_vector_env_matches_gymnasiums_step_for_step(env_id):
    """vectorization="numpy" (what "auto" picks) steps MinAtar's games without Gymnasium's
    wrappers: the same observations, rewards, terminations, final observations and
    resets, sticky actions included, over several episodes of every copy."""
    pytest.importorskip("minatar")
    same_step = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
    ours = make_vector_env(env_id, 3, seed=5, vectorization="auto", **same_step)
    theirs = make_vector_env(env_id, 3, seed=5, vectorization="sync", **same_step)
    assert type(ours).__name__ == "MinAtarSameStepVectorEnv"
    assert ours.single_observation_space == theirs.single_observation_space
    assert ours.single_action_space == theirs.single_action_space
    np.testing.assert_array_equal(ours.reset(seed=7)[0], theirs.reset(seed=7)[0])
    actions = np.random.default_rng(0).integers(ours.single_action_space.n, size=(3000, 3))
    ends = 0
    for step_actions in actions:
        a, b = ours.step(step_actions), theirs.step(step_actions)
        obs, _, terminated, _, info = a
        assert obs.dtype == np.bool_
        for mine, gyms in zip(a[:4], b[:4], strict=True):
            np.testing.assert_array_equal(mine, gyms)
        if terminated.any():
            ends += int(terminated.sum())
            np.testing.assert_array_equal(info["_final_obs"], b[4]["_final_obs"])
            for i in np.flatnonzero(terminated):
                np.testing.assert_array_equal(info["final_obs"][i], b[4]["final_obs"][i])
        else:
            assert "final_obs" not in b[4]
    assert ends >= 6  # every copy went through episode ends and resets
    ours.close()
    theirs.close()


# ---------------------------------------------------------------------------- MiniGrid


def test_minigrid_doorkey_is_image_and_direction_without_the_mission():
    pytest.importorskip("minigrid")
    env = make_env("MiniGrid-DoorKey-8x8-v0")
    space = env.observation_space
    assert isinstance(space, spaces.Dict) and set(space) == {"image", "direction"}
    image = space["image"]
    assert image.shape == (7, 7, 3) and image.dtype == np.uint8 and np.all(image.low == 0)
    # The true maxima of the object, colour and state ids, so scaling maps them to [0, 1].
    np.testing.assert_array_equal(image.high[0, 0], [10, 5, 2])
    np.testing.assert_array_equal(image_scale(image), [10, 5, 2])
    assert space["direction"] == spaces.Discrete(4)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"image", "direction"} and space.contains(obs)
    obs, *_ = env.step(2)  # forward
    assert space.contains(obs)
    env.close()

    envs = make_vector_env("MiniGrid-DoorKey-8x8-v0", 2, seed=0)
    obs, _ = envs.reset()
    assert obs["image"].shape == (2, 7, 7, 3) and obs["image"].dtype == np.uint8
    assert obs["direction"].shape == (2,)
    envs.close()


def test_minigrid_raw_gymnasium_make_still_has_the_mission():
    # rl's make_env drops it; the registered id itself is untouched.
    pytest.importorskip("minigrid")
    assert "mission" in gym.make("MiniGrid-DoorKey-8x8-v0").observation_space.spaces
