"""PPO settings. Defaults are Stable-Baselines3's (the PPO paper's MuJoCo values): general
purpose, tuned to no env. Env-specific tuning lives in presets (``presets/``): the CLI picks
the one made for ``--env`` (CartPole-v1: ``cartpole``, rl-zoo3's tuning); the Python API
(``PPO(PPOConfig(...))``) gets these plain defaults, as SB3 does."""

from __future__ import annotations

from dataclasses import dataclass

from rl_core.config import BaseConfig


@dataclass
class PPOConfig(BaseConfig):
    """Proximal Policy Optimization (Schulman et al., 2017) with GAE."""

    env: str = "CartPole-v1"
    """Gymnasium environment id. Observations: flat Box, image Box (H x W x C, uint8 or
    bool), Discrete, MultiBinary, or a Dict of these; actions: Discrete or Box."""
    total_steps: int = 100_000
    """Environment steps to train for (summed over parallel envs). The lr and clip schedules
    anneal over each learn() call; `rl train` and `rl resume` learn up to this."""
    checkpoint_every: int = 25_000
    """Environment steps between checkpoints (a killed run loses at most this many)."""
    eval_episodes: int = 20
    """Episodes of the final greedy evaluation."""
    num_envs: int = 8
    """Parallel environments."""
    vectorization: str = "auto"
    """How the parallel envs step: sync (Gymnasium's SyncVectorEnv), async (subprocesses),
    numpy (rl_core's array implementation: CartPole-v1) or auto (numpy where it exists,
    else sync)."""
    n_steps: int = 256
    """Steps per environment per rollout; a rollout is num_envs * n_steps transitions
    (8 * 256 = 2048, SB3's and the paper's horizon, collected from 8 envs)."""
    n_epochs: int = 10
    """Passes over each rollout."""
    minibatch_size: int = 64
    """Transitions per gradient step; must divide num_envs * n_steps."""
    learning_rate: float = 3e-4
    """Adam step size at the start of training."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 at the end of the current learn() call."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda: bias (0) vs variance (1) of the advantage estimate."""
    clip_range: float = 0.2
    """PPO ratio clip epsilon."""
    anneal_clip_range: bool = False
    """Decay the clip range linearly to 0 at the end of the current learn() call."""
    clip_value_loss: bool = False
    """Clip the value update around the old value estimate (by clip_value_range)."""
    clip_value_range: float = 0.2
    """Range for value clipping, in the units of the (scaled) returns."""
    normalize_advantages: bool = True
    """Normalize advantages per minibatch."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient (the loss is the mean squared error, as in SB3)."""
    max_grad_norm: float = 0.5
    """Clip the global gradient norm to this."""
    target_kl: float = 0.0
    """Stop an update's epochs early once the approximate KL exceeds this; 0 disables."""
    shared_network: bool = False
    """One torso with policy and value heads (True) or two separate networks (SB3's default)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the MLP (flat, one-hot and Dict observations; a lone image
    goes through its CNN only, which ends in its own dense layer)."""
    cnn: str = "auto"
    """CNN for image observations: nature (Mnih et al., 2015; 84x84 Atari frames),
    minatar (Young & Tian, 2019; 10x10 grids) or auto (nature from 36x36 up)."""
    activation: str = "tanh"
    """Hidden activation: tanh or relu."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (continuous actions)."""
    normalize_observations: bool = False
    """Normalize observations by running mean/std (stats saved with the policy). Flat Box
    observations only: with images, Discrete or Dict observations it is an error."""
    clip_reward: bool = False
    """Learn from the sign of each reward (-1, 0, +1), as the Atari agents do (Mnih et al.,
    2015); episode returns, charts/episodic_return and evaluation keep the game score."""
    scale_rewards: bool = False
    """Divide rewards by the running std of the discounted return."""
    clip_observations: float = 10.0
    """Clip normalized observations to +-this."""
    adam_eps: float = 1e-5
    """Adam epsilon."""
    adam_eps_after_correction: bool = False
    """Add adam_eps to Adam's bias-corrected sqrt(v_hat), as Kingma & Ba's Algorithm 1,
    PyTorch, SB3 and CleanRL do; false adds it before the correction, as TensorFlow does
    (a larger effective epsilon over the first ~2,000 steps)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        batch = self.num_envs * self.n_steps
        checks = {
            "num_envs must be >= 1": self.num_envs >= 1,
            "vectorization must be sync, async, numpy or auto": self.vectorization
            in ("sync", "async", "numpy", "auto"),
            "n_steps must be >= 1": self.n_steps >= 1,
            "n_epochs must be >= 1": self.n_epochs >= 1,
            f"minibatch_size must divide num_envs * n_steps = {batch}": (
                1 <= self.minibatch_size <= batch and batch % self.minibatch_size == 0
            ),
            "learning_rate must be > 0": self.learning_rate > 0,
            "gamma must be in [0, 1]": 0 <= self.gamma <= 1,
            "gae_lambda must be in [0, 1]": 0 <= self.gae_lambda <= 1,
            "clip_range must be > 0": self.clip_range > 0,
            "clip_value_range must be > 0": self.clip_value_range > 0,
            "ent_coef must be >= 0": self.ent_coef >= 0,
            "vf_coef must be >= 0": self.vf_coef >= 0,
            "adam_eps must be > 0": self.adam_eps > 0,
            "clip_observations must be > 0": self.clip_observations > 0,
            "max_grad_norm must be > 0": self.max_grad_norm > 0,
            "target_kl must be >= 0": self.target_kl >= 0,
            "activation must be tanh or relu": self.activation in ("tanh", "relu"),
            "cnn must be auto, nature or minatar": self.cnn in ("auto", "nature", "minatar"),
            "hidden_sizes must be positive": all(h > 0 for h in self.hidden_sizes),
        }
        for message, ok in checks.items():
            if not ok:
                raise ValueError(message)
