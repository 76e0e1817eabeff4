"""Retrace(lambda) off-policy Q targets (Munos et al., 2016), time-major TensorFlow.

A sequence of ``T`` transitions from a behaviour policy ``mu`` gives ``T``
targets for ``Q(x_t, a_t)`` under a target policy ``pi``. Inputs are time-major
with any trailing batch dims: per-transition tensors are ``[T, ...]`` and
per-state tensors are ``[T + 1, ...]`` (state ``x_T`` after the last transition
is included so the last target can bootstrap). All functions work inside
``tf.function``.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from rl_core.math._tensors import TensorLike, as_dtype, as_float_tensor

__all__ = ["retrace_targets", "retrace_traces", "retrace_traces_from_log_probs"]

Transform = tuple[Callable[[tf.Tensor], tf.Tensor], Callable[[tf.Tensor], tf.Tensor]]


def retrace_traces(pi_probs_taken: TensorLike, mu_probs_taken: TensorLike, lam: float) -> tf.Tensor:
    r"""Truncated importance weights :math:`c_s = \lambda \min(1, \pi(a_s|x_s) / \mu(a_s|x_s))`.

    ``mu_probs_taken`` must be positive (the behaviour policy took those actions).
    The result carries no gradient: traces are part of a target.
    """
    if isinstance(lam, int | float) and not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    pi = as_float_tensor(pi_probs_taken)
    mu = as_dtype(mu_probs_taken, pi.dtype)
    traces = as_dtype(lam, pi.dtype) * tf.minimum(tf.ones_like(pi), pi / mu)
    return tf.stop_gradient(traces)


def retrace_traces_from_log_probs(
    pi_log_probs_taken: TensorLike, mu_log_probs_taken: TensorLike, lam: float
) -> tf.Tensor:
    r""":func:`retrace_traces` from log-probabilities (or log-densities, for continuous actions).

    :math:`c_s = \lambda \exp(\min(0, \log\pi(a_s|x_s) - \log\mu(a_s|x_s)))`: the ratio of
    two Gaussian densities overflows float32 long before its log does, and clipping the log
    ratio at 0 before ``exp`` keeps the result finite whatever the densities.
    """
    if isinstance(lam, int | float) and not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    log_pi = as_float_tensor(pi_log_probs_taken)
    log_mu = as_dtype(mu_log_probs_taken, log_pi.dtype)
    log_rho = tf.minimum(log_pi - log_mu, tf.zeros_like(log_pi))
    return tf.stop_gradient(as_dtype(lam, log_pi.dtype) * tf.exp(log_rho))


def _check_lengths(per_step: dict[str, tf.Tensor], per_state: dict[str, tf.Tensor]) -> None:
    """Static shape check: per-state inputs are one step longer than per-step ones.

    Dimensions unknown at trace time (``None``) are skipped rather than checked at run time.
    """
    reference = next(iter(per_step.values())).shape
    if reference.rank is None:
        return
    if reference.rank == 0:
        raise ValueError("retrace inputs must be time-major with a leading time axis")
    steps = reference[0]
    expected_state = tf.TensorShape([None if steps is None else steps + 1]) + reference[1:]
    for name, tensor in per_step.items():
        if not tensor.shape.is_compatible_with(reference):
            raise ValueError(f"{name} has shape {tensor.shape}, expected [T, ...] = {reference}")
    for name, tensor in per_state.items():
        if not tensor.shape.is_compatible_with(expected_state):
            raise ValueError(
                f"{name} has shape {tensor.shape}, expected [T + 1, ...] = {expected_state}"
            )


def retrace_targets(
    rewards: TensorLike,
    discounts: TensorLike,
    q_taken: TensorLike,
    expected_q: TensorLike,
    traces: TensorLike,
    transform: Transform | None = None,
) -> tf.Tensor:
    r"""Retrace targets :math:`Q^{ret}_t` for ``t = 0 .. T-1``.

    .. math::

        Q^{ret}_{T-1} = r_{T-1} + d_{T-1} \, \mathbb{E}_\pi Q(x_T, \cdot)

        Q^{ret}_t = r_t + d_t \left[ \mathbb{E}_\pi Q(x_{t+1}, \cdot)
                    + c_{t+1} \left( Q^{ret}_{t+1} - Q(x_{t+1}, a_{t+1}) \right) \right]

    Parameters
    ----------
    rewards, discounts : [T, ...]
        ``r_t`` and ``d_t = gamma * (1 - terminated_t)``.
    q_taken : [T + 1, ...]
        ``Q_target(x_s, a_s)``. Entry 0 is unused.
    expected_q : [T + 1, ...]
        ``sum_a pi(a|x_s) Q_target(x_s, a)``. Entry 0 is unused.
    traces : [T + 1, ...]
        ``c_s`` from :func:`retrace_traces`. Entry 0 is unused.
    transform : (h, h_inv), optional
        For networks that output rescaled values ``h(Q)`` (R2D2/Agent57). Then
        ``q_taken`` is given in *transformed* space and is mapped back with
        ``h_inv``, while ``expected_q`` must already be in *raw* space, computed
        by the caller as ``sum_a pi(a|x) * h_inv(Q_h(x, a))``: the expectation of
        ``h_inv`` is not ``h_inv`` of the expectation, so it cannot be recovered
        here. The recursion runs on raw values and the result is ``h(Q^ret)``.

    Returns
    -------
    tf.Tensor
        ``[T, ...]`` targets (raw, or ``h``-transformed when ``transform`` is given),
        with gradients stopped. The dtype is that of ``q_taken`` (float32 for
        non-float input); the other inputs are cast to it.

    Notes
    -----
    A terminated step has ``d_t = 0``, which also cuts the trace, so one sequence may
    hold several episodes. Truncation is the caller's business: the recursion
    bootstraps from ``x_{t+1}`` as stored, so across a time-limit reset (where the
    stored ``x_{t+1}`` is the next episode's first state) the caller must split the
    sequence or set ``d_t = 0`` there.
    """
    q_taken = as_float_tensor(q_taken)
    dtype = q_taken.dtype
    rewards = as_dtype(rewards, dtype)
    discounts = as_dtype(discounts, dtype)
    expected_q = as_dtype(expected_q, dtype)
    traces = as_dtype(traces, dtype)
    _check_lengths(
        {"rewards": rewards, "discounts": discounts},
        {"q_taken": q_taken, "expected_q": expected_q, "traces": traces},
    )

    if transform is not None:
        q_taken = tf.cast(transform[1](q_taken), dtype)

    # Seeding the backward pass with Qret_T := Q(x_T, a_T) makes the correction
    # c_T (Qret_T - Q(x_T, a_T)) vanish, which is exactly the Qret_{T-1} base case.
    def step(following: tf.Tensor, elems: tuple[tf.Tensor, ...]) -> tf.Tensor:
        r, d, q_next, expected_next, c_next = elems
        return r + d * (expected_next + c_next * (following - q_next))

    targets = tf.scan(
        step,
        (rewards, discounts, q_taken[1:], expected_q[1:], traces[1:]),
        initializer=q_taken[-1],
        reverse=True,
    )
    if transform is not None:
        targets = tf.cast(transform[0](targets), dtype)
    return tf.stop_gradient(targets)
