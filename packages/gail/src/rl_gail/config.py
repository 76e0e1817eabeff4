"""GAIL settings: PPO's (the generator's) plus the discriminator's and the demonstrations'."""

from __future__ import annotations

from dataclasses import dataclass

from rl_ppo.config import PPOConfig

REWARDS = ("auto", "positive", "negative", "logit", "constant")


@dataclass
class GAILConfig(PPOConfig):
    """Generative Adversarial Imitation Learning (Ho & Ermon, 2016) with a PPO generator.

    The generator's defaults are PPO's (Stable-Baselines3's, general purpose); the CLI picks
    the preset made for ``--env`` (CartPole-v1: ``cartpole``, PPO's CartPole tuning), the
    Python API gets these plain defaults."""

    total_steps: int = 200_000
    """Generator environment steps to train for (summed over parallel envs)."""
    checkpoint_every: int = 50_000
    """Environment steps between checkpoints (a killed run loses at most this many)."""
    demos: str = ""
    """Expert demonstrations: a Minari dataset (its directory, the folder given to
    `rl gail record --out` when it holds one dataset, or the id of a local one) or an .npz
    with `observations` and `actions` (optionally `episode_lengths`, `episode_returns`,
    `episode_terminated`). Empty: the demonstrations bundled for the env (CartPole-v1,
    Pendulum-v1, MountainCar-v0, Acrobot-v1, HalfCheetah-v5, Hopper-v5: 10 expert episodes
    each)."""
    demo_episodes: int = 0
    """Use only the first this many expert episodes (0: all of them)."""
    reward: str = "auto"
    """The generator's reward from D = P(expert | s, a): positive = -log(1 - D),
    negative = log D, logit = log D - log(1 - D); constant = 1 ignores D (a control);
    auto = logit when some expert episode terminated (an expert that ends its episodes
    by succeeding), positive when none did (an expert that lasts to the time limit).
    The env's reward is never used."""
    absorbing_states: bool = True
    """Score the absorbing state after a true termination with D (Kostrikov et al., 2019):
    expert and agent episodes that terminate continue into it, and the generator's
    terminal step earns its discounted value. Time-limit truncations are not terminal."""
    absorbing_weight: float = 1.0
    """Weight of an absorbing transition in D's loss, against 1 for any other pair. 1: one
    transition per termination, as in DAC's replay. 1 / (1 - gamma) (100 at gamma 0.99):
    the discounted number of visits to s_a that one termination stands for, the weight
    r(s_a) carries in the generator's return. On Hopper-v5 (only the agent's episodes
    terminate) it kept r(s_a) lower and did not improve the return
    (benchmarks/gail_notes.md)."""
    disc_hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the discriminator MLP."""
    disc_head_scale: float = 1.0
    """Scale of the orthogonal initialization of D's output layer; 0.01 starts D near
    indifferent (D about 1/2 for every pair)."""
    disc_learning_rate: float = 3e-4
    """Adam step size of the discriminator (0 freezes D at its random initialization: a
    control for benchmarks)."""
    disc_minibatch_size: int = 256
    """Agent transitions per discriminator step (with as many expert transitions)."""
    disc_epochs: int = 1
    """Passes of the discriminator over each rollout."""
    disc_normalize_inputs: bool = True
    """Standardize the discriminator's observations with running statistics of expert and
    agent data."""
    grad_penalty: float = 0.0
    """Weight of the gradient penalty on D at expert/agent interpolates (0: off; 10 is usual)."""
    disc_ent_coef: float = 0.0
    """Bonus on the entropy of D's Bernoulli output (keeps D from saturating; 0: off)."""
    bc_epochs: int = 0
    """Behaviour-cloning epochs on the demonstrations before GAIL starts (0: no warm start)."""
    bc_learning_rate: float = 1e-3
    """Adam step size of the behaviour-cloning warm start."""

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            f"reward must be one of {', '.join(REWARDS)}": self.reward in REWARDS,
            "demo_episodes must be >= 0": self.demo_episodes >= 0,
            "absorbing_weight must be > 0": self.absorbing_weight > 0,
            "disc_head_scale must be > 0": self.disc_head_scale > 0,
            "disc_hidden_sizes must be positive": all(h > 0 for h in self.disc_hidden_sizes),
            "disc_learning_rate must be >= 0": self.disc_learning_rate >= 0,
            "disc_minibatch_size must be >= 1": self.disc_minibatch_size >= 1,
            "disc_epochs must be >= 1": self.disc_epochs >= 1,
            "grad_penalty must be >= 0": self.grad_penalty >= 0,
            "disc_ent_coef must be >= 0": self.disc_ent_coef >= 0,
            "bc_epochs must be >= 0": self.bc_epochs >= 0,
            "bc_learning_rate must be > 0": self.bc_learning_rate > 0,
        }
        for message, ok in checks.items():
            if not ok:
                raise ValueError(message)
