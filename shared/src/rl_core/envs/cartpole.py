"""CartPole with the episode step count, distinct termination/truncation, optional sparse reward."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


class CartPoleWrapper(gym.Wrapper):
    """Adds ``info["episode_step"]`` every step and ``info["is_success"]`` at episode end.

    Termination (pole fell, cart left the track) and the time limit
    (truncation) stay distinct, exactly as the inner env reports them, so
    learners bootstrap on the latter only. Put this wrapper *outside* the
    ``TimeLimit`` (as :func:`make_cartpole` does) or it never sees truncation.

    ``info["episode_step"]`` is the number of steps taken in the episode (0 on
    reset, 1 after the first step). At episode end ``info["is_success"]`` is
    True iff the episode was truncated by the time limit or lasted at least
    ``success_steps`` steps (195: the classic "solved" threshold).

    ``sparse_success_reward=True`` replaces the reward by 1.0 on the last step
    of an episode that lasted at least ``success_steps`` steps and 0.0 on every
    other step, failed episodes included: the reward shaping of the PPO article
    this project grew from. Otherwise the inner env's reward is passed through.
    """

    def __init__(
        self, env: gym.Env, sparse_success_reward: bool = False, success_steps: int = 195
    ) -> None:
        if success_steps < 1:
            raise ValueError(f"success_steps must be >= 1, got {success_steps}")
        super().__init__(env)
        self.sparse_success_reward = sparse_success_reward
        self.success_steps = success_steps
        self._episode_step = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._episode_step = 0
        return obs, {**info, "episode_step": 0}

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._episode_step += 1
        info = {**info, "episode_step": self._episode_step}
        done = bool(terminated or truncated)
        long_enough = self._episode_step >= self.success_steps
        if done:
            info["is_success"] = bool(truncated) or long_enough
        if self.sparse_success_reward:
            reward: SupportsFloat = 1.0 if done and long_enough else 0.0
        return obs, reward, terminated, truncated, info


def make_cartpole(
    sparse_success_reward: bool = False,
    success_steps: int = 195,
    time_limit: int = 500,
    render_mode: str | None = None,
    **cartpole_kwargs: Any,
) -> gym.Env:
    """Gymnasium's ``CartPole-v1``, its ``TimeLimit`` (500) kept, in :class:`CartPoleWrapper`.

    The entry point of ``rl/CartPole-v1``. Change the limit with ``time_limit``,
    not ``max_episode_steps``: gymnasium would put the latter's ``TimeLimit``
    outside the wrapper, hiding the truncation from it. ``cartpole_kwargs`` go
    to gymnasium's ``CartPoleEnv`` (e.g. ``sutton_barto_reward``).
    """
    env = gym.make(
        "CartPole-v1", max_episode_steps=time_limit, render_mode=render_mode, **cartpole_kwargs
    )
    return CartPoleWrapper(env, sparse_success_reward, success_steps)
