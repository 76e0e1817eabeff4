"""Train an :class:`~rl_core.agent.Agent` inside a run directory, resuming if possible.

Most plugins' ``train(config, run)`` is one call to :func:`train_agent`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rl_core.agent import Agent
from rl_core.callbacks import Callback, RunCallback
from rl_core.progress import TrainingProgress
from rl_core.run import RunDirectory

A = TypeVar("A", bound=Agent)


def train_agent(
    agent_cls: type[A],
    config: Any,
    run: RunDirectory,
    *,
    progress: bool | None = None,
    callbacks: list[Callback] | None = None,
    setup: Callable[[A], None] | None = None,
) -> A:
    """Build (or restore from the newest checkpoint) an agent and train it to ``total_steps``.

    Metrics and checkpoints go into ``run``; the final policy is saved to
    ``run.policy_dir`` unless training was stopped early (Ctrl-C or a callback),
    in which case the checkpoint just written is where ``rl resume`` continues.
    ``setup(agent)`` runs once the agent is built or restored, before training: a
    distributed runner attaches its workers there.
    """
    checkpoint = run.latest_checkpoint()
    if checkpoint is not None:
        # The run's settings win over the checkpoint's where a resume may change them.
        agent = agent_cls.load(checkpoint, device=config.device, total_steps=config.total_steps)
    else:
        agent = agent_cls(config)
    if setup is not None:
        setup(agent)
    # Records logged after the checkpoint (or by a run killed before its first one)
    # would be logged again by this run.
    run.truncate_metrics(agent.num_timesteps)
    show = run.show_progress if progress is None else progress
    bar = None
    if show:
        bar = TrainingProgress(
            config.total_steps,
            header=f"[bold]{agent.algorithm}[/] on {config.env}  device {agent.device}  "
            f"seed {config.seed}  run {run.path}",
        )
    run_callback = RunCallback(
        run,
        checkpoint_every=config.checkpoint_every,
        keep_checkpoints=config.keep_checkpoints,
        progress=bar,
    )
    extra = list(callbacks or [])
    if config.eval_every > 0:
        from rl_core.periodic_evaluation import EvalCallback

        evaluation = EvalCallback(
            config.env,
            config.env_kwargs,
            every=config.eval_every,
            episodes=config.eval_every_episodes,
            run=run,
            deterministic=config.eval_deterministic,
        )
        extra.insert(0, evaluation)
    try:
        agent.learn(config.total_steps - agent.num_timesteps, [run_callback, *extra])
    finally:
        run.close()
    if agent.num_timesteps >= config.total_steps and not run_callback.interrupted:
        latest = run.latest_checkpoint()
        if latest is None or run.checkpoint_step(latest) < agent.num_timesteps:
            # So that `rl resume --steps N` continues from the end, not the last interval.
            run_callback.save_checkpoint(agent)
        run.save_policy(agent.save)
    run.interrupted = run_callback.interrupted
    return agent
