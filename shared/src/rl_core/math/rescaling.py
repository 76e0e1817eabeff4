"""Invertible value rescaling of R2D2 / Agent57 (Pohlen et al., 2018; Kapturowski et al., 2019).

Q-networks learn ``h(Q)`` instead of ``Q`` so that returns of very different
scales fit one network; TD targets are formed as ``h(r + gamma * h_inv(Q'))``.

Both functions accept NumPy arrays, Python numbers or tensors, return tensors,
and work inside ``tf.function``. Float64 inputs are computed in float64; other
floating dtypes keep their dtype; integers and Python numbers become float32.
"""

from __future__ import annotations

import tensorflow as tf

from rl_core.math._tensors import TensorLike, as_dtype, as_float_tensor

__all__ = ["h", "h_inv"]

DEFAULT_EPS = 1e-3


def _check_eps(eps: float) -> None:
    # A tensor eps cannot be checked without running the graph; trust it.
    if isinstance(eps, int | float) and not eps >= 0.0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def h(x: TensorLike, eps: float = DEFAULT_EPS) -> tf.Tensor:
    r"""Value rescaling :math:`h(x) = \mathrm{sign}(x)(\sqrt{|x| + 1} - 1) + \epsilon x`.

    The :math:`\epsilon x` term keeps ``h`` strictly increasing and Lipschitz-invertible.
    """
    _check_eps(eps)
    x = as_float_tensor(x)
    eps = as_dtype(eps, x.dtype)
    return tf.sign(x) * (tf.sqrt(tf.abs(x) + 1.0) - 1.0) + eps * x


def h_inv(x: TensorLike, eps: float = DEFAULT_EPS) -> tf.Tensor:
    r"""Exact inverse of :func:`h`.

    .. math::

        h^{-1}(x) = \mathrm{sign}(x) \left[ \left(
            \frac{\sqrt{1 + 4\epsilon(|x| + 1 + \epsilon)} - 1}{2\epsilon}
        \right)^2 - 1 \right]

    Evaluated in the algebraically equal form ``sign(x) * w * (w + 2)`` with
    ``w = 2|x| / (sqrt(1 + 4 eps (|x| + 1 + eps)) + 1 + 2 eps)`` (``w`` is the
    bracketed fraction minus 1), which avoids the cancellation in ``(...)**2 - 1``
    for small ``|x|`` and the division by ``eps``, so ``eps = 0`` also works.
    """
    _check_eps(eps)
    x = as_float_tensor(x)
    eps = as_dtype(eps, x.dtype)
    abs_x = tf.abs(x)
    root = tf.sqrt(1.0 + 4.0 * eps * (abs_x + 1.0 + eps))
    # root - (1 + 2 eps) = 4 eps |x| / (root + 1 + 2 eps); dividing by 2 eps gives w.
    w = 2.0 * abs_x / (root + 1.0 + 2.0 * eps)
    return tf.sign(x) * w * (w + 2.0)
