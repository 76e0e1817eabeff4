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
