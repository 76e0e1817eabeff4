"""CartPole with the episode step count, distinct termination/truncation, optional sparse reward."""

from __future__ import annotations

import gymnasium as gym


class CartPoleWrapper(gym.Wrapper):
    """Adds ``info["episode_step"]`` and ``info["is_success"]`` at episode end.

    Termination (pole fell, cart left the track) and the 500-step time limit
    (truncation) stay distinct, as gymnasium reports them, so learners bootstrap
    on the latter only. ``sparse_success_reward`` replaces the reward by 1 on the
    last step of an episode that lasted at least ``success_steps`` and 0
    everywhere else: the reward shaping of the PPO article this project grew from.
    """

    def __init__(self, env: gym.Env, sparse_success_reward: bool = False, success_steps: int = 195):
        super().__init__(env)
        self.sparse_success_reward = sparse_success_reward
        self.success_steps = success_steps
        self._episode_step = 0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._episode_step = 0
        return obs, {**info, "episode_step": 0}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._episode_step += 1
        info = {**info, "episode_step": self._episode_step}
        done = terminated or truncated
        success = done and (truncated or self._episode_step >= self.success_steps)
        if done:
            info["is_success"] = success
        if self.sparse_success_reward:
            reward = 1.0 if success else 0.0
        return obs, reward, terminated, truncated, info


def make_cartpole(
    sparse_success_reward: bool = False,
    success_steps: int = 195,
    time_limit: int = 500,
    render_mode: str | None = None,
) -> gym.Env:
    # Our own name for the limit: gymnasium would apply `max_episode_steps` outside this
    # wrapper, hiding the truncation from it.
    env = gym.make("CartPole-v1", max_episode_steps=time_limit, render_mode=render_mode)
    return CartPoleWrapper(env, sparse_success_reward, success_steps)
