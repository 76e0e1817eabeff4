"""HER's greedy goal-conditioned policy for ``rl export``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rl_core.export import ServingFunction, observation_inputs
from rl_her.normalizer import STD_FLOOR


def _mlp(weights: list[np.ndarray], x: tf.Tensor) -> tf.Tensor:
    """networks.mlp_numpy in TensorFlow: ReLU hidden layers, a linear output."""
    n = len(weights) // 2
    for i in range(n):
        x = x @ tf.constant(weights[2 * i]) + tf.constant(weights[2 * i + 1])
        if i < n - 1:
            x = tf.nn.relu(x)
    return x


def serving_function(agent) -> ServingFunction:
    """What :meth:`HER.predict` does with ``deterministic=True``, as TensorFlow ops over
    the acting weights: [observation, desired_goal] flattened, normalized with the frozen
    statistics (when the run normalizes), then argmax Q (Discrete) or the actor's tanh
    output (SAC: tanh of its mean) scaled to the action bounds (Box)."""
    inputs = observation_inputs(agent.envs.single_observation_space)
    inputs = {key: inputs[key] for key in ("observation", "desired_goal")}
    weights = [np.asarray(w, np.float32) for w in agent._acting_weights]
    norm = agent.normalizer
    if norm.enabled:
        mean = np.concatenate([norm.obs.mean, norm.goal.mean]).astype(np.float32)
        std = np.maximum(np.concatenate([norm.obs.std, norm.goal.std]), STD_FLOOR)
        std = std.astype(np.float32)
    action_space = agent.envs.single_action_space

    def serve(observation, desired_goal):
        o = tf.reshape(tf.cast(observation, tf.float32), [-1, agent.obs_dim])
        g = tf.reshape(tf.cast(desired_goal, tf.float32), [-1, agent.goal_dim])
        x = tf.concat([o, g], axis=1)
        if norm.enabled:
            x = tf.clip_by_value(x, -norm.obs_clip, norm.obs_clip)
            x = tf.clip_by_value((x - mean) / std, -norm.norm_clip, norm.norm_clip)
        out = _mlp(weights, x)
        if agent.kind == "dqn":
            if agent.config.dueling:
                out = out[:, :1] + out[:, 1:] - tf.reduce_mean(out[:, 1:], -1, keepdims=True)
            return {"actions": tf.argmax(out, axis=-1) + int(action_space.start)}
        if agent.kind == "sac":  # mean and log std: the greedy action is tanh(mean)
            out = out[:, : agent.action_dim]
        low = tf.constant(agent.action_low, tf.float32)
        high = tf.constant(agent.action_high, tf.float32)
        actions = low + (tf.tanh(out) + 1.0) * 0.5 * (high - low)
        return {"actions": tf.reshape(actions, [-1, *action_space.shape])}

    note = "greedy HER policy over observation and desired_goal" + (
        ", input normalization inside" if norm.enabled else ""
    )
    return ServingFunction(serve, inputs, [], note)
