"""MPO settings. Defaults are acme's MPO agent's (epsilons, learning rates, batch, target
period, n-step, 32 samples per insert) with two 256-unit layers per network (SB3's size
for off-policy MLPs; acme's control-suite example uses 256-256-256 / 512-512-256, which
ran at 15 env steps/s on a shared 2-core CPU): general purpose, tuned to no env.
Env-specific tuning lives in presets (``presets/``) that the CLI picks by env id
(Pendulum-v1: ``pendulum``, smaller networks and larger learning rates measured to solve
it in 20k steps); the Python API (``MPO(MPOConfig(...))``) gets these plain defaults."""

from __future__ import annotations

from dataclasses import dataclass

from rl_core.config import BaseConfig


@dataclass
class MPOConfig(BaseConfig):
    """Maximum a Posteriori Policy Optimisation (Abdolmaleki et al., 2018), decoupled KL."""

    env: str = "Pendulum-v1"
    """Gymnasium environment id (Box observations; Box or Discrete actions)."""
    total_steps: int = 100_000
    """Environment steps to train for (summed over parallel envs)."""
    num_envs: int = 1
    """Parallel environments (a Gymnasium sync vector env)."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    learning_starts: int = 1_000
    """Environment steps collected before the first gradient step (acme's min_replay_size)."""
    checkpoint_replay: bool = True
    """Checkpoints carry the replay buffer (replay.npz), so a resume continues from the same
    data; it costs disk and checkpoint time of the order of the buffer's memory for each
    kept checkpoint. Off: a resume refills learning_starts items before training again."""
    batch_size: int = 256
    """Transitions per gradient step."""
    replay_ratio: float = 0.125
    """Gradient steps per environment step (acme: 32 samples per insert / batch 256)."""
    steps_per_update: int = 50
    """Vector steps collected between learner calls; their gradient steps run in one graph call."""
    n_step: int = 5
    """Horizon of the critic's target: n-step TD, or the length of the Retrace sequences."""
    critic_target: str = "nstep"
    """Critic target: nstep (n-step TD to E_pi Q_target) or retrace (Retrace(lambda) on
    replayed length-n_step sequences, with the behaviour log-probabilities stored at acting)."""
    retrace_lambda: float = 0.95
    """Retrace trace decay lambda in c = lambda min(1, pi/mu) (acme's default)."""
    gamma: float = 0.99
    """Discount factor."""
    num_samples: int = 20
    """Actions sampled per state from the target policy for the E-step (continuous actions)."""
    epsilon: float = 0.1
    """KL bound of the non-parametric E-step (the temperature's dual)."""
    epsilon_mean: float = 2.5e-3
    """KL bound on the change of the policy mean (decoupled M-step)."""
    epsilon_stddev: float = 1e-6
    """KL bound on the change of the policy covariance (decoupled M-step)."""
    epsilon_categorical: float = 0.01
    """KL bound of the M-step for a categorical policy (discrete actions)."""
    per_dim_constraining: bool = True
    """One KL constraint and multiplier per action dimension (diagonal Gaussian only)."""
    action_penalization: bool = True
    """MO-MPO action penalty: a second E-step objective -||a - clip(a, -1, 1)|| (continuous)."""
    epsilon_penalty: float = 1e-3
    """KL bound of the action-penalty objective."""
    init_log_temperature: float = 1.0
    """Initial pre-softplus temperature (eta = softplus(this)). acme's older value; its
    current (10, 10, 1000) for the three duals measured no better (package README)."""
    init_log_alpha_mean: float = 1.0
    """Initial pre-softplus Lagrange multiplier of the mean constraint."""
    init_log_alpha_stddev: float = 10.0
    """Initial pre-softplus Lagrange multiplier of the covariance constraint."""
    covariance: str = "diagonal"
    """Gaussian covariance: diagonal (per-dimension scale) or full (Cholesky factor)."""
    init_scale: float = 0.7
    """Initial policy standard deviation (in actions scaled to [-1, 1])."""
    min_scale: float = 1e-6
    """Lower bound added to the policy standard deviation."""
    policy_hidden_sizes: tuple[int, ...] = (256, 256)
    """Policy MLP widths (first layer: Dense + LayerNorm + tanh; then ELU, as acme)."""
    critic_hidden_sizes: tuple[int, ...] = (256, 256)
    """Critic MLP widths (first layer: Dense + LayerNorm + tanh; then ELU, as acme)."""
    policy_learning_rate: float = 1e-4
    """Adam step size of the policy."""
    critic_learning_rate: float = 1e-4
    """Adam step size of the critic."""
    dual_learning_rate: float = 1e-2
    """Adam step size of the temperature(s) and the Lagrange multipliers."""
    max_grad_norm: float = 40.0
    """Clip each network's global gradient norm to this."""
    target_update_period: int = 100
    """Gradient steps between hard copies of the online networks into the targets."""
    jit_compile: bool = True
    """Compile the update with XLA (fuses the many small elementwise ops: ~1.8x less CPU
    time per gradient step on Pendulum-v1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            "num_envs must be >= 1": self.num_envs >= 1,
            "buffer_size must be >= batch_size": self.buffer_size >= self.batch_size >= 1,
            "learning_starts must be >= 0": self.learning_starts >= 0,
            "replay_ratio must be > 0": self.replay_ratio > 0,
            "steps_per_update must be >= 1": self.steps_per_update >= 1,
            "n_step must be >= 1": self.n_step >= 1,
            "critic_target must be nstep or retrace": self.critic_target in ("nstep", "retrace"),
            "retrace_lambda must be in [0, 1]": 0 <= self.retrace_lambda <= 1,
            "gamma must be in [0, 1]": 0 <= self.gamma <= 1,
            "num_samples must be >= 1": self.num_samples >= 1,
            "epsilon must be > 0": self.epsilon > 0,
            "epsilon_mean must be > 0": self.epsilon_mean > 0,
            "epsilon_stddev must be > 0": self.epsilon_stddev > 0,
            "epsilon_categorical must be > 0": self.epsilon_categorical > 0,
            "epsilon_penalty must be > 0": self.epsilon_penalty > 0,
            "covariance must be diagonal or full": self.covariance in ("diagonal", "full"),
            "init_scale must be > 0": self.init_scale > 0,
            "min_scale must be >= 0": self.min_scale >= 0,
            "hidden sizes must be positive and non-empty": bool(self.policy_hidden_sizes)
            and bool(self.critic_hidden_sizes)
            and all(h > 0 for h in (*self.policy_hidden_sizes, *self.critic_hidden_sizes)),
            "learning rates must be > 0": min(
                self.policy_learning_rate, self.critic_learning_rate, self.dual_learning_rate
            )
            > 0,
            "max_grad_norm must be > 0": self.max_grad_norm > 0,
            "target_update_period must be >= 1": self.target_update_period >= 1,
        }
        for message, ok in checks.items():
            if not ok:
                raise ValueError(message)
