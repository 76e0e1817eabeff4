"""Hindsight Experience Replay's buffer: episodes stored once, goals relabeled at sample time.

Andrychowicz et al., "Hindsight Experience Replay" (NeurIPS 2017), Algorithm 1 and
sec. 4.5: every transition is replayed with its real goal and, for a fraction
k / (k + 1) of the samples, with a goal achieved elsewhere in the same episode
(``future``: later in it, ``final``: at its end, ``episode``: anywhere in it) or
anywhere in the buffer (``random``). The reward of the new goal is recomputed by
the environment's own ``compute_reward(achieved_goal, desired_goal, info)``, for a
whole batch in one call.

Storage follows Stable-Baselines3's ``HerReplayBuffer``: arrays of shape
``(rows, num_envs, ...)``, one ring per parallel env, so each env's episodes lie
contiguously (modulo the wrap) and an episode is found from any of its
transitions through ``ep_start``/``ep_length``. A transition becomes samplable when
its episode ends (its future goals are known then); overwriting the first
transition of an old episode invalidates the rest of it.

Sampling goes through an :class:`rl_core.replay.SumTree` over the stored
transitions: priority 1 for valid transitions (uniform replay) or the proportional
priority ``(|delta| + eps)^alpha`` of Schaul et al. (2016), and 0 for transitions
that cannot be sampled (episode still running, or partly overwritten). The
priority belongs to the *stored* transition: a transition is drawn by its
priority and then relabeled, and the TD error of whatever goal it was replayed
with becomes its new priority. A transition's priority therefore tracks the
TD errors of its recent relabelings (a mixture over goals), which is what the
sampling distribution can act on without storing a priority per (transition,
goal) pair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rl_core.replay import SumTree

STRATEGIES = ("future", "final", "episode", "random", "none")

RewardFn = Callable[[np.ndarray, np.ndarray, Any], np.ndarray]


class HindsightReplayBuffer:
    """Episode-structured replay with hindsight goal relabeling and optional priorities.

    Args:
        capacity: transitions to hold (rounded up to a multiple of ``num_envs``).
        num_envs: parallel envs writing one transition each per :meth:`add`.
        obs_dim, goal_dim: flat sizes of ``observation`` and of the goals.
        action_shape, action_dtype: one action's shape and dtype.
        compute_reward: the env's vectorized ``compute_reward(achieved, desired, info)``.
        compute_terminated: the env's vectorized ``compute_terminated`` (optional):
            whether reaching a (relabeled) goal ends the episode. A stored termination
            that reaching the real goal does not explain stays terminal for every goal.
            Without it every transition keeps the env's flag, relabeled or not (right
            for failures and for envs that never terminate on their goal).
        strategy: ``future``, ``final``, ``episode``, ``random`` or ``none``.
        n_sampled_goal: k; a sample is relabeled with probability k / (k + 1).
        gamma, n_step: for the n-step return over the window after a transition.
        prioritized: proportional priorities instead of uniform sampling.
        alpha, eps: the priority exponent and offset, ``p = (|delta| + eps) ** alpha``.
    """

    def __init__(
        self,
        capacity: int,
        num_envs: int,
        obs_dim: int,
        goal_dim: int,
        action_shape: tuple[int, ...],
        action_dtype: Any,
        compute_reward: RewardFn,
        compute_terminated: RewardFn | None = None,
        strategy: str = "future",
        n_sampled_goal: int = 4,
        gamma: float = 0.98,
        n_step: int = 1,
        prioritized: bool = False,
        alpha: float = 0.6,
        eps: float = 1e-6,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if n_sampled_goal < 0 or n_step < 1 or capacity < 1 or num_envs < 1:
            raise ValueError("need n_sampled_goal >= 0, n_step >= 1, capacity >= 1, num_envs >= 1")
        self.num_envs = num_envs
        self.rows = -(-capacity // num_envs)
        self.strategy = strategy
        self.her_ratio = 0.0 if strategy == "none" else n_sampled_goal / (n_sampled_goal + 1)
        self.gamma, self.n_step = float(gamma), int(n_step)
        self.prioritized, self.alpha, self.eps = prioritized, float(alpha), float(eps)
        self.compute_reward = compute_reward
        self.compute_terminated = compute_terminated
        shape = (self.rows, num_envs)
        self.observation = np.zeros((*shape, obs_dim), np.float32)
        self.desired_goal = np.zeros((*shape, goal_dim), np.float32)
        self.action = np.zeros((*shape, *action_shape), action_dtype)
        self.next_observation = np.zeros((*shape, obs_dim), np.float32)
        self.next_achieved_goal = np.zeros((*shape, goal_dim), np.float32)
        self.terminated = np.zeros(shape, bool)
        self.ep_start = np.zeros(shape, np.int64)  # row where this transition's episode began
        self.ep_length = np.zeros(shape, np.int64)  # its length once it ended, else 0
        self.tree = SumTree(self.rows * num_envs)
        self.max_priority = 1.0  # raw |delta| + eps; new transitions get it
        self.pos = 0
        self.full = False
        self._valid = 0  # transitions with ep_length > 0
        self._current_start = np.zeros(num_envs, np.int64)

    @property
    def capacity(self) -> int:
        return self.rows * self.num_envs

    def __len__(self) -> int:
        """Transitions that can be sampled (in finished, intact episodes)."""
        return self._valid

    # ------------------------------------------------------------------ writing

    def add(
        self,
        observation: np.ndarray,
        desired_goal: np.ndarray,
        action: np.ndarray,
        next_observation: np.ndarray,
        next_achieved_goal: np.ndarray,
        terminated: np.ndarray,
        done: np.ndarray,
    ) -> None:
        """One vector step: a transition per env (leading dim ``num_envs`` everywhere).

        ``next_*`` are the true successors (the final observation where an episode
        ended); ``done`` = terminated or truncated ends each env's current episode.
        """
        row = self.pos
        # Writing into a row that holds part of an old episode: drop that whole episode.
        for env in np.flatnonzero(self.ep_length[row]):
            self._invalidate(int(self.ep_start[row, env]), int(self.ep_length[row, env]), env)
        self.observation[row] = observation
        self.desired_goal[row] = desired_goal
        self.action[row] = action
        self.next_observation[row] = next_observation
        self.next_achieved_goal[row] = next_achieved_goal
        self.terminated[row] = terminated
        self.ep_start[row] = self._current_start
        # (The row's old priorities are 0 already: invalidated just now, or never valid.)
        self.ep_length[row] = 0
        finished = []
        for env in np.flatnonzero(done):
            start = int(self._current_start[env])
            length = (row - start) % self.rows + 1
            episode_rows = (start + np.arange(length)) % self.rows
            self.ep_length[episode_rows, env] = length
            self._valid += length
            finished.append(episode_rows * self.num_envs + env)
            self._current_start[env] = (row + 1) % self.rows
        if finished:  # the episodes' transitions become samplable, at the max priority
            priority = self.max_priority**self.alpha if self.prioritized else 1.0
            self.tree.update(np.concatenate(finished), priority)
        self.pos = (row + 1) % self.rows
        self.full = self.full or self.pos == 0

    def _invalidate(self, start: int, length: int, env: int) -> None:
        episode_rows = (start + np.arange(length)) % self.rows
        self.ep_length[episode_rows, env] = 0
        self._valid -= length
        self.tree.update(episode_rows * self.num_envs + env, 0.0)

    # ------------------------------------------------------------------ sampling

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float = 0.4
    ) -> dict[str, np.ndarray]:
        """Draw ``batch_size`` transitions, relabel a share of them, build n-step targets.

        Returns ``observation``, ``goal``, ``action``, ``reward`` (the n-step discounted
        reward sum for ``goal``), ``next_observation`` (s_{t+m}), ``discount``
        (gamma^m, 0 where the window ends in a terminal state), ``weights``
        (importance weights, 1 for uniform replay), ``indices`` (for
        :meth:`update_priorities`) and ``relabeled``.
        """
        if self.tree.total <= 0:
            raise ValueError("no finished episode to sample from yet")
        # Stratified proportional draw (Schaul et al., 2016, Appendix B.2.1).
        segment = self.tree.total / batch_size
        values = (np.arange(batch_size) + rng.random(batch_size)) * segment
        index = self.tree.find_prefix_sum(values)
        row, env = np.divmod(index, self.num_envs)
        if self.prioritized:
            # w_i = (N P(i))^-beta, normalized by the batch's largest weight so w <= 1 (the
            # tree's min is not usable: pending and overwritten slots hold priority 0).
            probs = self.tree.get(index) / self.tree.total
            weights = (len(self) * probs) ** -beta
            weights = (weights / weights.max()).astype(np.float32)
        else:
            weights = np.ones(batch_size, np.float32)

        goal = self.desired_goal[row, env].copy()
        relabeled = rng.random(batch_size) < self.her_ratio
        if relabeled.any():
            goal[relabeled] = self._hindsight_goals(row[relabeled], env[relabeled], rng)
        reward, next_obs, discount = self._n_step(row, env, goal, relabeled)
        return {
            "observation": self.observation[row, env],
            "goal": goal,
            "action": self.action[row, env],
            "reward": reward,
            "next_observation": next_obs,
            "discount": discount,
            "weights": weights,
            "indices": index,
            "relabeled": relabeled,
        }

    def sample_minibatches(
        self, k: int, batch_size: int, rng: np.random.Generator, beta: float = 0.4
    ) -> dict[str, np.ndarray]:
        """``k`` minibatches of ``batch_size`` from one :meth:`sample` call, shaped ``[k, B, ...]``.

        The stratified draw comes back sorted by slot (oldest data first); it is shuffled
        before it is cut, so that every minibatch spreads over the whole buffer instead
        of one time slice of it. ``indices`` and ``relabeled`` stay flat, in the order of
        the ``k * B`` rows (what :meth:`update_priorities` pairs the TD errors with).
        """
        batch = self.sample(k * batch_size, rng, beta)
        order = rng.permutation(k * batch_size)
        return {
            key: value[order]
            if key in ("indices", "relabeled")
            else value[order].reshape(k, batch_size, *value.shape[1:])
            for key, value in batch.items()
        }

    def _hindsight_goals(
        self, row: np.ndarray, env: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Achieved goals to relabel transitions (row, env) with, by ``self.strategy``."""
        n = len(row)
        if self.strategy == "random":
            return self.next_achieved_goal[self._random_valid(n, rng)]
        start, length = self.ep_start[row, env], self.ep_length[row, env]
        offset = (row - start) % self.rows  # t within the episode
        if self.strategy == "final":
            j = length - 1
        elif self.strategy == "episode":
            j = (rng.random(n) * length).astype(np.int64)
        else:  # future: the goal achieved at a step t' >= t (s_{t'+1}), uniformly
            j = offset + (rng.random(n) * (length - offset)).astype(np.int64)
        return self.next_achieved_goal[(start + j) % self.rows, env]

    def _random_valid(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(rows, envs) of ``n`` transitions drawn uniformly from the valid ones."""
        filled = self.rows if self.full else max(self.pos, 1)
        rows = np.empty(n, np.int64)
        envs = np.empty(n, np.int64)
        todo = np.arange(n)
        while len(todo):  # rejection sampling; valid transitions are most of the filled part
            r = rng.integers(0, filled, len(todo))
            e = rng.integers(0, self.num_envs, len(todo))
            ok = self.ep_length[r, e] > 0
            rows[todo[ok]], envs[todo[ok]] = r[ok], e[ok]
            todo = todo[~ok]
        return rows, envs

    def _n_step(
        self, row: np.ndarray, env: np.ndarray, goal: np.ndarray, relabeled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """sum_{i<m} gamma^i r_{t+i}(g), s_{t+m} and gamma^m (1 - term_{t+m-1}(g)).

        The window of ``n_step`` steps stops at the episode's end and at the first
        step that reaches a terminal state *for the goal g*; all its rewards come
        from one batched ``compute_reward`` call. A time-limit truncation ends the
        episode without a terminal state, so the target still bootstraps from the
        true final observation.
        """
        b, n = len(row), self.n_step
        start, length = self.ep_start[row, env], self.ep_length[row, env]
        offset = (row - start) % self.rows
        steps = np.arange(n)
        in_episode = offset[:, None] + steps[None, :] < length[:, None]  # (b, n)
        rows = (row[:, None] + steps[None, :]) % self.rows
        envs = np.broadcast_to(env[:, None], (b, n))
        achieved = self.next_achieved_goal[rows, envs].reshape(b * n, -1)
        goals = np.repeat(goal, n, axis=0)
        reward = np.asarray(
            self.compute_reward(achieved, goals, [{}] * (b * n)), np.float32
        ).reshape(b, n)
        env_term = self.terminated[rows, envs]
        if self.compute_terminated is not None:
            info = [{}] * (b * n)
            # gymnasium-robotics' tasks answer one scalar False for a whole batch.
            term = np.broadcast_to(
                np.asarray(self.compute_terminated(achieved, goals, info), bool), (b * n,)
            ).reshape(b, n)
            # A termination the real goal does not explain (a failure, say) ends the
            # episode for every goal; one that reaching the real goal explains does not.
            real = self.desired_goal[rows, envs].reshape(b * n, -1)
            by_goal = np.broadcast_to(
                np.asarray(self.compute_terminated(achieved, real, info), bool), (b * n,)
            )
            term = term | (env_term & ~by_goal.reshape(b, n))
        else:
            # Nothing tells goal terminations apart: the env's flag holds for every goal.
            term = env_term.copy()
        term &= in_episode
        # Step i counts if it is in the episode and no earlier step was terminal.
        ended_before = np.cumsum(term, axis=1) - term > 0
        counts = in_episode & ~ended_before
        m = counts.sum(axis=1)  # >= 1: step 0 is always in its episode
        discounts = self.gamma ** steps.astype(np.float64)
        ret = (reward * counts * discounts).sum(axis=1).astype(np.float32)
        last = m - 1
        next_obs = self.next_observation[rows[np.arange(b), last], env]
        terminal = term[np.arange(b), last]
        discount = np.where(terminal, 0.0, self.gamma**m).astype(np.float32)
        return ret, next_obs, discount

    def drop_unfinished(self) -> None:
        """Forget the episodes still running (their envs were reset, e.g. on a resume).

        Their transitions stay unsamplable (priority 0) until overwritten; the next
        :meth:`add` starts a new episode in every env.
        """
        self._current_start[:] = self.pos

    # ------------------------------------------------------------------ checkpointing

    _ARRAYS = (
        "observation",
        "desired_goal",
        "action",
        "next_observation",
        "next_achieved_goal",
        "terminated",
        "ep_start",
        "ep_length",
    )

    def state_dict(self) -> dict[str, Any]:
        """Flat arrays for :func:`rl_core.replay.save_replay`: the filled rows, the episode
        bookkeeping, the priorities (sum tree leaves) and the write position."""
        filled = self.rows if self.full else self.pos
        state: dict[str, Any] = {f"data/{k}": getattr(self, k)[:filled] for k in self._ARRAYS}
        state.update({f"tree/{k}": v for k, v in self.tree.state_dict().items()})
        state.update(
            rows=self.rows,
            num_envs=self.num_envs,
            pos=self.pos,
            full=self.full,
            valid=self._valid,
            max_priority=self.max_priority,
            current_start=self._current_start,
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the buffer's shapes must match the saved one's."""
        rows, num_envs = int(state["rows"]), int(state["num_envs"])
        if (rows, num_envs) != (self.rows, self.num_envs):
            raise ValueError(
                f"saved replay holds {rows} rows x {num_envs} envs, this buffer "
                f"{self.rows} x {self.num_envs} (buffer_size and num_envs must match)"
            )
        pos, full = int(state["pos"]), bool(state["full"])
        filled = self.rows if full else pos
        for key in self._ARRAYS:
            target, value = getattr(self, key), np.asarray(state[f"data/{key}"])
            if value.shape != (filled, *target.shape[1:]):
                raise ValueError(f"saved replay field {key} has shape {value.shape}")
            target[:filled] = value
            target[filled:] = 0
        self.tree.load_state_dict({k: state[f"tree/{k}"] for k in ("sum_leaves", "min_leaves")})
        self.pos, self.full, self._valid = pos, full, int(state["valid"])
        self.max_priority = float(state["max_priority"])
        self._current_start[:] = np.asarray(state["current_start"], np.int64)

    # ------------------------------------------------------------------ priorities

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set ``p_i = (|delta_i| + eps) ** alpha`` for sampled transitions (last write wins).

        Transitions invalidated since they were sampled keep priority 0.
        """
        if not self.prioritized:
            return
        indices = np.asarray(indices, np.int64).reshape(-1)
        raw = np.abs(np.asarray(td_errors, np.float64).reshape(-1)) + self.eps
        row, env = np.divmod(indices, self.num_envs)
        valid = self.ep_length[row, env] > 0
        self.max_priority = max(self.max_priority, float(raw.max(initial=0.0)))
        self.tree.update(indices[valid], raw[valid] ** self.alpha)
