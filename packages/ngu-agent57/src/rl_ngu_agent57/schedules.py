"""The per-policy exploration schedules: beta_j and gamma_j of NGU and Agent57, actor epsilons.

Policies are indexed j = 0 .. N-1; j = 0 is the exploitative policy (beta_0 = 0, the
largest discount in NGU), j = N-1 the most exploratory one (beta_{N-1} = beta).
"""

from __future__ import annotations

import math

import numpy as np


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def ngu_betas(num_policies: int, beta: float) -> np.ndarray:
    r"""NGU, Appendix A: :math:`\beta_0 = 0`, :math:`\beta_{N-1} = \beta`, and in between
    :math:`\beta_j = \beta\,\sigma(10 (2j - (N - 2)) / (N - 2))`. Agent57 uses the same.
    N = 1 is the paper's NGU(N=1): the one policy is the exploratory one, beta_0 = beta."""
    n = num_policies
    if n == 1:
        return np.array([beta], np.float64)
    out = np.zeros(n)
    for j in range(1, n):
        if j == n - 1:
            out[j] = beta
        else:  # here 1 <= j <= N-2, so N >= 3 and N - 2 > 0
            out[j] = beta * _sigmoid(10.0 * (2 * j - (n - 2)) / (n - 2))
    return out


def ngu_gammas(num_policies: int, gamma_max: float = 0.997, gamma_min: float = 0.99) -> np.ndarray:
    r"""NGU, Appendix A: :math:`1 - \gamma_j` interpolates log-linearly from
    :math:`1 - \gamma_{max}` at j = 0 to :math:`1 - \gamma_{min}` at j = N-1:
    :math:`\gamma_j = 1 - \exp(((N-1-j)\log(1-\gamma_{max}) + j\log(1-\gamma_{min}))/(N-1))`."""
    n = num_policies
    if n == 1:
        return np.array([gamma_max])
    j = np.arange(n)
    logs = ((n - 1 - j) * math.log(1 - gamma_max) + j * math.log(1 - gamma_min)) / (n - 1)
    return 1.0 - np.exp(logs)


def agent57_gammas(
    num_policies: int, gamma0: float = 0.9999, gamma1: float = 0.997, gamma2: float = 0.99
) -> np.ndarray:
    r"""Agent57, Appendix G, indexed from j = 0:

    * :math:`\gamma_0 = \gamma_0` (0.9999);
    * j = 1..6: :math:`\gamma_1 + (\gamma_0 - \gamma_1)\,\sigma(10 (2j - 6) / 6)`;
    * j = 7: :math:`\gamma_1` (0.997);
    * j >= 8: log-linear from :math:`\gamma_1` at j = 8 to :math:`\gamma_2` (0.99) at j = N-1,
      :math:`1 - \exp(((N-1-j)\log(1-\gamma_1) + (j-8)\log(1-\gamma_2))/(N-9))`.

    The paper prints the first weight of the last case as ``N - 9``, which would not end at
    gamma_2 for j = N-1; ``N - 1 - j`` is the interpolation its endpoints describe.
    That layout needs N >= 10. For N <= 9 (the j >= 8 segment would be empty or 0/0) this
    uses a variant with the same endpoints: log-linear from gamma_0 at j = 0 to gamma_2 at
    j = N-1, i.e. :func:`ngu_gammas` with (gamma0, gamma2); N = 1 gives [gamma0].
    """
    n = num_policies
    if n <= 9:
        return ngu_gammas(n, gamma0, gamma2)
    out = np.empty(n)
    out[0] = gamma0
    for j in range(1, 7):
        out[j] = gamma1 + (gamma0 - gamma1) * _sigmoid(10.0 * (2 * j - 6) / 6)
    out[7] = gamma1
    for j in range(8, n):
        logs = ((n - 1 - j) * math.log(1 - gamma1) + (j - 8) * math.log(1 - gamma2)) / (n - 9)
        out[j] = 1.0 - math.exp(logs)
    return out


def actor_epsilons(num_actors: int, epsilon: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    r"""Ape-X / R2D2 per-actor exploration: :math:`\epsilon_i = \epsilon^{1 + \alpha i/(n-1)}`."""
    if num_actors == 1:
        return np.array([epsilon])
    i = np.arange(num_actors)
    return epsilon ** (1.0 + alpha * i / (num_actors - 1))
