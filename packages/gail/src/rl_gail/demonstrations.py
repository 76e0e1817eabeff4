"""Expert demonstrations: read from Minari datasets or .npz files, record as Minari datasets.

Minari (Farama) is the standard format for offline RL data; reading and writing it
through Minari keeps our datasets usable by every other tool that speaks it. A plain
``.npz`` (``observations``, ``actions``, optionally ``episode_lengths``,
``episode_returns`` and ``episode_terminated``) is accepted too, for data produced anywhere.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rl_core.errors import ConfigError

BUNDLED = Path(__file__).parent / "data"
# The env ids whose bundled demonstrations an empty ``demos`` setting selects.
BUNDLED_DEMOS = {
    "CartPole-v1": BUNDLED / "cartpole-expert.npz",
    "rl/CartPole-v1": BUNDLED / "cartpole-expert.npz",
    "Pendulum-v1": BUNDLED / "pendulum-expert.npz",
    "HalfCheetah-v5": BUNDLED / "halfcheetah-expert.npz",
    "Hopper-v5": BUNDLED / "hopper-expert.npz",
    # Scripted experts whose episodes end by reaching the goal (a true termination).
    "MountainCar-v0": BUNDLED / "mountaincar-expert.npz",
    "Acrobot-v1": BUNDLED / "acrobot-expert.npz",
}


class DemonstrationError(ConfigError):
    """Demonstrations that are missing, malformed or do not fit the environment."""


@dataclass(frozen=True)
class Demonstrations:
    """Expert (s, a) pairs, flattened over episodes."""

    observations: np.ndarray
    """[n, obs_dim] float32."""
    actions: np.ndarray
    """[n] int64 for Discrete actions, [n, action_dim] float32 for Box actions."""
    episode_lengths: np.ndarray
    """[episodes] int64; sums to n."""
    episode_returns: np.ndarray
    """[episodes] float64 (NaN where the source does not say)."""
    episode_terminated: np.ndarray
    """[episodes] bool: the episode ended in a true termination (the env's ``terminated``,
    not a time limit), so it continues into the absorbing state (Kostrikov et al., 2019).
    False where the source does not say."""
    source: str

    @property
    def num_episodes(self) -> int:
        return len(self.episode_lengths)

    def __len__(self) -> int:
        return len(self.observations)


def resolve_source(demos: str, env_id: str) -> str:
    """The demonstrations a config names; empty means the ones bundled for its env."""
    if demos:
        return demos
    if env_id in BUNDLED_DEMOS:
        return str(BUNDLED_DEMOS[env_id])
    raise DemonstrationError(
        f"gail needs expert demonstrations for {env_id}: record them with "
        "`rl gail record <run-dir> --out DIR` and pass `--set demos=DIR` "
        "(or an .npz with observations and actions)"
    )


def load_demonstrations(
    source: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    episodes: int = 0,
) -> Demonstrations:
    """Read demonstrations and check them against the env's spaces.

    Args:
        source: an ``.npz`` file, a Minari dataset directory, or a local Minari dataset id.
        episodes: keep only the first this many episodes (0: all).
    """
    path = Path(source).expanduser()
    if path.suffix == ".npz":
        if not path.is_file():
            raise DemonstrationError(f"demonstrations not found: {path}")
        obs, actions, lengths, returns, terminated = _read_npz(path)
    elif path.is_dir():
        dataset = _open_minari_dir(find_dataset(path))
        obs, actions, lengths, returns, terminated = _read_minari(dataset, source)
    elif path.exists():
        raise DemonstrationError(
            f"{source}: not demonstrations (give an .npz file or a Minari dataset directory)"
        )
    else:
        obs, actions, lengths, returns, terminated = _read_minari(_load_minari_id(source), source)

    if episodes:
        if episodes > len(lengths):
            raise DemonstrationError(
                f"{source} has {len(lengths)} episodes; demo_episodes={episodes} asks for more"
            )
        n = int(lengths[:episodes].sum())
        obs, actions = obs[:n], actions[:n]
        lengths, returns = lengths[:episodes], returns[:episodes]
        terminated = terminated[:episodes]
    obs, actions = _check_fit(source, obs, actions, observation_space, action_space)
    return Demonstrations(
        obs,
        actions,
        lengths.astype(np.int64),
        returns.astype(np.float64),
        terminated.astype(bool),
        source,
    )


def _read_npz(path: Path) -> tuple[np.ndarray, ...]:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DemonstrationError(f"{path}: not a readable .npz file ({exc})") from None
    with data:
        missing = [k for k in ("observations", "actions") if k not in data.files]
        if missing:
            raise DemonstrationError(
                f"{path} lacks {' and '.join(missing)} (it has: {', '.join(data.files) or 'none'})"
            )
        obs, actions = np.asarray(data["observations"]), np.asarray(data["actions"])
        n = len(obs)
        lengths = np.asarray(data["episode_lengths"]) if "episode_lengths" in data.files else None
        returns = np.asarray(data["episode_returns"]) if "episode_returns" in data.files else None
        terminated = (
            np.asarray(data["episode_terminated"]) if "episode_terminated" in data.files else None
        )
    if len(actions) != n:
        raise DemonstrationError(f"{path}: {n} observations but {len(actions)} actions")
    if lengths is None:
        lengths = np.array([n])
    if lengths.sum() != n or (lengths <= 0).any():
        raise DemonstrationError(f"{path}: episode_lengths must be positive and sum to {n}")
    if returns is None:
        returns = np.full(len(lengths), np.nan)
    if len(returns) != len(lengths):
        raise DemonstrationError(f"{path}: one episode_return per episode expected")
    if terminated is None:
        terminated = np.zeros(len(lengths), bool)
    if terminated.shape != lengths.shape or terminated.dtype != bool:
        raise DemonstrationError(f"{path}: episode_terminated must be one bool per episode")
    return obs, actions, lengths, returns, terminated


def find_dataset(path: Path) -> Path:
    """The Minari dataset directory ``path`` names: itself, or the one dataset under it.

    ``rl gail record --out DIR`` writes ``DIR/<namespace>/<name>`` (Minari's layout of
    ids ``namespace/name-vN``), so the folder given to ``--out`` is accepted as well as
    the dataset's own directory; a folder holding several datasets asks which one.
    """
    if (path / "data" / "metadata.json").is_file() or (path / "metadata.json").is_file():
        return path
    found = sorted(
        meta.parent.parent for meta in path.rglob("metadata.json") if meta.parent.name == "data"
    )
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(d.relative_to(path).as_posix() for d in found)
        raise DemonstrationError(
            f"{path} holds {len(found)} Minari datasets ({names}); "
            f"pick one: demos={(path / found[0].relative_to(path)).as_posix()}"
        )
    if not any(path.iterdir()):
        raise DemonstrationError(f"{path}: an empty folder (no Minari dataset in it)")
    raise DemonstrationError(
        f"{path}: not a Minari dataset (no data/metadata.json in it or below it)"
    )


def _open_minari_dir(path: Path):
    import minari

    data_dir = path / "data" if (path / "data").is_dir() else path
    try:
        return minari.MinariDataset(data_dir)
    except Exception as exc:  # Minari raises a variety of errors for corrupt datasets.
        raise DemonstrationError(f"{path}: unreadable Minari dataset ({exc})") from None


def _load_minari_id(dataset_id: str):
    import minari

    try:
        return minari.load_dataset(dataset_id)
    except (FileNotFoundError, ValueError):
        local = ", ".join(sorted(minari.list_local_datasets())) or "none"
        raise DemonstrationError(
            f"demonstrations {dataset_id!r} not found: not a file, not a directory and not a "
            f"local Minari dataset (local datasets: {local})"
        ) from None


def _read_minari(dataset, source: str) -> tuple[np.ndarray, ...]:
    obs, actions, lengths, returns, terminated = [], [], [], [], []
    for episode in dataset.iterate_episodes():
        if not isinstance(episode.observations, np.ndarray):
            raise DemonstrationError(f"{source}: only flat (Box) observations are supported")
        # Minari stores T + 1 observations (the last one after the final action).
        obs.append(episode.observations[:-1])
        actions.append(np.asarray(episode.actions))
        lengths.append(len(episode.actions))
        returns.append(float(np.sum(episode.rewards)))
        terminated.append(bool(np.asarray(episode.terminations)[-1]))
    if not lengths:
        raise DemonstrationError(f"{source}: the Minari dataset has no episodes")
    return (
        np.concatenate(obs),
        np.concatenate(actions),
        np.array(lengths),
        np.array(returns),
        np.array(terminated, bool),
    )


def _check_fit(
    source: str,
    obs: np.ndarray,
    actions: np.ndarray,
    observation_space: spaces.Space,
    action_space: spaces.Space,
) -> tuple[np.ndarray, np.ndarray]:
    if len(obs) == 0:
        raise DemonstrationError(f"{source}: no transitions")
    obs_shape = tuple(observation_space.shape or ())
    if obs.shape[1:] != obs_shape:
        raise DemonstrationError(
            f"{source}: observations of shape {obs.shape[1:]}, the env's are {obs_shape}"
        )
    obs = obs.reshape(len(obs), -1).astype(np.float32)
    if isinstance(action_space, spaces.Discrete):
        if actions.ndim != 1 or not np.issubdtype(actions.dtype, np.integer):
            raise DemonstrationError(
                f"{source}: Discrete actions must be a 1-D integer array, got "
                f"{actions.dtype} of shape {actions.shape}"
            )
        if (
            actions.min() < action_space.start
            or actions.max() >= action_space.start + action_space.n
        ):
            raise DemonstrationError(f"{source}: actions outside the env's {action_space}")
        actions = (actions - action_space.start).astype(np.int64)
    else:
        if actions.shape[1:] != tuple(action_space.shape):
            raise DemonstrationError(
                f"{source}: actions of shape {actions.shape[1:]}, the env's are "
                f"{action_space.shape}"
            )
        actions = actions.reshape(len(actions), -1).astype(np.float32)
    if not (np.isfinite(obs).all() and np.isfinite(actions).all()):
        raise DemonstrationError(f"{source}: contains NaN or infinite values")
    return obs, actions


@contextlib.contextmanager
def _minari_root(root: Path) -> Iterator[None]:
    """Minari writes under $MINARI_DATASETS_PATH; point it at ``root`` for one recording."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def default_dataset_id(env_id: str) -> str:
    """``CartPole-v1`` -> ``cartpole/expert-v0`` (Minari ids are ``env/name-vN``)."""
    name = env_id.rsplit("/", 1)[-1].split("-v")[0].lower() or "env"
    return f"{name}/expert-v0"


