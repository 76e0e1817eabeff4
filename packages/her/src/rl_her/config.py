"""HER settings. Defaults are the HER paper's (Andrychowicz et al., 2017, App. A: k = 4
future goals, three 256-unit layers, batch 256, Adam 1e-3, gamma 0.98, polyak 0.95, uniform
replay): general purpose, tuned to no env. Env-specific tuning lives in presets
(``presets/``) that the CLI picks by env id: the default env rl/BitFlipping-v0 gets
``bitflip`` (the paper's one-layer bit-flipping network, Double DQN with prioritized
replay); the Python API (``HER(HERConfig(...))``) gets these plain defaults."""

from __future__ import annotations

from dataclasses import dataclass

from rl_core.config import BaseConfig

STRATEGIES = ("future", "final", "episode", "random", "none")
LEARNERS = ("auto", "dqn", "td3", "ddpg", "sac")


@dataclass
class HERConfig(BaseConfig):
    """Hindsight Experience Replay (Andrychowicz et al., 2017) with DQN, DDPG, TD3 or SAC."""

    env: str = "rl/BitFlipping-v0"
    """Gymnasium id of a goal env: Dict observations (observation, achieved_goal,
    desired_goal) and a vectorized ``compute_reward(achieved_goal, desired_goal, info)``."""
    total_steps: int = 100_000
    """Environment steps to train for (summed over parallel envs)."""
    eval_episodes: int = 100
    """Episodes of the final greedy evaluation (the success rate is over these)."""
    learner: str = "auto"
    """auto (dqn for Discrete actions, td3 for Box), dqn, td3, ddpg or sac."""

    # --- hindsight relabeling
    strategy: str = "future"
    """Where relabeled goals come from: future, final, episode, random, or none (no HER)."""
    n_sampled_goal: int = 4
    """k: relabeled goals per real one; a sampled transition is relabeled with p = k/(k+1)."""

    # --- replay
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (each stored once; relabeling happens at sample time)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_starts: int = 1_000
    """Env steps of uniformly random actions before learning starts."""
    replay_ratio: float = 1.0
    """Gradient steps per environment step."""
    train_every: int = 4
    """Vector steps between updates; one update runs all the gradient steps owed since
    the last one inside a single graph call."""
    checkpoint_replay: bool = True
    """Checkpoints carry the replay buffer (replay.npz), so a resume continues from the same
    data; it costs disk and checkpoint time of the order of the buffer's memory (obs,
    goals and actions per stored transition) for each kept checkpoint. Off: a resume
    refills learning_starts transitions before training again."""
    prioritized: bool = False
    """Proportional prioritized replay (Schaul et al., 2016) over stored transitions."""
    priority_alpha: float = 0.6
    """Prioritization exponent alpha: P(i) ~ (|delta_i| + eps)^alpha."""
    priority_beta: float = 0.4
    """Initial importance-sampling exponent beta, annealed linearly to 1 over total_steps."""
    priority_eps: float = 1e-6
    """Added to |TD error| so that every transition keeps a chance to be replayed."""

    # --- learning (shared)
    num_envs: int = 16
    """Parallel environments (one batched action call per vector step)."""
    gamma: float = 0.98
    """Discount factor."""
    n_step: int = 1
    """n-step returns; rewards over the window are recomputed for the relabeled goal."""
    learning_rate: float = 1e-3
    """Adam step size (critic and actor)."""
    hidden_sizes: tuple[int, ...] = (256, 256, 256)
    """Hidden layer widths of every network (ReLU)."""
    max_grad_norm: float = 10.0
    """Global gradient-norm clip (0 = off)."""
    tau: float = 0.05
    """Polyak coefficient of the target networks per target update (1 = hard copies)."""
    target_update_interval: int | None = None
    """Gradient steps between target updates (TD3: delayed actor steps between them);
    unset: 1 for DQN, 40 gradient steps for DDPG/TD3/SAC (the HER paper and baselines:
    polyak 0.95 once per 40 minibatches, 40x slower than every step)."""

    # --- stabilizers (HER paper, OpenAI baselines' her)
    normalize_inputs: bool = True
    """Running mean/std normalization of observations and goals (saved with the policy), as
    in the paper, for every learner: on bit flipping it also halves DQN's steps to 0.95 at
    n = 25 and 50 (see the README's measurements)."""
    obs_clip: float = 200.0
    """Raw observations and goals are clipped to +-obs_clip before normalizing (baselines'
    clip_obs)."""
    norm_clip: float = 5.0
    """Normalized observations and goals are clipped to +-norm_clip (baselines' norm_clip)."""
    clip_target: bool = True
    """Clip critic targets to [-1/(1 - gamma), 0], the returns possible with the goal envs'
    rewards in [-1, 0] (baselines' clip_return); turn off for other rewards."""

    # --- DQN
    double_q: bool = True
    """Double DQN: the online network picks the next action, the target network values it."""
    dueling: bool = False
    """Dueling head: Q = V + A - mean(A)."""
    huber_delta: float = 1.0
    """Huber loss threshold (the loss is quadratic within it, linear outside)."""
    exploration_initial: float = 0.5
    """Epsilon-greedy: epsilon when learning starts."""
    exploration_final: float = 0.02
    """Epsilon-greedy: epsilon after the decay."""
    exploration_fraction: float = 0.3
    """Fraction of total_steps over which epsilon decays linearly."""

    # --- DDPG / TD3
    action_noise: float = 0.2
    """Std of the Gaussian exploration noise, as a fraction of the action range half-width."""
    random_action_prob: float = 0.2
    """Probability of a uniformly random action while acting (HER paper: 0.2)."""
    policy_delay: int = 2
    """TD3: critic steps per actor and target update (DDPG: always 1)."""
    target_noise: float = 0.2
    """TD3 target policy smoothing: noise std (normalized actions)."""
    target_noise_clip: float = 0.5
    """TD3 target policy smoothing: noise clip (normalized actions)."""
    action_l2: float = 1.0
    """Weight of the L2 penalty on normalized actor actions (HER paper: 1.0; SAC: on the
    sampled action)."""

    # --- SAC
    alpha_init: float = 1.0
    """SAC: initial temperature alpha (Stable-Baselines3's ent_coef='auto' starts at 1)."""
    learn_alpha: bool = True
    """SAC: tune alpha towards target_entropy (Haarnoja et al., 2018b); off: alpha stays
    alpha_init."""
    target_entropy: float | None = None
    """SAC: entropy target of the temperature loss; unset: -dim(actions) (the paper's)."""

    xla: bool = True
    """XLA-compile the update (about 3x faster gradient steps on a CPU; ~5 s to compile)."""
    log_every: int = 1_000
    """Environment steps between log records."""

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            f"strategy must be one of {', '.join(STRATEGIES)}": self.strategy in STRATEGIES,
            f"learner must be one of {', '.join(LEARNERS)}": self.learner in LEARNERS,
            "n_sampled_goal must be >= 0": self.n_sampled_goal >= 0,
            "buffer_size must be >= 1": self.buffer_size >= 1,
            "batch_size must be >= 1": self.batch_size >= 1,
            "learning_starts must be >= 0": self.learning_starts >= 0,
            "replay_ratio must be > 0": self.replay_ratio > 0,
            "train_every must be >= 1": self.train_every >= 1,
            "priority_alpha must be >= 0": self.priority_alpha >= 0,
            "priority_beta must be in [0, 1]": 0 <= self.priority_beta <= 1,
            "priority_eps must be > 0": self.priority_eps > 0,
            "num_envs must be >= 1": self.num_envs >= 1,
            "gamma must be in [0, 1]": 0 <= self.gamma <= 1,
            "n_step must be >= 1": self.n_step >= 1,
            "learning_rate must be > 0": self.learning_rate > 0,
            "hidden_sizes must be positive": all(h > 0 for h in self.hidden_sizes),
            "max_grad_norm must be >= 0": self.max_grad_norm >= 0,
            "tau must be in (0, 1]": 0 < self.tau <= 1,
            "target_update_interval must be >= 1": (
                self.target_update_interval is None or self.target_update_interval >= 1
            ),
            "obs_clip must be > 0": self.obs_clip > 0,
            "norm_clip must be > 0": self.norm_clip > 0,
            "huber_delta must be > 0": self.huber_delta > 0,
            "exploration_initial must be in [0, 1]": 0 <= self.exploration_initial <= 1,
            "exploration_final must be in [0, 1]": 0 <= self.exploration_final <= 1,
            "exploration_fraction must be in (0, 1]": 0 < self.exploration_fraction <= 1,
            "action_noise must be >= 0": self.action_noise >= 0,
            "random_action_prob must be in [0, 1]": 0 <= self.random_action_prob <= 1,
            "policy_delay must be >= 1": self.policy_delay >= 1,
            "target_noise must be >= 0": self.target_noise >= 0,
            "target_noise_clip must be >= 0": self.target_noise_clip >= 0,
            "action_l2 must be >= 0": self.action_l2 >= 0,
            "alpha_init must be > 0": self.alpha_init > 0,
            "log_every must be >= 1": self.log_every >= 1,
        }
        for message, ok in checks.items():
            if not ok:
                raise ValueError(message)

    def target_every(self, learner: str) -> int:
        """``target_update_interval`` for ``learner`` (dqn, ddpg, td3 or sac), the default
        filled in."""
        if self.target_update_interval is not None:
            return self.target_update_interval
        if learner == "dqn":
            return 1
        # TD3 updates its targets on delayed actor steps: 40 gradient steps apart.
        return max(40 // self.policy_delay, 1) if learner == "td3" else 40

    def target_range(self) -> tuple[float, float]:
        """[-1/(1 - gamma), 0] where targets are clipped, else (-inf, inf)."""
        if not self.clip_target:
            return (-float("inf"), float("inf"))
        return (-1.0 / (1.0 - self.gamma) if self.gamma < 1 else -float("inf"), 0.0)

    @property
    def her_ratio(self) -> float:
        """Probability that a sampled transition gets a relabeled goal: k / (k + 1)."""
        if self.strategy == "none":
            return 0.0
        return self.n_sampled_goal / (self.n_sampled_goal + 1)
