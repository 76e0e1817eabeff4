"""Evaluate a policy: mean/std return and success rate over N episodes, optional video."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rl_core.algorithm import Policy, RecurrentPolicy, RewardConditionedPolicy
from rl_core.errors import ConfigError, install_hint


@dataclass
class EvaluationResult:
    """Per-episode returns, lengths and (where the env reports it) success."""

    returns: list[float]
    lengths: list[int]
    successes: list[bool] | None = field(default=None)

    @property
    def episodes(self) -> int:
        return len(self.returns)

    @property
    def return_mean(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")

    @property
    def return_std(self) -> float:
        return float(np.std(self.returns)) if self.returns else float("nan")

    @property
    def success_rate(self) -> float | None:
        return float(np.mean(self.successes)) if self.successes else None

    def summary(self) -> dict[str, Any]:
        """The ``rl evaluate --json`` object."""
        return {
            "return_mean": self.return_mean,
            "return_std": self.return_std,
            "success_rate": self.success_rate,
            "episodes": self.episodes,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), **asdict(self)}


def _stack(observations: list[Any]) -> Any:
    first = observations[0]
    if isinstance(first, Mapping):
        return {key: np.stack([o[key] for o in observations]) for key in first}
    return np.stack(observations)


def evaluate_policy(
    policy: Policy,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    *,
    episodes: int = 10,
    seed: int = 1_000_000,
    num_envs: int = 8,
    deterministic: bool = True,
    video: str | Path | None = None,
) -> EvaluationResult:
    """Run ``episodes`` full episodes with one batched ``predict`` call per step.

    Envs step in lockstep; each env runs a fixed share of the episodes so that
    short episodes are not over-counted. ``video`` records the first episode of
    the first env to a ``.gif`` (Pillow) or ``.mp4`` (imageio).

    A :class:`~rl_core.algorithm.RecurrentPolicy` sees every env in every batch (row
    ``i`` is always env ``i``; the actions of envs that are done are dropped) and has
    its memory of a row reset whenever that env starts an episode. A
    :class:`~rl_core.algorithm.RewardConditionedPolicy` is also handed each step's
    rewards, row by row, before the rows that ended are reset.
    """
    from rl_core.envs import make_env

    if episodes <= 0:
        raise ConfigError("--episodes must be >= 1")
    kwargs = dict(env_kwargs or {})
    num_envs = min(num_envs, episodes)
    envs = [
        make_env(env_id, **kwargs, **({"render_mode": "rgb_array"} if video and i == 0 else {}))
        for i in range(num_envs)
    ]
    targets = [(episodes + i) // num_envs for i in range(num_envs)]
    done_counts = [0] * num_envs
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    saw_success = False
    frames: list[np.ndarray] = []
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    ep_return = [0.0] * num_envs
    ep_length = [0] * num_envs
    recurrent = isinstance(policy, RecurrentPolicy)
    reward_conditioned = isinstance(policy, RewardConditionedPolicy)
    if recurrent:
        policy.reset_policy_state()
    try:
        if video:
            frames.append(_render(envs[0], env_id))
        while any(done_counts[i] < targets[i] for i in range(num_envs)):
            active = [i for i in range(num_envs) if done_counts[i] < targets[i]]
            rows = range(num_envs) if recurrent else active
            actions = policy.predict(_stack([obs[i] for i in rows]), deterministic=deterministic)
            started = []
            step_rewards = np.zeros(len(rows), np.float32)
            for row, (action, i) in enumerate(zip(actions, rows, strict=True)):
                if done_counts[i] >= targets[i]:
                    continue  # a recurrent policy's row for an env that is done
                obs[i], reward, terminated, truncated, info = envs[i].step(action)
                step_rewards[row] = reward
                ep_return[i] += float(reward)
                ep_length[i] += 1
                if video and i == 0 and done_counts[0] == 0:
                    frames.append(_render(envs[0], env_id))
                if terminated or truncated:
                    returns.append(ep_return[i])
                    lengths.append(ep_length[i])
                    if "is_success" in info:
                        saw_success = True
                    successes.append(bool(info.get("is_success", False)))
                    done_counts[i] += 1
                    ep_return[i], ep_length[i] = 0.0, 0
                    obs[i] = envs[i].reset()[0]
                    started.append(i)
            if reward_conditioned:
                policy.observe_rewards(step_rewards)
            if recurrent and started:
                policy.reset_policy_state(np.asarray(started))
    finally:
        for env in envs:
            env.close()
    if video:
        write_video(frames, Path(video), fps=_fps(envs[0]))
    return EvaluationResult(returns, lengths, successes if saw_success else None)


def _render(env: gym.Env, env_id: str) -> np.ndarray:
    try:
        return env.render()
    except gym.error.DependencyNotInstalled as exc:
        raise ConfigError(
            f"rendering {env_id} needs a dependency that is not installed ({exc}); "
            f"fix: {install_hint('video')}"
        ) from None


def _fps(env: Any) -> int:
    return int(env.metadata.get("render_fps") or 30)


def write_video(frames: list[np.ndarray], path: Path, fps: int = 30) -> Path:
    """Frames to a playable ``.gif`` (Pillow) or ``.mp4`` (imageio with ffmpeg)."""
    frames = [f for f in frames if f is not None]
    if not frames:
        raise ConfigError("the environment rendered no frames (does it support rgb_array?)")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        try:
            from PIL import Image
        except ImportError:
            raise ConfigError(f"writing a .gif needs Pillow: {install_hint('video')}") from None
        images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
        images[0].save(
            path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
        )
    elif suffix == ".mp4":
        try:
            import imageio.v2 as imageio
        except ImportError:
            raise ConfigError(
                f"writing an .mp4 needs imageio: {install_hint('video')} (or use .gif)"
            ) from None
        imageio.mimsave(path, [np.asarray(f, dtype=np.uint8) for f in frames], fps=fps)
    else:
        raise ConfigError(f"unsupported video format {path.suffix!r}; use .gif or .mp4")
    return path
