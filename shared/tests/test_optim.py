import numpy as np
import pytest
import tensorflow as tf

from rl_core.optim import Adam


def test_adam_matches_the_textbook_update_by_hand():
    var = tf.Variable([1.0])
    adam = Adam([var], eps=1e-8)
    lr = tf.constant(0.1)
    adam.apply([tf.constant([0.5])], lr)
    # t=1: m=0.05, v=0.00025, lr_t=0.1*sqrt(0.001)/0.1; step = lr_t*m/sqrt(v) = 0.1 (Adam's
    # first step is lr * sign(g))
    assert float(var[0]) == pytest.approx(0.9, abs=1e-6)
    adam.apply([tf.constant([-0.2])], lr)
    # t=2: m=0.025, v=0.00028975, lr_t=0.1*sqrt(1-0.999^2)/(1-0.9^2)=0.0235317
    # step = 0.0235317 * 0.025 / sqrt(0.00028975) = 0.0345604
    assert float(var[0]) == pytest.approx(0.8654396, abs=1e-6)
    assert float(adam.iterations) == 2.0


def test_adam_default_lr_and_named_slots():
    var = tf.Variable([1.0])
    adam = Adam([var], 0.1, name="critic_adam")
    adam.apply([tf.constant([0.5])])  # first step: lr * sign(g)
    assert float(var[0]) == pytest.approx(0.9, abs=1e-6)
    named = adam.named({id(var): "critic/w"})
    assert set(named) == {
        "critic_adam/iterations",
        "critic_adam/m/critic/w",
        "critic_adam/v/critic/w",
    }
    assert float(named["critic_adam/m/critic/w"][0]) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="needs a learning rate"):
        Adam([var]).apply([tf.constant([0.5])])


@pytest.mark.parametrize(
    ("eps_after_correction", "step"),
    [
        # Algorithm 1: m_hat = 1e-4, v_hat = 1e-8; 0.1 * 1e-4 / (1e-4 + 1e-5) = 0.0909091
        (True, 0.0909091),
        # TensorFlow's form: lr_t = 0.1 * sqrt(0.001) / 0.1, m = 1e-5, sqrt(v) = 3.16228e-6;
        # 0.0316228 * 1e-5 / (3.16228e-6 + 1e-5) = 0.0240253
        (False, 0.0240253),
    ],
)
def test_adam_epsilon_before_or_after_the_bias_correction(eps_after_correction, step):
    # A gradient of 1e-4 against eps 1e-5: the two placements differ by almost 4x at t=1.
    var = tf.Variable([1.0])
    adam = Adam([var], 0.1, eps=1e-5, eps_after_correction=eps_after_correction)
    adam.apply([tf.constant([1e-4])])
    assert float(var[0]) == pytest.approx(1.0 - step, abs=1e-6)


def test_adam_epsilon_after_the_correction_follows_algorithm_1_over_many_steps():
    grads = np.random.default_rng(0).normal(0.0, 1e-4, size=(50, 3)).astype(np.float32)
    var = tf.Variable(np.ones(3, np.float32))
    adam = Adam([var], 1e-2, eps=1e-5, eps_after_correction=True)
    theta, m, v = np.ones(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        adam.apply([tf.constant(g)])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        theta -= 1e-2 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-5)
    np.testing.assert_allclose(var.numpy(), theta, rtol=0, atol=2e-6)
