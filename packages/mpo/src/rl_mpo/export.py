"""MPO's greedy policy for ``rl export``: the network and the action scaling."""

from __future__ import annotations

import tensorflow as tf
from gymnasium import spaces

from rl_core.export import ServingFunction, observation_inputs


def serving_function(agent) -> ServingFunction:
    """What :meth:`MPO.predict` does with ``deterministic=True``, as TensorFlow ops: the
    argmax of the logits (plus ``Discrete.start``), or the Gaussian mean clipped to
    [-1, 1] and scaled to the action bounds."""
    obs_space = agent.envs.single_observation_space
    action_space = agent.envs.single_action_space

    def serve(observations):
        x = tf.reshape(tf.cast(observations, tf.float32), [-1, agent.obs_dim])
        out, _ = agent.policy(x)
        if isinstance(action_space, spaces.Discrete):
            return {"actions": tf.argmax(out, axis=-1) + int(action_space.start)}
        low = tf.constant(action_space.low.reshape(-1), tf.float32)
        high = tf.constant(action_space.high.reshape(-1), tf.float32)
        unit = tf.clip_by_value(out, -1.0, 1.0)
        actions = low + (unit + 1.0) * 0.5 * (high - low)
        return {"actions": tf.reshape(actions, [-1, *action_space.shape])}

    return ServingFunction(
        serve, observation_inputs(obs_space), [agent.policy], "greedy MPO policy"
    )
