"""PPO's greedy policy for ``rl export``: normalization, the network, action scaling."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.export import ServingFunction, observation_inputs


def serving_function(agent) -> ServingFunction:
    """What :meth:`PPO.predict` does with ``deterministic=True``, as TensorFlow ops:
    flatten, normalize with the frozen running statistics (clipped), argmax of the logits
    (plus ``Discrete.start``) or the Gaussian mean clipped to the action bounds."""
    obs_space = agent.envs.single_observation_space
    action_space = agent.envs.single_action_space
    rms = agent.obs_rms
    if rms is not None:
        mean = tf.constant(rms.mean, tf.float32)
        std = tf.constant(np.sqrt(rms.var + 1e-8), tf.float32)  # as RunningMeanStd.normalize
        clip = float(agent.config.clip_observations)

    def serve(observations):
        x = tf.reshape(tf.cast(observations, tf.float32), [-1, agent.obs_dim])
        if rms is not None:
            x = tf.clip_by_value((x - mean) / std, -clip, clip)
        out = agent.model.pi_head(agent.model.pi_torso(x))
        if isinstance(action_space, spaces.Discrete):
            return {"actions": tf.argmax(out, axis=-1) + int(action_space.start)}
        low = tf.constant(action_space.low.reshape(-1), tf.float32)
        high = tf.constant(action_space.high.reshape(-1), tf.float32)
        actions = tf.clip_by_value(out, low, high)
        return {"actions": tf.reshape(actions, [-1, *action_space.shape])}

    note = "greedy PPO policy" + (", observation normalization inside" if rms else "")
    return ServingFunction(serve, observation_inputs(obs_space), [agent.model], note)
