"""Atari preprocessing checked by hand on a fake ALE env, then once on the real ALE."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rl_core.envs import make_env, make_vector_env, uses_reward_clipping
from rl_core.envs.atari import clip_reward, preprocess_atari
from rl_core.errors import ConfigError

HEIGHT, WIDTH = 210, 160  # the Atari screen


class FakeALE:
    """The part of ``ale_py.ALEInterface`` that AtariPreprocessing reads."""

    def __init__(self, env: FakeAtari):
        self.env = env

    def getScreenGrayscale(self, out: np.ndarray) -> None:
        out[...] = self.env.screen()

    def getScreenRGB(self, out: np.ndarray) -> None:
        out[...] = self.env.screen()[..., None] // np.array([1, 2, 4], np.uint8)

    def lives(self) -> int:
        return self.env.lives


class FakeAtari(gym.Env):
    """Frame ``f`` (counted from reset, 1 after the first step) shows ``left[f % 4]`` on
    the left half of the screen and ``right[f % 4]`` on the right half; each frame's
    reward is its number ``f``. Records the actions it is stepped with."""

    metadata = {"render_modes": []}

    def __init__(
        self, left=(0, 200, 10, 60), right=(30, 200, 90, 20), lose_life_at=None, rgb=False
    ):
        # After a reset without no-ops the screen shows (left, right) = (0, 30), and each
        # agent step of frame_skip=4 covers frames (200, 200), (10, 90), (60, 20), (0, 30).
        self.left, self.right, self.lose_life_at = left, right, lose_life_at
        shape = (HEIGHT, WIDTH, 3) if rgb else (HEIGHT, WIDTH)
        self.observation_space = spaces.Box(0, 255, shape, np.uint8)
        self.action_space = spaces.Discrete(4)
        self._frameskip = 1  # AtariPreprocessing insists on it
        self.ale = FakeALE(self)
        self.frame, self.lives, self.actions = 0, 3, []

    def get_action_meanings(self) -> list[str]:
        return ["NOOP", "FIRE", "RIGHT", "LEFT"]

    def screen(self) -> np.ndarray:
        image = np.empty((HEIGHT, WIDTH), np.uint8)
        image[:, : WIDTH // 2] = self.left[self.frame % 4]
        image[:, WIDTH // 2 :] = self.right[self.frame % 4]
        return image

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.frame, self.lives, self.actions = 0, 3, []
        return self.screen(), {}

    def step(self, action):
        self.frame += 1
        self.actions.append(int(action))
        if self.frame == self.lose_life_at:
            self.lives -= 1
        return self.screen(), float(self.frame), False, False, {"lives": self.lives}


def halves(image: np.ndarray) -> tuple[int, int]:
    """The values of the left and right halves of an 84-wide frame (each uniform)."""
    left, right = image[:, :42], image[:, 42:]
    assert (left == left.flat[0]).all() and (right == right.flat[0]).all()
    return int(left.flat[0]), int(right.flat[0])


@pytest.fixture
def cv2():
    return pytest.importorskip("cv2")  # Gymnasium's AtariPreprocessing resizes with OpenCV


def test_frame_skip_sums_four_frames_and_max_pools_the_last_two(cv2):
    env = preprocess_atari(FakeAtari(), noop_max=0, frame_stack=1)
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 1), np.uint8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 1) and obs.dtype == np.uint8
    assert halves(obs[..., 0]) == (0, 30)  # the reset frame
    obs, reward, *_ = env.step(2)
    # Max over frames 3 and 4: (60, 30). The last frame alone would give (0, 30), frames
    # 2 and 3 (60, 90), all four (200, 200), the mean of the last two (30, 25).
    assert halves(obs[..., 0]) == (60, 30)
    assert reward == 1 + 2 + 3 + 4  # the game's reward over the four frames, unclipped
    assert env.unwrapped.actions == [2, 2, 2, 2]
    obs, reward, *_ = env.step(3)
    assert reward == 5 + 6 + 7 + 8 and env.unwrapped.frame == 8


def test_noop_starts_take_1_to_noop_max_noops(cv2):
    env = preprocess_atari(FakeAtari(), noop_max=30, frame_stack=1)
    counts = set()
    for seed in range(40):
        env.reset(seed=seed)
        actions = env.unwrapped.actions
        assert actions == [0] * len(actions) and 1 <= len(actions) <= 30
        counts.add(len(actions))
    assert len(counts) > 10  # random, not a fixed number of no-ops
    env = preprocess_atari(FakeAtari(), noop_max=0, frame_stack=1)
    env.reset(seed=0)
    assert env.unwrapped.actions == []


def test_frames_are_stacked_channels_last_oldest_first(cv2):
    env = preprocess_atari(FakeAtari(), noop_max=0)
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 4), np.uint8)
    obs, _ = env.reset(seed=0)
    assert [halves(obs[..., c]) for c in range(4)] == [(0, 30)] * 4  # padded with the reset frame
    obs, *_ = env.step(0)
    assert [halves(obs[..., c]) for c in range(4)] == [(0, 30)] * 3 + [(60, 30)]
    obs, *_ = env.step(0)  # frames 5..8 repeat the pattern of 1..4
    assert [halves(obs[..., c]) for c in range(4)] == [(0, 30)] * 2 + [(60, 30)] * 2
    assert obs.flags.c_contiguous and env.observation_space.contains(obs)


def test_rgb_frames_are_stacked_frame_by_frame(cv2):
    # The RGB screen is (v, v // 2, v // 4): channel 3 * i + c is colour c of frame i.
    env = preprocess_atari(FakeAtari(rgb=True), noop_max=0, grayscale=False, frame_stack=2)
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 6), np.uint8)
    env.reset(seed=0)
    obs, *_ = env.step(0)
    left = [halves(obs[..., c])[0] for c in range(6)]
    assert left == [0, 0, 0, 60, 30, 15]  # the reset frame's colours, then the pooled frame's


def test_life_loss_ends_the_episode_only_when_asked(cv2):
    for terminal_on_life_loss in (False, True):
        env = preprocess_atari(
            FakeAtari(lose_life_at=6),
            noop_max=0,
            frame_stack=1,
            terminal_on_life_loss=terminal_on_life_loss,
        )
        env.reset(seed=0)
        assert not env.step(0)[2]
        assert env.step(0)[2] is terminal_on_life_loss  # frame 6 is in the second step


def test_fire_reset_presses_fire_then_up(cv2):
    env = preprocess_atari(FakeAtari(), noop_max=0, frame_stack=1, fire_reset=True)
    env.reset(seed=0)
    assert env.unwrapped.actions == [1] * 4 + [2] * 4


def test_clip_reward_is_the_sign():
    clipped = clip_reward(np.array([-7.0, -0.5, 0.0, 0.25, 400.0]))
    np.testing.assert_array_equal(clipped, [-1, -1, 0, 1, 1])
    assert clipped.dtype == np.float32 and clip_reward(3) == 1


def test_atari_ids_use_reward_clipping_and_others_do_not():
    # By name: no need for ale-py to answer.
    assert uses_reward_clipping("ALE/Breakout-v5") and uses_reward_clipping("PongNoFrameskip-v4")
    assert not uses_reward_clipping("MinAtar/Breakout-v1")
    assert not uses_reward_clipping("CartPole-v1")
    assert not uses_reward_clipping("rl/DeepSea-v0")


# ----------------------------------------------------------------------- the real ALE


@pytest.fixture
def ale(cv2):
    return pytest.importorskip("ale_py")


def test_breakout_v5_one_reset_and_step(ale):
    env = make_env("ALE/Breakout-v5")
    assert env.spec.id == "ALE/Breakout-v5"
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 4), np.uint8)
    assert env.action_space == spaces.Discrete(4)
    base = env.unwrapped
    assert isinstance(base, ale.env.AtariEnv)
    assert base._frameskip == 1  # the preprocessing skips, not ALE
    assert base.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)  # v5: sticky
    obs, info = env.reset(seed=0)
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    start = info["episode_frame_number"]
    assert 1 <= start <= 30  # the no-ops
    obs, reward, terminated, truncated, info = env.step(1)
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8 and obs.any()
    assert info["episode_frame_number"] == start + 4
    assert not terminated and not truncated and reward == 0.0
    env.close()


def test_atari_env_kwargs_turn_pieces_off(ale):
    env = make_env("ALE/Pong-v5", frame_stack=1, noop_max=0, repeat_action_probability=0.0)
    assert env.observation_space.shape == (84, 84, 1)
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    _, info = env.reset(seed=0)
    assert info["episode_frame_number"] == 0
    env.close()
    with pytest.raises(ConfigError, match=r"env_kwargs do not fit ALE/Pong-v5: .*frame_skip"):
        make_env("ALE/Pong-v5", frameskip=4)


def test_atari_vector_env(ale):
    envs = make_vector_env("ALE/Breakout-v5", 2, seed=0)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 84, 84, 4) and obs.dtype == np.uint8
    obs, rewards, *_ = envs.step(np.array([0, 1]))
    assert obs.shape == (2, 84, 84, 4) and rewards.shape == (2,)
    envs.close()


def test_atari_without_opencv_names_the_extra(ale, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "cv2", None)
    with pytest.raises(ConfigError, match=r"ALE/Breakout-v5 needs .*uv sync --extra atari"):
        make_env("ALE/Breakout-v5")
