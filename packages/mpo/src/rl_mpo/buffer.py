"""Replay items from vector-env steps: n-step transitions or length-n Retrace sequences.

Steps are staged per environment, time-major ``[T, N]``; ``flush`` turns every staged step
whose n-step window is complete into one replay item. A window starts at step t and holds
the ``m = n`` steps t .. t+m-1, or fewer where the episode ended first (terminated or
truncated); the last ``n - 1`` steps are kept back until their windows fill.

Both writers emit the same layout, a short sequence of ``L`` transitions:

    obs [L + 1, D]  actions [L, ...]  log_probs [L]  rewards [L]  discounts [L]  mask [L]

- :class:`NStepWriter` (``L = 1``): one n-step transition
  ``(s_t, a_t, R_t = sum_{k<m} gamma^k r_{t+k}, d_t = gamma^m (1 - term_{t+m-1}), s_{t+m})``
  from ``rl_core.math``'s ``n_step_returns`` (acme likewise reads n-step transitions as
  sequences of length 2).
- :class:`SequenceWriter` (``L = n``): the raw steps of the window with
  ``d = gamma (1 - term)`` per step and the behaviour policy's log-probabilities, for
  Retrace. Steps past an episode end are padding (``mask = 0``, ``r = d = 0``) and their
  states repeat the episode's final observation, so a sequence never crosses an episode
  boundary; a truncated window bootstraps from that true final observation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from rl_core.math import n_step_returns


class _StagedSteps(ABC):
    """Vector-env steps held time-major until the n-step windows that read them are complete."""

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
        self.obs_dim, self.action_shape, self.action_dtype = obs_dim, action_shape, action_dtype
        # Room for the held-back tail plus one flush's worth of steps.
        size = capacity + n
        self.obs = np.zeros((size, num_envs, obs_dim), np.float32)
        self.actions = np.zeros((size, num_envs, *action_shape), action_dtype)
        self.log_probs = np.zeros((size, num_envs), np.float32)
        self.rewards = np.zeros((size, num_envs), np.float32)
        self.terminated = np.zeros((size, num_envs), bool)
        self.truncated = np.zeros((size, num_envs), bool)
        self.next_obs = np.zeros((size, num_envs, obs_dim), np.float32)
        self.emitted = np.zeros((size, num_envs), bool)
        self.length = 0

    def add(self, obs, actions, log_probs, rewards, terminated, truncated, next_obs) -> None:
        """One vector step; ``next_obs`` is the true s_{t+1} (the final one at an episode end);
        ``log_probs`` are the behaviour policy's log mu(a_t|s_t)."""
        t = self.length
        if t == len(self.obs):
            raise RuntimeError(f"{type(self).__name__} is full: flush() more often")
        self.obs[t], self.actions[t], self.log_probs[t] = obs, actions, log_probs
        self.rewards[t], self.terminated[t], self.truncated[t] = rewards, terminated, truncated
        self.next_obs[t] = next_obs
        self.emitted[t] = False
        self.length += 1

    def reset(self) -> None:
        """Drop staged steps (new episodes start, e.g. after a resume)."""
        self.length = 0

    def fields(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Shapes and dtypes of one replay item, for ``ReplayBuffer``."""
        length = self.sequence_length
        return {
            "obs": ((length + 1, self.obs_dim), np.dtype(np.float32)),
            "actions": ((length, *self.action_shape), self.action_dtype),
            "log_probs": ((length,), np.dtype(np.float32)),
            "rewards": ((length,), np.dtype(np.float32)),
            "discounts": ((length,), np.dtype(np.float32)),
            "mask": ((length,), np.dtype(np.float32)),
        }

    sequence_length: int
    """Transitions per replay item (set by each writer)."""

    def flush(self) -> dict[str, np.ndarray]:
        """Items whose windows are complete, as flat arrays for ``ReplayBuffer.add_batch``."""
        T = self.length
        r, term, trunc = self.rewards[:T], self.terminated[:T], self.truncated[:T]
        # n_step_returns on r = 1, V = 0 with gamma = 1 counts the steps m of each window.
        ones, zeros = np.ones_like(r), np.zeros_like(r)
        m = np.rint(n_step_returns(ones, term, trunc, zeros, 1.0, self.n)).astype(np.int64)
        t_idx = np.broadcast_to(np.arange(T)[:, None], r.shape)
        env_idx = np.broadcast_to(np.arange(r.shape[1]), r.shape)
        last = t_idx + m - 1  # the window's last step
        complete = (m == self.n) | (term | trunc)[last, env_idx]
        ready = complete & ~self.emitted[:T]
        out = self._items(t_idx[ready], env_idx[ready], m[ready])
        # Keep the last n - 1 steps: later windows still read them.
        keep = min(T, self.n - 1)
        self.emitted[:T] |= complete
        for arr in (
            self.obs,
            self.actions,
            self.log_probs,
            self.rewards,
            self.terminated,
            self.truncated,
            self.next_obs,
            self.emitted,
        ):
            arr[:keep] = arr[T - keep : T].copy()
        self.length = keep
        return out

    @abstractmethod
    def _items(self, t: np.ndarray, env: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
        """The replay items of the windows starting at steps ``t`` of envs ``env``, ``m`` long."""


class NStepWriter(_StagedSteps):
    """n-step transitions as sequences of one transition (see the module docstring)."""

    sequence_length = 1

    def _items(self, t, env, m):
        T = self.length
        r, term, trunc = self.rewards[:T], self.terminated[:T], self.truncated[:T]
        zeros, ones = np.zeros_like(r), np.ones_like(r)
        returns = n_step_returns(r, term, trunc, zeros, self.gamma, self.n)
        # The same recursion on r = 0, V = 1 gives gamma^m (1 - term).
        discounts = n_step_returns(zeros, term, trunc, ones, self.gamma, self.n)
        next_obs = self.next_obs[t + m - 1, env]
        return {
            "obs": np.stack([self.obs[t, env], next_obs], axis=1),
            "actions": self.actions[t, env][:, None],
            "log_probs": self.log_probs[t, env][:, None],
            "rewards": returns[t, env][:, None],
            "discounts": discounts[t, env][:, None],
            "mask": np.ones((len(t), 1), np.float32),
        }


class SequenceWriter(_StagedSteps):
    """Length-n sequences of raw steps for Retrace (see the module docstring)."""

    @property
    def sequence_length(self) -> int:
        return self.n

    def _items(self, t, env, m):
        k = np.arange(self.n)
        valid = k[None, :] < m[:, None]  # [M, n]
        # Padding steps read the window's last step; their fields are masked or zeroed.
        step = np.minimum(t[:, None] + k[None, :], (t + m - 1)[:, None])
        env_k = env[:, None]
        final_obs = self.next_obs[t + m - 1, env]  # x_m: true final or bootstrap state
        states = np.where(valid[..., None], self.obs[step, env_k], final_obs[:, None])
        not_term = ~self.terminated[step, env_k]
        return {
            "obs": np.concatenate([states, final_obs[:, None]], axis=1),
            "actions": self.actions[step, env_k],
            "log_probs": self.log_probs[step, env_k],
            "rewards": np.where(valid, self.rewards[step, env_k], 0.0).astype(np.float32),
            "discounts": (self.gamma * (valid & not_term)).astype(np.float32),
            "mask": valid.astype(np.float32),
        }
