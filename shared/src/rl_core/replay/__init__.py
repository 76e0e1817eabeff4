"""Experience replay buffers (pure NumPy): uniform and proportional prioritized."""

from rl_core.replay.prioritized import PrioritizedReplayBuffer
from rl_core.replay.schedules import linear_schedule
from rl_core.replay.sum_tree import SumTree
from rl_core.replay.uniform import ReplayBuffer

__all__ = ["PrioritizedReplayBuffer", "ReplayBuffer", "SumTree", "linear_schedule"]
