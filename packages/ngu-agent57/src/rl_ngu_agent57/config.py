"""NGU and Agent57 settings. Defaults are the papers' values scaled down for small vector
envs on a few CPU cores (sequences a quarter of R2D2's, smaller networks and memories); the
paper values (for Atari at scale) are named in each field's help where they differ.
Env-specific tuning lives in presets (``presets/``) that the CLI picks by env id: the default
env rl/DeepSea-v0 gets ``deepsea`` (size 20, N = 20 policies); the Python API
(``NGU(NGUConfig(...))``) gets these plain defaults."""

from __future__ import annotations

from dataclasses import dataclass

from rl_core.config import BaseConfig
from rl_core.errors import ConfigError


@dataclass
class CommonConfig(BaseConfig):
    """Settings NGU and Agent57 share: the R2D2 core, replay and the intrinsic reward."""

    env: str = "rl/DeepSea-v0"
    """Gymnasium environment id: image (H x W x C uint8 or bool), Box, MultiBinary,
    Discrete or Dict observations (a Dict's image with its Discrete or binary parts as
    extra planes: rl_ngu_agent57.observations); Discrete actions, or Box with action_bins."""
    total_steps: int = 50_000
    """Environment steps to train for (summed over actor slots)."""
    checkpoint_every: int = 25_000
    """Environment steps between checkpoints (they carry the replay: checkpoint_replay)."""
    eval_episodes: int = 20
    """Episodes of the final greedy evaluation."""
    action_bins: int = 0
    """Discretize a Box action space into this many values per dimension (0: Discrete only)."""
    num_envs: int = 8
    """Actor slots: environments stepped together, each with its own epsilon (and j)."""
    num_policies: int = 8
    """N, the number of exploration policies (beta_j, gamma_j) of the UVFA (paper: 32)."""
    intrinsic_beta: float = 0.3
    """beta, the largest intrinsic reward weight (beta_{N-1}; NGU, Agent57: 0.3); 0 turns
    NGU into R2D2. The cartpole preset gives NGU 0.03."""
    epsilon: float = 0.4
    """Ape-X actor epsilons eps_i = epsilon^(1 + epsilon_alpha * i / (num_envs - 1))."""
    epsilon_alpha: float = 7.0
    """Exponent spread of the per-actor epsilons."""
    hidden_sizes: tuple[int, ...] = (64,)
    """Widths of the observation torso (and of the embedding and RND networks); with image
    observations only of the inverse-dynamics classifier (NGU: 128), the others use the
    CNN (``cnn``)."""
    cnn: str = "auto"
    """The torso of image observations: "nature" (Mnih et al., 2015: 32 8x8/4, 64 4x4/2,
    64 3x3/1, dense 512; R2D2, NGU, Agent57), "minatar" (Young & Tian, 2019: 16 3x3/1,
    dense 128) or "auto" (nature from 36x36 up, minatar below)."""
    lstm_units: int = 64
    """LSTM width (paper: 512)."""
    burn_in: int = 10
    """Steps at a sequence start that only warm up the stored recurrent state (paper: 40)."""
    unroll_length: int = 20
    """Trained steps per sequence after the burn-in (paper: 80)."""
    sequence_period: int = 10
    """Steps between the starts of consecutive sequences (paper: 40, half overlap)."""
    batch_size: int = 32
    """Sequences per gradient step (paper: 64)."""
    replay_capacity: int = 10_000
    """Sequences the prioritized replay holds."""
    learning_starts: int = 100
    """Sequences in the replay before learning starts."""
    checkpoint_replay: bool = True
    """Checkpoints carry the sequence replay and its priorities (replay.npz), so a resume
    continues from the same data; it costs disk and checkpoint time of the order of the
    replay's memory (replay_capacity sequences of burn_in + unroll_length steps) for each
    kept checkpoint. Off: a resume refills learning_starts sequences before training
    again. Distributed (Ray) runs never carry it."""
    train_every: int = 1
    """Vector-env steps between gradient steps (the replay ratio; a distributed run keeps
    the same ratio between the actors' steps and the learner's unless replay_ratio is
    "float")."""
    replay_ratio: str = "fixed"
    """Distributed runs: "fixed" holds the learner to one gradient step per train_every
    vector steps of the actors, either side waiting for the other (acme's rate limiter: a
    Ray run learns like a single-process one); "float" lets each side go as fast as it
    can, as in Ape-X, so that more actors collect more data instead of waiting for the
    learner. `distributed/updates_per_env_step` logs the ratio a run had."""
    weight_sync_period: int = 10
    """Distributed runs: learner steps between broadcasts of the weights to the actors."""
    priority_exponent: float = 0.9
    """Prioritized replay alpha (R2D2: 0.9)."""
    importance_sampling_exponent: float = 0.6
    """Prioritized replay importance-sampling beta (R2D2: 0.6)."""
    priority_eta: float = 0.9
    """Sequence priority eta * max|delta| + (1 - eta) * mean|delta| (R2D2: 0.9)."""
    learning_rate: float = 5e-4
    """Adam step size of the Q-networks (paper: 1e-4, 2e-4 for Agent57)."""
    novelty_learning_rate: float = 5e-4
    """Adam step size of the embedding and RND networks (paper: 5e-4)."""
    adam_eps: float = 1e-4
    """Adam epsilon (paper: 1e-3 in R2D2, 1e-4 in NGU)."""
    max_grad_norm: float = 40.0
    """Clip the Q-networks' gradient norm to this (per network, see ``grad_clip``)."""
    grad_clip: str = "per_head"
    """"per_head": each Q-network's gradient norm is clipped on its own (Agent57's two
    networks are trained as separate networks); "global": one norm over both (the first
    version). NGU has one network, where both are the same."""
    retrace_lambda: float = 0.95
    """lambda of the Retrace traces c = lambda min(1, pi/mu) (NGU, Agent57: 0.95)."""
    target_epsilon: float = 0.01
    """epsilon of the epsilon-greedy target policy pi of the Retrace targets (NGU Table 6:
    0.01); 0 makes pi greedy (the first version), which ignores the stored mu."""
    target_update_period: int = 100
    """Gradient steps between target-network updates (paper: 2500)."""
    embedding_size: int = 32
    """Size of the controllable-state embedding f(x)."""
    rnd_output_size: int = 32
    """Output size of the RND target and predictor."""
    num_neighbors: int = 10
    """k of the episodic k-NN (NGU: 10)."""
    kernel_epsilon: float = 1e-4
    """epsilon of the kernel K = epsilon / (d^2 / d_m^2 + epsilon) (NGU: 1e-4)."""
    cluster_distance: float = 0.008
    """xi, subtracted from the normalized distances (NGU: 0.008)."""
    pseudo_count: float = 1e-3
    """c in 1 / (sqrt(sum K) + c) (NGU: 1e-3)."""
    max_similarity: float = 8.0
    """s_m: similarities above it give no episodic reward (NGU: 8)."""
    max_reward_scale: float = 5.0
    """L, the cap of the lifelong modulator min(max(alpha, 1), L) (NGU: 5)."""
    episodic_memory_capacity: int = 5_000
    """Embeddings each slot's episodic memory holds (NGU: 30000)."""
    novelty_train_steps: int = 5
    """The embedding and RND networks train on the last this many steps of each sampled
    sequence (NGU App. A: 5); 0 trains them on every step (the first version)."""
    inverse_dynamics_l2: float = 1e-5
    """L2 weight penalty on the inverse-dynamics action predictor (NGU App. A: 1e-5)."""
    intrinsic_input: str = "running"
    """How the previous intrinsic reward enters the Q-network: "running", divided by the
    running root mean square of r_i (an input of about 1 in any env); "raw", as in the NGU
    paper; "fixed", multiplied by sqrt(num_neighbors * kernel_epsilon) (the first version,
    fitted to DeepSea, where r_i ~ 30-150 saturated the LSTM gates fed raw)."""
    freeze_embedding: bool = True
    """Embed each episode's observations for the episodic memory with the embedding
    network as it was when the episode started (NGU Table 6); False uses the latest
    weights at every step (the first version)."""
    rnd_obs_normalization: bool = True
    """Feed RND the observations normalized by their running mean and std, clipped to
    [-5, 5] (Burda et al., 2019, section 2.4); False feeds them raw (the first version)."""
    novelty_stats_decay: float = 0.995
    """Decay per step of the running mean/std of RND errors and of d_m^2 (exponential)."""
    evaluation_policy: str = "default"
    """The policy j that greedy evaluation (``predict``) acts with: "default" (NGU: j = 0,
    the exploitative policy, NGU section 4; Agent57: the meta-controller's best arm,
    Agent57 section 4.2: its evaluator's when evaluator_period > 0), "best_arm" (the j
    with the highest mean extrinsic return over the actors' last episodes: a diagnostic
    for NGU, and for Agent57's evaluator) or "j0" (a diagnostic for Agent57)."""
    log_every: int = 1_000
    """Environment steps between log records."""

    def __post_init__(self) -> None:
        try:
            super().__post_init__()
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        checks = {
            "num_envs must be >= 1": self.num_envs >= 1,
            "num_policies must be >= 1": self.num_policies >= 1,
            "intrinsic_beta must be >= 0": self.intrinsic_beta >= 0,
            "epsilon must be in [0, 1]": 0 <= self.epsilon <= 1,
            "action_bins must be 0 or >= 2": self.action_bins == 0 or self.action_bins >= 2,
            "burn_in must be >= 0": self.burn_in >= 0,
            "unroll_length must be >= 2": self.unroll_length >= 2,
            "sequence_period must be in [1, unroll_length - 1]: a window's last transition "
            "has its next observation only in a later window, so with sequence_period = "
            "unroll_length it would never be trained": (
                1 <= self.sequence_period < self.unroll_length
            ),
            "batch_size must be >= 1": self.batch_size >= 1,
            "replay_capacity must be >= batch_size": self.replay_capacity >= self.batch_size,
            "learning_starts must be >= 1": self.learning_starts >= 1,
            "train_every must be >= 1": self.train_every >= 1,
            "weight_sync_period must be >= 1": self.weight_sync_period >= 1,
            'replay_ratio must be "fixed" or "float"': self.replay_ratio in ("fixed", "float"),
            "priority_eta must be in [0, 1]": 0 <= self.priority_eta <= 1,
            "importance_sampling_exponent must be in [0, 1]": (
                0 <= self.importance_sampling_exponent <= 1
            ),
            "priority_exponent must be >= 0": self.priority_exponent >= 0,
            "learning rates must be > 0": self.learning_rate > 0 and self.novelty_learning_rate > 0,
            "adam_eps must be > 0": self.adam_eps > 0,
            "max_grad_norm must be > 0": self.max_grad_norm > 0,
            "target_update_period must be >= 1": self.target_update_period >= 1,
            "hidden_sizes must be positive": all(s > 0 for s in self.hidden_sizes),
            "lstm_units, embedding_size, rnd_output_size must be >= 1": min(
                self.lstm_units, self.embedding_size, self.rnd_output_size
            )
            >= 1,
            "num_neighbors must be >= 1": self.num_neighbors >= 1,
            "kernel_epsilon must be > 0": self.kernel_epsilon > 0,
            "cluster_distance must be >= 0": self.cluster_distance >= 0,
            "pseudo_count must be > 0": self.pseudo_count > 0,
            "max_similarity must be > 0": self.max_similarity > 0,
            "max_reward_scale must be >= 1": self.max_reward_scale >= 1,
            "episodic_memory_capacity must be >= 1": self.episodic_memory_capacity >= 1,
            "log_every must be >= 1": self.log_every >= 1,
            'cnn must be "auto", "nature" or "minatar"': self.cnn in ("auto", "nature", "minatar"),
            "novelty_stats_decay must be in (0, 1)": 0 < self.novelty_stats_decay < 1,
            'evaluation_policy must be "default", "best_arm" or "j0"': (
                self.evaluation_policy in ("default", "best_arm", "j0")
            ),
            'intrinsic_input must be "running", "raw" or "fixed"': (
                self.intrinsic_input in ("running", "raw", "fixed")
            ),
            'grad_clip must be "per_head" or "global"': self.grad_clip in ("per_head", "global"),
            "retrace_lambda must be in [0, 1]": 0 <= self.retrace_lambda <= 1,
            "target_epsilon must be in [0, 1]": 0 <= self.target_epsilon <= 1,
            "novelty_train_steps must be >= 0": self.novelty_train_steps >= 0,
            "inverse_dynamics_l2 must be >= 0": self.inverse_dynamics_l2 >= 0,
        }
        for message, ok in checks.items():
            if not ok:
                raise ConfigError(message)


