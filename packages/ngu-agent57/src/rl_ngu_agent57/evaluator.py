"""Agent57's evaluator: episodes played beside training, with a meta-controller of its own.

The actors' bandits choose arms to gather experience, scoring each arm by returns earned
with the actors' epsilons. Which arm a user should act with is a different question, so
Agent57's evaluator keeps its own sliding-window UCB over returns of near-greedy play, and
greedy evaluation acts with that bandit's best arm. Nothing the evaluator sees is trained
on or counted as a training step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rl_ngu_agent57.meta import SlidingWindowUCB

# (one observation, policy j, per-episode acting state, epsilon, rng) -> the action.
ActFn = Callable[[Any, int, dict[str, Any], float, np.random.Generator], Any]


class Evaluator:
    """Plays one episode after every ``period`` training episodes, on its own env.

    ``act`` is the agent's epsilon-greedy step for one observation (Agent57's
    ``_act_one``); ``new_state`` makes the per-episode acting state it carries (LSTM
    state, previous action and rewards, episodic memory). ``max_episode_steps`` only
    guards against an env without a time limit.
    """

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        bandit: SlidingWindowUCB,
        period: int,
        epsilon: float,
        seed: int,
        max_episode_steps: int = 1_000_000,
    ) -> None:
        self.make_env = make_env
        self.env: gym.Env | None = None
        self.bandit = bandit
        self.period = period
        self.epsilon = epsilon
        # Its own generator and env: the evaluator never changes what training sees.
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.max_episode_steps = max_episode_steps
        self.episodes = 0

    def due(self, training_episodes: int) -> bool:
        return self.period > 0 and training_episodes >= (self.episodes + 1) * self.period

    def play(
        self,
        act: ActFn,
        new_state: Callable[[], dict[str, Any]],
    ) -> tuple[int, float]:
        """One episode with the arm the evaluator's bandit picks; returns (arm, return)."""
        if self.env is None:
            self.env = self.make_env()
            obs, _ = self.env.reset(seed=self.seed)
        else:
            obs, _ = self.env.reset()
        arm = self.bandit.select(self.rng)
        state = new_state()
        episode_return = 0.0
        for _ in range(self.max_episode_steps):
            action = act(obs, arm, state, self.epsilon, self.rng)
            obs, reward, terminated, truncated, _ = self.env.step(action)
            episode_return += float(reward)
            state["rewards"] = np.array([reward], np.float32)
            if terminated or truncated:
                break
        self.bandit.update(arm, episode_return)
        self.episodes += 1
        return arm, episode_return

    def best_arm(self) -> int | None:
        """The arm of the highest mean return in the window; None before any episode."""
        return self.bandit.best_arm() if self.bandit.history else None

    def state_dict(self) -> dict[str, Any]:
        return {
            "bandit": self.bandit.state_dict(),
            "episodes": self.episodes,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.bandit.load_state_dict(state["bandit"])
        self.episodes = int(state["episodes"])
        self.rng.bit_generator.state = state["rng"]
