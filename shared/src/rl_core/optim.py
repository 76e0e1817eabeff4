"""Optimizers for compiled update steps."""

from __future__ import annotations

import tensorflow as tf


class Adam(tf.Module):
    """Adam (Kingma & Ba, 2015) over a fixed list of variables.

    Written out rather than taken from Keras so its slots are plain variables an
    agent saves and restores with its networks, and so the learning rate can be a
    tensor argument of a compiled update (annealing without retracing).
    """

    def __init__(self, variables, eps: float, beta1: float = 0.9, beta2: float = 0.999):
        super().__init__(name="adam")
        self.targets = list(variables)
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.targets]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.targets]
        self.iterations = tf.Variable(0.0, trainable=False)
        self.eps, self.beta1, self.beta2 = eps, beta1, beta2

    @tf.autograph.experimental.do_not_convert  # a Python loop over variables, unrolled as is
    def apply(self, grads, lr: tf.Tensor) -> None:
        """m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
        var <- var - lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps).

        Each variable's update is TensorFlow's fused Adam kernel: one op instead of
        eight, which matters when a small network's step is dominated by op count.
        """
        self.iterations.assign_add(1.0)
        t = self.iterations
        beta1_power, beta2_power = self.beta1**t, self.beta2**t
        for g, var, m, v in zip(grads, self.targets, self.m, self.v, strict=True):
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=beta1_power,
                beta2_power=beta2_power,
                lr=lr,
                beta1=tf.constant(self.beta1),
                beta2=tf.constant(self.beta2),
                epsilon=tf.constant(self.eps),
                grad=g,
            )
