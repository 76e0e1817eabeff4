"""The NumPy mirror of the MinAtar CNN that PPO acts with, against the TensorFlow network."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from rl_ppo.networks import (
    ActorCritic,
    NumpyCNNPolicy,
    NumpyPolicy,
    TensorFlowPolicy,
    acting_policy_for,
)

# A non-square image with per-channel bounds: a swapped H/W, a wrong flatten order or
# one divisor for all channels changes the output.
UINT8_SPACE = spaces.Box(
    0, np.broadcast_to(np.array([255, 3, 7], np.uint8), (9, 11, 3)), dtype=np.uint8
)
BOOL_SPACE = spaces.Box(0, 1, (9, 11, 4), np.bool_)


def model_for(space: spaces.Space, shared: bool, cnn: str = "minatar") -> ActorCritic:
    model = ActorCritic(space, 5, True, (64, 64), "tanh", shared, 0.0, seed=0, cnn=cnn)
    # Random biases too: they start at zero, where a dropped bias would go unnoticed.
    rng = np.random.default_rng(1)
    for var in model.trainable_variables:
        var.assign(rng.normal(0.0, 0.3, var.shape).astype(np.float32))
    return model


def random_images(space: spaces.Box, batch: int) -> np.ndarray:
    rng = np.random.default_rng(2)
    high = np.asarray(space.high, np.int64) + 1
    return rng.integers(0, high, (batch, *space.shape)).astype(np.uint8)  # as PPO stores them


@pytest.mark.parametrize("space", [UINT8_SPACE, BOOL_SPACE], ids=["uint8", "bool"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "separate"])
def test_the_numpy_cnn_gives_the_tensorflow_logits_and_values(space, shared):
    model = model_for(space, shared)
    obs = random_images(space, 6)
    policy = acting_policy_for(model, "image", "tanh")
    assert isinstance(policy, NumpyCNNPolicy)
    policy.load(model.policy_weights())
    np.testing.assert_allclose(
        policy.head(obs), model.policy_head(tf.constant(obs)).numpy(), rtol=1e-5, atol=1e-5
    )
    # The value torso (its own CNN when not shared) through the same mirror.
    cnn = model.v_torso.parts[0].cnn
    value = NumpyCNNPolicy.for_model(model, "tanh")
    value.load(
        [v.numpy() for v in (cnn.convs[0].w, cnn.convs[0].b, cnn.dense.w, cnn.dense.b)]
        + [model.v_head.w.numpy(), model.v_head.b.numpy()]
    )
    np.testing.assert_allclose(
        value.head(obs)[:, 0], model.value(tf.constant(obs)).numpy(), rtol=1e-5, atol=1e-5
    )


def test_the_nature_cnn_and_dicts_act_through_tensorflow():
    image = spaces.Box(0, 255, (36, 36, 2), np.uint8)
    assert isinstance(
        acting_policy_for(model_for(image, True, "nature"), "image", "tanh"), TensorFlowPolicy
    )
    small = spaces.Dict({"grid": BOOL_SPACE, "flag": spaces.Discrete(2)})
    assert isinstance(acting_policy_for(model_for(small, True), "dict", "tanh"), TensorFlowPolicy)
    flat = spaces.Box(-1, 1, (4,), np.float32)
    policy = acting_policy_for(model_for(flat, True), "flat", "tanh")
    assert type(policy) is NumpyPolicy


def blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def cnn_policy_recording_threads() -> tuple[NumpyCNNPolicy, list[set[int]]]:
    """The MinAtar-CNN mirror, and the list its every conv pass appends BLAS's threads to."""
    model = model_for(BOOL_SPACE, True)
    policy = acting_policy_for(model, "image", "tanh")
    policy.load(model.policy_weights())
    seen = []
    cnn = policy._cnn
    policy._cnn = lambda images: (seen.append(blas_threads()), cnn(images))[1]
    return policy, seen


def test_the_numpy_cnn_holds_blas_to_one_thread_only_while_it_acts():
    from threadpoolctl import threadpool_limits

    policy, seen = cnn_policy_recording_threads()
    with threadpool_limits(limits=2, user_api="blas"):
        policy.act(random_images(BOOL_SPACE, 8), np.random.default_rng(0), False)
        assert seen == [{1}]  # one thread inside the call ...
        assert blas_threads() == {2}  # ... and the process's setting back after it


def test_a_rollout_sets_the_blas_limit_once_and_restores_it():
    from threadpoolctl import threadpool_limits

    policy, seen = cnn_policy_recording_threads()
    limits = []
    limit = policy._blas.limit
    policy._blas.limit = lambda **kw: (limits.append(kw), limit(**kw))[1]
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=2, user_api="blas"):
        with policy.rollout():
            for _ in range(3):
                policy.act(random_images(BOOL_SPACE, 8), rng, False)
            assert blas_threads() == {1}  # held between the calls too ...
        assert blas_threads() == {2}  # ... and the process's setting back after the rollout
        policy.act(random_images(BOOL_SPACE, 8), rng, False)  # a lone call sets its own
    assert seen == [{1}] * 4
    assert len(limits) == 2  # once for the rollout, once for the lone call


def test_the_agents_rollout_acts_inside_the_policys_rollout_scope():
    from rl_ppo import PPO, PPOConfig

    from rl_core.config import apply_overrides

    small = {"env": "CartPole-v1", "num_envs": 2, "n_steps": 4, "minibatch_size": 8}
    agent = PPO(apply_overrides(PPOConfig(), small))
    inside, scope = [], {"open": False}

    @contextlib.contextmanager
    def rollout():
        scope["open"] = True
        yield
        scope["open"] = False

    act = agent.acting_policy.act
    agent.acting_policy.rollout = rollout
    agent.acting_policy.act = lambda *a, **k: (inside.append(scope["open"]), act(*a, **k))[1]
    agent.reset_envs()
    agent.collect_rollout()
    assert inside == [True] * 4 and not scope["open"]
