"""Optimizers for compiled update steps."""

from __future__ import annotations

import tensorflow as tf


class Adam(tf.Module):
    """Adam (Kingma & Ba, 2015) over a fixed list of variables.

    Written out rather than taken from Keras so its slots are plain variables an
    agent saves and restores with its networks (:meth:`named`), and so the learning
    rate can be a tensor argument of a compiled update (annealing without retracing).

    Args:
        variables: the variables it updates, in the order of the gradients.
        lr: the learning rate :meth:`apply` uses when it is given none.
        eps, beta1, beta2: Adam's constants.
        eps_after_correction: add ``eps`` to sqrt(v_hat), the bias-corrected second
            moment, as Kingma & Ba's Algorithm 1 and PyTorch (so SB3 and CleanRL) do.
            False (the default) adds it to sqrt(v) before the correction, as TensorFlow's
            kernel, Keras and so OpenAI baselines' PPO2 do (the paper's Section 2 form,
            where ``eps`` is its epsilon-hat, as TensorFlow's docs say): an
            effective epsilon of ``eps / sqrt(1 - beta2^t)``, about 32x ``eps`` at the
            first step and within 10% of it after ~1,750 steps (beta2 = 0.999).
        name: prefix of the slot names in :meth:`named`.
    """

    def __init__(
        self,
        variables,
        lr: float | None = None,
        *,
        eps: float = 1e-8,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps_after_correction: bool = False,
        name: str = "adam",
    ) -> None:
        super().__init__(name=name)
        self.targets = list(variables)
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.targets]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.targets]
        self.iterations = tf.Variable(0.0, trainable=False)
        self.lr, self.eps, self.beta1, self.beta2 = lr, eps, beta1, beta2
        self.eps_after_correction = eps_after_correction

    @tf.autograph.experimental.do_not_convert  # a Python loop over variables, unrolled as is
    def apply(self, grads, lr: tf.Tensor | float | None = None) -> None:
        """m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
        var <- var - lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps), or with
        ``eps_after_correction`` eps sqrt(1-b2^t) in place of eps, which is exactly
        var - lr m_hat / (sqrt(v_hat) + eps).

        Each variable's update is TensorFlow's fused Adam kernel: one op instead of
        eight, which matters when a small network's step is dominated by op count.
        """
        if lr is None:
            if self.lr is None:
                raise ValueError("Adam.apply needs a learning rate (none was set at construction)")
            lr = self.lr
        self.iterations.assign_add(1.0)
        t = self.iterations
        beta1_power, beta2_power = self.beta1**t, self.beta2**t  # once, not per variable
        lr = tf.cast(lr, tf.float32)
        beta1, beta2, eps = (tf.constant(x, tf.float32) for x in (self.beta1, self.beta2, self.eps))
        if self.eps_after_correction:
            # The fused kernel adds its epsilon to the uncorrected sqrt(v); scaling it by
            # sqrt(1-b2^t) moves it onto sqrt(v_hat) (Algorithm 1) with the same one op.
            eps = eps * tf.sqrt(1.0 - beta2_power)
        for g, var, m, v in zip(grads, self.targets, self.m, self.v, strict=True):
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=beta1_power,
                beta2_power=beta2_power,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                epsilon=eps,
                grad=g,
            )

    def named(self, names: dict[int, str]) -> dict[str, tf.Variable]:
        """The step count and the moments as ``<name>/m/<variable name>``, for saving.

        ``names`` maps ``id(variable)`` to the name the agent saves that variable under.
        """
        out = {f"{self.name}/iterations": self.iterations}
        for var, m, v in zip(self.targets, self.m, self.v, strict=True):
            out[f"{self.name}/m/{names[id(var)]}"] = m
            out[f"{self.name}/v/{names[id(var)]}"] = v
        return out
