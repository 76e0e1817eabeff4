"""Atari 2600 games (ale-py) with the standard preprocessing, and reward clipping for learning.

Every Atari id that :func:`rl_core.envs.make_env` builds (``ALE/Breakout-v5``,
``PongNoFrameskip-v4``, ...) comes through :func:`make_atari_env`, which follows
Machado et al. 2018 ("Revisiting the Arcade Learning Environment", section 5), the
protocol Gymnasium's v5 ids are registered with:

- up to ``noop_max=30`` no-op actions at the start of each episode;
- ``frame_skip=4`` with a max-pool over the last two frames of each skip (the
  Atari screen flickers: some sprites are drawn on alternate frames);
- frames resized to 84x84 greyscale (OpenCV's area interpolation);
- the last ``frame_stack=4`` frames stacked as an 84x84x4 uint8 image, newest last;
- sticky actions (the id's ``repeat_action_probability``: 0.25 for v5) and episodes
  that end only at game over (no life-loss terminals, no FIRE on reset).

The env returns the game's own reward, so evaluation and ``charts/episodic_return``
report game scores. Clipping rewards to their sign (Mnih et al. 2015) is for learning
only: an algorithm asks :func:`rl_core.envs.uses_reward_clipping` for the env id and
applies :func:`clip_reward` to the rewards it learns from.

Only NumPy and Gymnasium are imported here; ale-py and OpenCV when an env is made.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.spaces import Box

__all__ = ["FireReset", "clip_reward", "make_atari_env", "preprocess_atari"]

# Index of FIRE in the minimal action sets of the games that have it (ALE's action enum).
_FIRE = 1


def clip_reward(reward: np.ndarray | float) -> np.ndarray:
    """The sign of ``reward`` (-1, 0 or +1) as float32: the reward an Atari learner trains
    on (Mnih et al. 2015), so that one set of hyperparameters fits games whose scores
    differ by orders of magnitude. Never applied by the env itself."""
    return np.sign(np.asarray(reward, dtype=np.float32))


def make_atari_env(
    game: str,
    *,
    noop_max: int = 30,
    frame_skip: int = 4,
    screen_size: int = 84,
    grayscale: bool = True,
    frame_stack: int = 4,
    terminal_on_life_loss: bool = False,
    fire_reset: bool = False,
    **ale_kwargs: Any,
) -> gym.Env:
    """An ALE game (ROM name ``game``, e.g. ``"breakout"``) with :func:`preprocess_atari`.

    ``ale_kwargs`` go to :class:`ale_py.env.AtariEnv` (``repeat_action_probability``,
    ``full_action_space``, ``max_num_frames_per_episode``, ``render_mode``, ...); its own
    ``frameskip`` stays 1 because the preprocessing skips frames (``frame_skip``).
    """
    if "frameskip" in ale_kwargs:
        raise TypeError(
            "frameskip is ALE's own frame skip, which stays 1 under the preprocessing; "
            "set frame_skip instead"
        )
    import ale_py
    from ale_py.env import AtariEnv

    # ALE prints a banner on every load; it would land in the middle of rl's output.
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Warning)
    # The preprocessing reads the screen itself; a greyscale base env saves the RGB copy.
    ale_kwargs.setdefault("obs_type", "grayscale" if grayscale else "rgb")
    env = AtariEnv(game=game, frameskip=1, **ale_kwargs)
    return preprocess_atari(
        env,
        noop_max=noop_max,
        frame_skip=frame_skip,
        screen_size=screen_size,
        grayscale=grayscale,
        frame_stack=frame_stack,
        terminal_on_life_loss=terminal_on_life_loss,
        fire_reset=fire_reset,
    )


def preprocess_atari(
    env: gym.Env,
    *,
    noop_max: int = 30,
    frame_skip: int = 4,
    screen_size: int = 84,
    grayscale: bool = True,
    frame_stack: int = 4,
    terminal_on_life_loss: bool = False,
    fire_reset: bool = False,
) -> gym.Env:
    """Wrap an ALE env whose own frame skip is 1: Gymnasium's ``AtariPreprocessing``
    (no-op starts, frame skip with max-pool, resize, greyscale), optionally FIRE on reset,
    then ``FrameStackObservation`` turned channels-last: an H x W x C uint8 image with
    C = ``frame_stack`` (times 3 for RGB), oldest frame first."""
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    if frame_stack < 1:
        raise ValueError(f"frame_stack must be >= 1, got {frame_stack}")
    env = AtariPreprocessing(
        env,
        noop_max=noop_max,
        frame_skip=frame_skip,
        screen_size=screen_size,
        terminal_on_life_loss=terminal_on_life_loss,
        grayscale_obs=grayscale,
        grayscale_newaxis=True,  # H x W x 1, so greyscale and RGB stack the same way
        scale_obs=False,  # images stay uint8; networks scale to [0, 1]
    )
    if fire_reset:
        env = FireReset(env)
    if frame_stack > 1:
        # Padding with the first frame of the episode, as the DQN code did.
        env = FrameStackObservation(env, frame_stack, padding_type="reset")
        env = _ChannelsLast(env)
    return env


class FireReset(gym.Wrapper):
    """Press FIRE (then UP) after each reset, for games that wait for it to start
    (Breakout launches the ball on FIRE). Not part of Machado et al.'s protocol; it is
    in the DQN-era baselines (``FireResetEnv``) that CleanRL's ``ppo_atari`` uses."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        meanings = env.unwrapped.get_action_meanings()
        if len(meanings) < 3 or meanings[_FIRE] != "FIRE":
            raise ValueError(f"fire_reset: this game has no FIRE action ({meanings})")

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.env.reset(**kwargs)
        for action in (_FIRE, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


class _ChannelsLast(gym.ObservationWrapper):
    """(stack, H, W, c) from ``FrameStackObservation`` -> (H, W, stack * c)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        stack, height, width, channels = env.observation_space.shape
        self.observation_space = Box(0, 255, (height, width, stack * channels), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        stack, height, width, channels = observation.shape
        # A fresh C-contiguous array: never a view of the stacking wrapper's buffer.
        stacked = np.ascontiguousarray(observation.transpose(1, 2, 0, 3))
        return stacked.reshape(height, width, stack * channels)
