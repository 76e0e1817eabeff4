"""Network building blocks shared by the algorithm packages (imports TensorFlow).

- :mod:`~rl_core.networks.mlp`: ``Dense`` and ``MLP``, orthogonal (Saxe et al., 2014; the
  PPO implementation studies) or Glorot initialized (the Keras/Sonnet default of the HER,
  acme MPO and R2D2 references).
- :mod:`~rl_core.networks.conv`: the Nature CNN (Mnih et al., 2015) and MinAtar's CNN
  (Young & Tian, 2019).
- :mod:`~rl_core.networks.recurrent`: the LSTM cell of R2D2/NGU/Agent57.
- :mod:`~rl_core.networks.encoders`: the encoder chosen from an observation space.
"""

from rl_core.networks.conv import CNNS, Conv2D, ConvTorso, MinAtarCNN, NatureCNN
from rl_core.networks.encoders import (
    ACCEPTED,
    Encoder,
    UnsupportedObservationError,
    describe_space,
    encoder_for_space,
    image_scale,
    is_image_space,
    observation_kind,
)
from rl_core.networks.mlp import MLP, Dense, glorot, initial_weights, orthogonal
from rl_core.networks.recurrent import LSTM

__all__ = [
    "ACCEPTED",
    "CNNS",
    "LSTM",
    "MLP",
    "Conv2D",
    "ConvTorso",
    "Dense",
    "Encoder",
    "MinAtarCNN",
    "NatureCNN",
    "UnsupportedObservationError",
    "describe_space",
    "encoder_for_space",
    "glorot",
    "image_scale",
    "initial_weights",
    "is_image_space",
    "observation_kind",
    "orthogonal",
]
