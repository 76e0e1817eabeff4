"""Small step -> value schedules, e.g. for annealing the prioritized-replay ``beta``."""

from __future__ import annotations

from collections.abc import Callable


def linear_schedule(start: float, end: float, steps: int) -> Callable[[int], float]:
    """Return ``f(step)`` going linearly from ``start`` (step 0) to ``end`` (step ``steps``).

    Steps before 0 give ``start`` and steps after ``steps`` give ``end``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    start, end = float(start), float(end)

    def schedule(step: int) -> float:
        if step >= steps:
            return end  # exactly, not start + 1.0 * (end - start) with its round-off
        return start + max(step / steps, 0.0) * (end - start)

    return schedule
