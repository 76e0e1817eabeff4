"""Advantage and return estimators for on-policy rollouts (NumPy, host side).

All per-step arrays are time-major, shaped ``[T]`` or ``[T, N]`` for ``N`` vector
envs, and must share one shape. Inputs may be any numeric or boolean dtype; the
outputs are float32.

Terminated and truncated steps are treated differently, following the
time-limit analysis of Pardo et al. (2018):

* ``terminated_t``: s_{t+1} is terminal, its value is 0, so nothing is bootstrapped.
* ``truncated_t``: the episode was cut by a time limit; s_{t+1} (the final
  observation before the auto-reset) still has a value, which is bootstrapped.

Either one ends the episode, so no estimator looks past it into the next
episode's steps. The value of the state after the last step of the rollout is
always bootstrapped (unless that step terminated).

``next_values`` / ``bootstrap_values`` hold V(s_{t+1}) for every t, where s_{t+1}
is the true next state of transition t, not the first state of the next episode.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["discounted_returns", "gae", "n_step_returns"]


def _check_unit_interval(name: str, value: float) -> float:
    value = float(value)
    # `not (0 <= v <= 1)` also rejects NaN.
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def _step_arrays(
    floats: dict[str, ArrayLike], flags: dict[str, ArrayLike]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Convert per-step inputs (floats to float64, flags to bool) and check their shapes agree."""
    # Accumulate in float64: long discounted sums lose precision in float32,
    # and the float32 cast happens once at the end.
    float_arrays = {name: np.asarray(a, dtype=np.float64) for name, a in floats.items()}
    flag_arrays = {name: np.asarray(a).astype(bool) for name, a in flags.items()}
    arrays = {**float_arrays, **flag_arrays}
    first_name, first = next(iter(arrays.items()))
    if first.ndim == 0:
        raise ValueError(f"{first_name} must be time-major with shape [T] or [T, N], got a scalar")
    if any(array.shape != first.shape for array in arrays.values()):
        shapes = ", ".join(f"{name}={array.shape}" for name, array in arrays.items())
        raise ValueError(f"all per-step inputs must have the same shape; got {shapes}")
    return list(float_arrays.values()), list(flag_arrays.values())


def gae(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Generalized Advantage Estimation (Schulman et al., 2016).

    .. math::

        \delta_t = r_t + \gamma (1 - \mathrm{term}_t) V(s_{t+1}) - V(s_t)

        A_t = \delta_t + \gamma \lambda (1 - \mathrm{done}_t) A_{t+1}, \quad A_T = 0

    with ``done_t = terminated_t or truncated_t``, ``values[t] = V(s_t)`` and
    ``next_values[t] = V(s_{t+1})``.

    Returns
    -------
    advantages, returns : np.ndarray
        float32, same shape as ``rewards``; ``returns = advantages + values``
        (the TD(lambda) value target).
    """
    gamma = _check_unit_interval("gamma", gamma)
    lam = _check_unit_interval("lam", lam)
    (r, v, v_next), (term, trunc) = _step_arrays(
        {"rewards": rewards, "values": values, "next_values": next_values},
        {"terminated": terminated, "truncated": truncated},
    )
    deltas = r + gamma * np.where(term, 0.0, v_next) - v
    # The recursion must not carry advantage across an episode boundary, whatever ended it.
    carry = gamma * lam * ~(term | trunc)

    advantages = np.zeros_like(deltas)
    next_advantage = 0.0  # A_T = 0 past the rollout end
    for t in reversed(range(len(deltas))):
        next_advantage = deltas[t] + carry[t] * next_advantage
        advantages[t] = next_advantage
    returns = advantages + v
    return advantages.astype(np.float32), returns.astype(np.float32)


def discounted_returns(
    rewards: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    bootstrap_values: ArrayLike,
    gamma: float,
) -> np.ndarray:
    r"""Monte-Carlo returns, bootstrapped where an episode is cut off.

    .. math::

        G_t = r_t + \gamma (1 - \mathrm{term}_t)
              \begin{cases} V(s_{t+1}) & \mathrm{done}_t \text{ or } t = T-1 \\
                            G_{t+1} & \text{otherwise} \end{cases}

    with ``bootstrap_values[t] = V(s_{t+1})``. Returns float32 shaped like ``rewards``.
    """
    gamma = _check_unit_interval("gamma", gamma)
    (r, boot), (term, trunc) = _step_arrays(
        {"rewards": rewards, "bootstrap_values": bootstrap_values},
        {"terminated": terminated, "truncated": truncated},
    )
    # Bootstrap where the episode ends and at the rollout end, whose G_{t+1} is unknown.
    cut = term | trunc
    if len(cut):
        cut[-1] = True
    out = np.zeros_like(r)
    following = 0.0  # stands for G_T; never selected because step T-1 is always cut
    for t in reversed(range(len(r))):
        tail = np.where(cut[t], boot[t], following)
        following = r[t] + gamma * np.where(term[t], 0.0, tail)
        out[t] = following
    return out.astype(np.float32)


def n_step_returns(
    rewards: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    bootstrap_values: ArrayLike,
    gamma: float,
    n: int,
) -> np.ndarray:
    r"""n-step TD targets for every step of the rollout.

    .. math::

        G^{(n)}_t = \sum_{k=0}^{m-1} \gamma^k r_{t+k}
                    + \gamma^m (1 - \mathrm{term}_{t+m-1}) V(s_{t+m})

    where ``m <= n`` is shortened so the window stops at the first step that ends
    an episode (terminated or truncated) and at the end of the array;
    ``bootstrap_values[t] = V(s_{t+1})``. ``n = 1`` is the one-step TD target and
    ``n >= T`` gives :func:`discounted_returns`. Returns float32 shaped like ``rewards``.
    """
    gamma = _check_unit_interval("gamma", gamma)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    (r, boot), (term, trunc) = _step_arrays(
        {"rewards": rewards, "bootstrap_values": bootstrap_values},
        {"terminated": terminated, "truncated": truncated},
    )
    # Build G^(k) from G^(k-1) one horizon at a time, all t at once:
    #   G^(1)_t = r_t + gamma (1 - term_t) V(s_{t+1})
    #   G^(k)_t = r_t + gamma (1 - term_t) [V(s_{t+1}) if cut_t else G^(k-1)_{t+1}]
    # where cut_t marks the episode end or the array end, beyond which t may not look.
    cut = term | trunc
    if len(cut):
        cut[-1] = True
    not_term = ~term
    target = r + gamma * not_term * boot
    # Past T steps every window has hit the array end, so more iterations change nothing.
    for _ in range(min(n, len(r)) - 1):
        following = np.empty_like(target)
        following[:-1] = target[1:]
        following[-1] = 0.0  # placeholder; the last step is always cut
        target = r + gamma * not_term * np.where(cut, boot, following)
    return target.astype(np.float32)
