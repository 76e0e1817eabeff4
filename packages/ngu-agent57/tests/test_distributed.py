"""NGU/Agent57 on Ray: the pure pieces (initial priorities, the replay ratio), then a
local Ray instance with two actors: NGU learns DeepSea, a killed actor is replaced."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
from rl_ngu_agent57 import NGU, Agent57, Agent57Config, NGUConfig
from rl_ngu_agent57.agent import merge_acting_stats
from rl_ngu_agent57.buffer import sequence_specs
from rl_ngu_agent57.distributed import RayLearning, ReplayRatio, train_on_ray
from rl_ngu_agent57.novelty import ExponentialMeanStd

from rl_core.callbacks import Callback
from rl_core.config import apply_overrides
from rl_core.distributed import DistributedOptions
from rl_core.errors import ConfigError
from rl_core.evaluation import evaluate_policy
from rl_core.run import RunDirectory

# Before Ray is imported: workers run in this environment (see rl_core.distributed.require_ray).
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
# Ray runs its workers at nice 15; on a 2-core machine shared with other jobs the actors
# then starve (a restart took minutes). The tests run them at the learner's priority.
os.environ.setdefault("RAY_worker_niceness", "0")

TINY = {
    "env_kwargs": {"size": 4},
    "burn_in": 2,  # the deepsea preset's short sequences
    "unroll_length": 10,
    "sequence_period": 5,
    "device": "cpu",
    "seed": 0,
    "num_envs": 2,
    "batch_size": 4,
    "learning_starts": 4,
    "log_every": 200,
}


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the ray extra is installed with the dev group")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


# ------------------------------------------------------------------ pure pieces


def test_initial_priority_of_a_hand_made_sequence():
    config = apply_overrides(
        NGUConfig(), {**TINY, "burn_in": 0, "unroll_length": 2, "sequence_period": 1}
    )
    agent = NGU(config)
    for var in agent.network_variables().values():  # Q = 0 everywhere: targets are returns
        var.assign(np.zeros(var.shape, var.dtype.as_numpy_dtype))
    specs = sequence_specs(agent.obs_dim, 3, agent.state_shape)
    seq = {k: np.zeros((1, *shape), dtype) for k, (shape, dtype) in specs.items()}
    # Two transitions with r = 1, 2; the episode terminates on the second (x_2 is final).
    seq["valid"][0] = [1, 1, 0]
    seq["re"][0] = [1, 2, 0]
    seq["term"][0] = [0, 1, 0]
    seq["mu"][0] = 1.0
    # j = 0: beta_0 = 0, gamma_0 = gamma_max. Retrace toward the epsilon-greedy target policy
    # (all Q equal: greedy action 0, the one taken; pi(0) = 1 - 0.01 + 0.01 / 2 = 0.995):
    # c_1 = 0.95 min(1, 0.995 / 1) = 0.94525, Qret_1 = 2 (terminal),
    # Qret_0 = 1 + gamma (0 + c_1 (2 - 0)), so |delta| = h(Qret); priority = 0.9 max + 0.1 mean.
    gamma = config.gamma_max

    def h(x):
        return math.sqrt(x + 1) - 1 + 1e-3 * x

    td = [h(1 + gamma * 0.94525 * 2), h(2)]
    expected = 0.9 * max(td) + 0.1 * sum(td) / 2
    assert agent.learner.priorities(seq)[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("cls", "config_cls"), [(NGU, NGUConfig), (Agent57, Agent57Config)])
def test_initial_priorities_are_those_a_learner_step_gives(cls, config_cls):
    agent = cls(apply_overrides(config_cls(), TINY))
    parts = [s for s in (agent.step_actors() for _ in range(40)) if s]
    sequences = {k: np.concatenate([s[k] for s in parts]) for k in parts[0]}
    initial = agent.learner.priorities(sequences)
    weights = np.ones(len(initial), np.float32)
    # step() computes its priorities before it applies the gradients.
    _, from_step = agent.learner.step({**sequences, "weights": weights})
    assert len(initial) == len(sequences["policy"]) > 4
    np.testing.assert_allclose(initial, from_step, rtol=1e-5)
    assert (initial > 0).all()


def test_the_learner_merges_the_actors_statistics():
    # Exponential averages, decay 0.5: actor A after 1 batch (m1 = 1, m2 = 3: mean 2, E[x^2]
    # 6), actor B after 2 (m1 = 3, m2 = 15, bias correction 0.75: mean 4, E[x^2] 20).
    # Merged: mean 3, E[x^2] 13 as a t = 2 state: m1 = 2.25, m2 = 9.75 (std sqrt(13 - 9) = 2).
    # Rewards: A saw (1, 1), B saw (2, 4): pooled mean 2, variance (1 + 1 + 0 + 4) / 4 = 1.5.
    a = {"m1": 1.0, "m2": 3.0, "t": 1}
    b = {"m1": 3.0, "m2": 15.0, "t": 2}
    states = [
        {"sq_distance_stats": a, "error_stats": a,
         "reward_stats": {"mean": 1.0, "var": 0.0, "count": 2.0}},
        {"sq_distance_stats": b, "error_stats": b,
         "reward_stats": {"mean": 3.0, "var": 1.0, "count": 2.0}},
    ]  # fmt: skip
    merged = merge_acting_stats(states, 0.5)
    assert merged["error_stats"] == pytest.approx({"m1": 2.25, "m2": 9.75, "t": 2})
    stats = ExponentialMeanStd(0.5)
    stats.load_state_dict(merged["sq_distance_stats"])
    assert (stats.mean, stats.std) == pytest.approx((3.0, 2.0))
    assert merged["reward_stats"] == pytest.approx({"mean": 2.0, "var": 1.5, "count": 4.0})


def test_actor_epsilons_and_episode_listeners_are_public():
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "env_kwargs": {"size": 2}}))
    agent.actor.set_epsilons(np.array([0.5, 0.25]))
    np.testing.assert_array_equal(agent.actor.epsilons, [0.5, 0.25])
    with pytest.raises(ValueError, match="need 2 epsilons"):
        agent.actor.set_epsilons(np.array([0.1]))
    ended = []
    agent.actor.add_episode_listener(lambda *episode: ended.append(episode))
    for _ in range(2):  # DeepSea 2: every episode lasts 2 steps
        agent.step_actors()
    assert len(ended) == 1 and list(ended[0][0]) == [0, 1]
    # The agent's own record (NGU's per-j returns) still gets them.
    assert len(agent.policy_returns.history) == 2


def test_the_replay_ratio_holds_back_whichever_side_is_ahead():
    ratio = ReplayRatio(steps_per_env_step=1 / 8, tolerance=4)
    assert ratio.can_sample(0) and ratio.can_act(0)
    ratio.env_steps = 80  # 10 learner steps allowed, +-4
    assert ratio.can_sample(13) and not ratio.can_sample(14)  # learner ahead: waits
    assert ratio.can_act(7) and not ratio.can_act(6)  # learner behind: actors wait


def test_a_floating_replay_ratio_holds_back_neither_side():
    ratio = ReplayRatio(steps_per_env_step=1 / 8, tolerance=4, floating=True)
    ratio.env_steps = 80  # the fixed ratio's bounds: learner steps 6 to 14
    assert ratio.can_sample(1_000) and ratio.can_act(0)


def test_replay_ratio_is_fixed_or_float():
    assert NGUConfig(replay_ratio="float").replay_ratio == "float"
    with pytest.raises(ConfigError, match='replay_ratio must be "fixed" or "float"'):
        NGUConfig(replay_ratio="ape-x")


# ------------------------------------------------------------------ on Ray


def test_ngu_learns_deep_sea_with_two_actors(local_ray, tmp_path):
    config = apply_overrides(
        NGUConfig(),
        {
            "env_kwargs": {"size": 4},
            "device": "cpu",
            "seed": 0,
            "total_steps": 12_000,
            "checkpoint_every": 6_000,
            "log_every": 2_000,
        },
    )
    # DeepSea 4: the untrained greedy policy misses the treasure (measured, not assumed).
    before = evaluate_policy(NGU(config), config.env, config.env_kwargs, episodes=4)
    assert before.return_mean < 0.5, before.summary()
    run = RunDirectory.create("ngu", config.env, path=tmp_path / "run")
    run.write_config("ngu", config, device="cpu")
    agent = train_on_ray(config, run, DistributedOptions(num_workers=2, timeout_s=60))
    records = run.read_metrics()
    assert records[-1]["distributed/actor_failures"] == 0.0
    assert agent.num_timesteps >= 12_000 and agent.remote is None
    # The single-process replay ratio, one gradient step per 8 env steps, is an upper bound
    # (plus the tolerance: 2 actors x 2 calls x 16 steps); learning starts at 100 sequences.
    steps = records[-1]["charts/gradient_steps"]
    assert 1_000 < steps <= 12_000 / 8 + 64, steps
    # Checkpoints and the final policy are the ordinary ones: `rl evaluate` loads them.
    assert len(run.checkpoints()) >= 1
    loaded = NGU.load(run.policy_dir)
    after = evaluate_policy(loaded, config.env, config.env_kwargs, episodes=8)
    assert after.return_mean >= 0.9 and after.success_rate == 1.0, after.summary()


def test_a_floating_replay_ratio_trains_on_ray_and_logs_the_ratio_it_had(local_ray):
    agent = NGU(apply_overrides(NGUConfig(), {**TINY, "replay_ratio": "float"}))
    learning = RayLearning(local_ray, agent, DistributedOptions(num_workers=2))
    agent.remote = learning
    records: list[dict] = []

    class Record(Callback):
        def on_log(self, agent, metrics):
            records.append(dict(metrics))

    try:
        for _ in range(40):
            agent.learn(100, callbacks=Record())
            if agent.learner.steps > 0:
                break
        assert learning.ratio.floating and agent.learner.steps > 0
        ratio = records[-1]["distributed/updates_per_env_step"]
        assert ratio == learning.updates / max(learning.ratio.env_steps, 1) and ratio > 0
    finally:
        learning.close()
        agent.remote = None


def test_a_killed_actor_is_replaced_and_training_goes_on(local_ray):
    agent = Agent57(apply_overrides(Agent57Config(), {**TINY, "evaluator_period": 2}))
    learning = RayLearning(local_ray, agent, DistributedOptions(num_workers=2))
    agent.remote = learning
    try:
        for _ in range(40):
            agent.learn(100)
            # Both actors are up and the learner has trained (on a loaded machine the
            # actors can report their first steps before the first sample arrives).
            if None not in learning.pids and agent.learner.steps > 0:
                break
        assert learning.restarts.failures == 0 and agent.learner.steps > 0
        pid = learning.pids[0]
        local_ray.kill(learning.workers[0], no_restart=False)
        steps, updates = agent.num_timesteps, agent.learner.steps
        # The other actor carries on while Ray restarts this one (a TensorFlow import: tens
        # of seconds on a busy machine) until the new incarnation reports.
        deadline = time.monotonic() + 300
        while learning.pids[0] in (None, pid) and time.monotonic() < deadline:
            agent.learn(100)
        # The loss is counted once, training went on, and the restarted actor rejoined.
        assert learning.pids[0] not in (None, pid) and learning.restarts.failures == 1
        assert agent.num_timesteps > steps and agent.learner.steps > updates
        # Agent57's meta-controller on the learner heard about the actors' episodes, and
        # its evaluator played one episode for every 2 of theirs.
        assert len(agent.meta.history) > 0
        assert agent.evaluator.episodes == agent.num_episodes // 2 > 0
    finally:
        learning.close()
