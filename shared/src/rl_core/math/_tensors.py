"""Tensor conversion helpers shared by the TensorFlow modules of ``rl_core.math``."""

from __future__ import annotations

import tensorflow as tf

TensorLike = tf.types.experimental.TensorLike


def as_float_tensor(x: TensorLike) -> tf.Tensor:
    """``x`` as a tensor; floating dtypes are kept, anything else becomes float32."""
    x = tf.convert_to_tensor(x)
    return x if x.dtype.is_floating else tf.cast(x, tf.float32)


def as_dtype(x: TensorLike, dtype: tf.DType) -> tf.Tensor:
    """``x`` converted to ``dtype`` without a float32 detour.

    A bare ``tf.cast(0.1, tf.float64)`` first makes a float32 constant and so
    yields 0.10000000149...; converting with the target dtype as a hint keeps
    Python numbers exact.
    """
    return tf.cast(tf.convert_to_tensor(x, dtype_hint=dtype), dtype)
