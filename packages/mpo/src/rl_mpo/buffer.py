"""n-step transitions from vector-env steps, for a uniform replay buffer.

Steps are staged per environment, time-major ``[T, N]``; :meth:`NStepWriter.flush` turns
every staged step whose n-step window is complete into one replay transition

    (s_t, a_t, R_t = sum_{k<m} gamma^k r_{t+k}, d_t = gamma^m (1 - term_{t+m-1}), s_{t+m})

with ``m = n`` or shorter where the episode ended first, all from ``rl_core.math``'s
``n_step_returns``. The critic's target is then ``R_t + d_t E_pi Q_target(s_{t+m}, .)``.
The last ``n - 1`` steps are kept back until their windows fill.
"""

from __future__ import annotations

import numpy as np

from rl_core.math import n_step_returns


class NStepWriter:
    def __init__(
        self,
        num_envs: int,
        n: int,
        gamma: float,
        obs_dim: int,
        action_shape: tuple[int, ...],
        action_dtype: np.dtype,
        capacity: int,
    ) -> None:
        self.n, self.gamma = n, gamma
        # Room for the held-back tail plus one flush's worth of steps.
        size = capacity + n
        self.obs = np.zeros((size, num_envs, obs_dim), np.float32)
        self.actions = np.zeros((size, num_envs, *action_shape), action_dtype)
        self.rewards = np.zeros((size, num_envs), np.float32)
        self.terminated = np.zeros((size, num_envs), bool)
        self.truncated = np.zeros((size, num_envs), bool)
        self.next_obs = np.zeros((size, num_envs, obs_dim), np.float32)
        self.emitted = np.zeros((size, num_envs), bool)
        self.length = 0

    def add(self, obs, actions, rewards, terminated, truncated, next_obs) -> None:
        """One vector step; ``next_obs`` is the true s_{t+1} (the final one at an episode end)."""
        t = self.length
        if t == len(self.obs):
            raise RuntimeError("NStepWriter is full: flush() more often")
        self.obs[t], self.actions[t], self.rewards[t] = obs, actions, rewards
        self.terminated[t], self.truncated[t], self.next_obs[t] = terminated, truncated, next_obs
        self.emitted[t] = False
        self.length += 1

    def reset(self) -> None:
        """Drop staged steps (new episodes start, e.g. after a resume)."""
        self.length = 0

    def flush(self) -> dict[str, np.ndarray]:
        """Transitions whose windows are complete, as flat arrays for ``ReplayBuffer.add_batch``."""
        T = self.length
        sl = slice(0, T)
        r, term, trunc = self.rewards[sl], self.terminated[sl], self.truncated[sl]
        zeros, ones = np.zeros_like(r), np.ones_like(r)
        returns = n_step_returns(r, term, trunc, zeros, self.gamma, self.n)
        # The same recursion on r = 0, V = 1 gives gamma^m (1 - term); on r = 1, V = 0 with
        # gamma = 1 it counts the steps m of each window.
        discounts = n_step_returns(zeros, term, trunc, ones, self.gamma, self.n)
        m = np.rint(n_step_returns(ones, term, trunc, zeros, 1.0, self.n)).astype(np.int64)
        t_idx = np.arange(T)[:, None]
        last = t_idx + m - 1  # the window's last step
        env_idx = np.broadcast_to(np.arange(r.shape[1]), r.shape)
        ended = (term | trunc)[last, env_idx]
        complete = (m == self.n) | ended
        ready = complete & ~self.emitted[sl]
        out = {
            "obs": self.obs[sl][ready],
            "actions": self.actions[sl][ready],
            "rewards": returns[ready],
            "discounts": discounts[ready],
            "next_obs": self.next_obs[last[ready], env_idx[ready]],
        }
        # Keep the last n - 1 steps: later windows still read them.
        keep = min(T, self.n - 1)
        self.emitted[sl] |= complete
        for arr in (
            self.obs,
            self.actions,
            self.rewards,
            self.terminated,
            self.truncated,
            self.next_obs,
            self.emitted,
        ):
            arr[:keep] = arr[T - keep : T].copy()
        self.length = keep
        return out
