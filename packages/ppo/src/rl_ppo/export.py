"""PPO's greedy policy for ``rl export``: normalization, the network, action scaling."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from rl_core.export import ServingFunction, observation_inputs


def serving_function(agent) -> ServingFunction:
    """What :meth:`PPO.predict` does with ``deterministic=True``, as TensorFlow ops:
    flat observations flattened and normalized with the frozen running statistics
    (clipped); images, ``Discrete`` and ``Dict`` observations straight into the encoder
    (which scales and one-hots them); then the argmax of the logits (plus
    ``Discrete.start``) or the Gaussian mean clipped to the action bounds."""
    obs_space = agent.envs.single_observation_space
    action_space = agent.envs.single_action_space
    rms = agent.obs_rms
    if rms is not None:
        mean = tf.constant(rms.mean, tf.float32)
        std = tf.constant(np.sqrt(rms.var + 1e-8), tf.float32)  # as RunningMeanStd.normalize
        clip = float(agent.config.clip_observations)

    def serve(**inputs):
        # A Dict space's keys are the inputs; any other space is one input, "observations".
        obs = inputs if isinstance(obs_space, spaces.Dict) else inputs["observations"]
        if agent.obs_dim is not None:
            obs = tf.reshape(tf.cast(obs, tf.float32), [-1, agent.obs_dim])
            if rms is not None:
                obs = tf.clip_by_value((obs - mean) / std, -clip, clip)
        out = agent.model.policy_head(obs)
        if isinstance(action_space, spaces.Discrete):
            return {"actions": tf.argmax(out, axis=-1) + int(action_space.start)}
        low = tf.constant(action_space.low.reshape(-1), tf.float32)
        high = tf.constant(action_space.high.reshape(-1), tf.float32)
        actions = tf.clip_by_value(out, low, high)
        return {"actions": tf.reshape(actions, [-1, *action_space.shape])}

    note = "greedy PPO policy" + (", observation normalization inside" if rms else "")
    return ServingFunction(serve, observation_inputs(obs_space), [agent.model], note)
