"""RL math shared by the algorithms: return estimators, value rescaling, Retrace, running stats.

``gae`` and ``running_stats`` are NumPy (host side, used on rollouts);
``rescaling`` and ``retrace`` are TensorFlow and work inside ``tf.function``.
"""

from __future__ import annotations

from rl_core.math.gae import discounted_returns, gae, n_step_returns
from rl_core.math.rescaling import h, h_inv
from rl_core.math.retrace import retrace_targets, retrace_traces, retrace_traces_from_log_probs
from rl_core.math.running_stats import RunningMeanStd

__all__ = [
    "RunningMeanStd",
    "discounted_returns",
    "gae",
    "h",
    "h_inv",
    "n_step_returns",
    "retrace_targets",
    "retrace_traces",
    "retrace_traces_from_log_probs",
]
