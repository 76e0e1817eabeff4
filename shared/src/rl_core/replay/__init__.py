"""Experience replay buffers (pure NumPy): uniform and proportional prioritized."""

from rl_core.replay.checkpoint import REPLAY_FILE, is_compact_space, load_replay, save_replay
from rl_core.replay.prioritized import PrioritizedReplayBuffer
from rl_core.replay.schedules import linear_schedule
from rl_core.replay.sum_tree import SumTree
from rl_core.replay.uniform import ReplayBuffer

__all__ = [
    "REPLAY_FILE",
    "PrioritizedReplayBuffer",
    "ReplayBuffer",
    "SumTree",
    "is_compact_space",
    "linear_schedule",
    "load_replay",
    "save_replay",
]