def record_demonstrations(
    policy: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    episodes: int,
    out: Path,
    dataset_id: str,
    seed: int = 0,
    algorithm_name: str | None = None,
) -> tuple[Path, np.ndarray]:
    """Run ``policy`` greedily for ``episodes`` and write them as a Minari dataset.

    Returns the dataset's directory (``out/<dataset_id>``, what ``demos=`` takes) and
    the episode returns.
    """
    import minari

    from rl_core.envs import make_env

    if episodes < 1:
        raise ConfigError("--episodes must be >= 1")
    out = Path(out).expanduser().resolve()
    target = out / dataset_id
    if target.exists():
        raise ConfigError(f"{target} exists; choose another --out or --dataset-id")
    env = make_env(env_id, **dict(env_kwargs))
    episodes_data = []
    try:
        for episode in range(episodes):
            episodes_data.append(_run_episode(policy, env, episode, seed + episode))
    finally:
        env.close()
    # Built from whole episodes rather than through minari.DataCollector, whose per-step
    # buffering needs JAX (the `minari[create]` extra) for nothing a flat space uses.
    with _minari_root(out), warnings.catch_warnings():
        # Minari nags about optional metadata (author, code permalink) on every dataset.
        warnings.filterwarnings("ignore", category=UserWarning, module="minari")
        minari.create_dataset_from_buffers(
            dataset_id,
            episodes_data,
            env=env,
            eval_env=env.spec,
            algorithm_name=algorithm_name,
            description=f"{episodes} greedy episodes of a trained policy on {env_id}",
        )
    returns = [float(np.sum(e.rewards)) for e in episodes_data]
    return target, np.array(returns)


def _run_episode(policy: Any, env: Any, index: int, seed: int):
    from minari.data_collector import EpisodeBuffer

    obs, _ = env.reset(seed=seed)
    observations, actions, rewards, terminations, truncations = [obs], [], [], [], []
    done = False
    while not done:
        action = policy.predict(np.asarray(obs)[None], deterministic=True)[0]
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(float(reward))
        terminations.append(bool(terminated))
        truncations.append(bool(truncated))
        done = terminated or truncated
    return EpisodeBuffer(
        id=index,
        seed=seed,
        observations=np.asarray(observations),
        actions=np.asarray(actions),
        rewards=rewards,
        terminations=terminations,
        truncations=truncations,
        infos={},
    )


def save_npz(demos: Demonstrations, path: Path) -> None:
    """Write demonstrations as the plain .npz format ``load_demonstrations`` reads."""
    np.savez_compressed(
        path,
        observations=demos.observations,
        actions=demos.actions,
        episode_lengths=demos.episode_lengths,
        episode_returns=demos.episode_returns,
        episode_terminated=demos.episode_terminated,
    )