@dataclass
class NGUConfig(CommonConfig):
    """Never Give Up (Badia et al., 2020a) on an R2D2 core (Kapturowski et al., 2019)."""

    q_target: str = "retrace"
    """The Q-learning target: "retrace", transformed Retrace double Q toward the
    epsilon-greedy target policy (NGU section 3, Table 6), or "nstep", R2D2's transformed
    n-step double Q (the first version)."""
    gamma_max: float = 0.997
    """Discount of the exploitative policy j = 0 (NGU: 0.997)."""
    gamma_min: float = 0.99
    """Discount of the most exploratory policy j = N-1 (NGU: 0.99)."""
    n_step: int = 5
    """n of the transformed n-step double-Q target of ``q_target = "nstep"`` (R2D2: 5)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.gamma_min <= self.gamma_max < 1:
            raise ConfigError("need 0 <= gamma_min <= gamma_max < 1")
        if self.n_step < 1:
            raise ConfigError("n_step must be >= 1")
        if self.q_target not in ("retrace", "nstep"):
            raise ConfigError('q_target must be "retrace" or "nstep"')


@dataclass
class Agent57Config(CommonConfig):
    """Agent57 (Badia et al., 2020b): NGU with split extrinsic/intrinsic Q-networks,
    transformed Retrace and a sliding-window UCB meta-controller over the N policies."""

    gamma0: float = 0.9999
    """Discount of policy j = 0 (Agent57: 0.9999)."""
    gamma1: float = 0.997
    """Discount of policy j = 7 (Agent57: 0.997)."""
    gamma2: float = 0.99
    """Discount of policy j = N-1 (Agent57: 0.99)."""
    ucb_window: int = 160
    """tau, the meta-controller's sliding window of episodes."""
    ucb_beta: float = 1.0
    """beta of the UCB bonus sqrt(1 / N(a))."""
    ucb_epsilon: float = 0.5
    """Probability that the meta-controller picks an arm uniformly."""
    priority_td: str = "heads"
    """The TD error of R2D2's sequence priority: "heads", |delta_e| + |delta_i|, each
    network's own error at full weight, as each is trained on every sequence; "mixed"
    (2026-12-02 to 12-03), that of the mixed Q the actors act with, where beta_j weighs
    the intrinsic error, so j = 0's sequences were rarely replayed (the papers give no
    formula)."""
    ucb_shared: bool = False
    """One meta-controller for every actor slot of a process (before 2026-12-03); the
    paper (App. D) and the default: one per slot, over that slot's own episodes."""
    evaluator_period: int = 0
    """Play one evaluator episode, on an env of its own and with a bandit of its own,
    after every this many training episodes; greedy evaluation then acts with the
    evaluator bandit's best arm (the paper's evaluator runs its own meta-controller). 0:
    no evaluator, evaluation acts with the best arm over the actors' windows. Evaluator
    episodes are played one step at a time between vector steps, are not trained on and
    are not counted as steps."""
    evaluator_window: int = 160
    """The evaluator bandit's sliding window of evaluator episodes."""
    evaluator_epsilon: float = 0.0
    """epsilon of the evaluator's episodes: 0 scores each arm as greedy evaluation acts."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not all(0 <= g < 1 for g in (self.gamma0, self.gamma1, self.gamma2)):
            raise ConfigError("gamma0, gamma1 and gamma2 must be in [0, 1)")
        if self.ucb_window < 1:
            raise ConfigError("ucb_window must be >= 1")
        if self.priority_td not in ("mixed", "heads"):
            raise ConfigError('priority_td must be "mixed" or "heads"')
        if not 0 <= self.ucb_epsilon <= 1:
            raise ConfigError("ucb_epsilon must be in [0, 1]")
        if self.evaluator_period < 0:
            raise ConfigError("evaluator_period must be >= 0 (0: no evaluator)")
        if self.evaluator_window < 1:
            raise ConfigError("evaluator_window must be >= 1")
        if not 0 <= self.evaluator_epsilon <= 1:
            raise ConfigError("evaluator_epsilon must be in [0, 1]")
