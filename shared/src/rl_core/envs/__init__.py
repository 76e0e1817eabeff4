"""Environments under the ``rl/`` namespace, and the env factories every algorithm uses.

Importing this module registers ``rl/BitFlipping-v0``, ``rl/PointMassGoal-v0``,
``rl/CartPole-v1`` and ``rl/DeepSea-v0`` with Gymnasium (:func:`register_envs`).
Plain Gymnasium code can also reach them as ``gym.make("rl_core.envs:rl/DeepSea-v0")``,
which imports this module first. Only Gymnasium and NumPy are imported here.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from rl_core.envs.bit_flipping import BitFlippingEnv
from rl_core.envs.cartpole import CartPoleWrapper, make_cartpole
from rl_core.envs.cartpole_vector import CartPoleSameStepVectorEnv
from rl_core.envs.deep_sea import DeepSeaEnv
from rl_core.envs.goal import GOAL_KEYS, GoalEnv, goal_dict_space, is_goal_env
from rl_core.envs.minatar_vector import MinAtarSameStepVectorEnv, minatar_vector_env
from rl_core.envs.point_mass import PointMassGoalEnv
from rl_core.envs.suites import SUITES, adapt_spec, load_suite, suite_for, uses_reward_clipping
from rl_core.errors import ConfigError, RLError, install_hint

__all__ = [
    "ENV_IDS",
    "GOAL_KEYS",
    "SUITES",
    "BitFlippingEnv",
    "CartPoleSameStepVectorEnv",
    "CartPoleWrapper",
    "DeepSeaEnv",
    "GoalEnv",
    "MinAtarSameStepVectorEnv",
    "PointMassGoalEnv",
    "UnknownEnvironmentError",
    "env_errors",
    "find_env_spec",
    "goal_dict_space",
    "is_goal_env",
    "make_cartpole",
    "make_env",
    "make_training_envs",
    "make_vector_env",
    "register_envs",
    "uses_reward_clipping",
]

NAMESPACE = "rl"
# name within the namespace -> entry point (strings: registering imports nothing)
_ENTRY_POINTS = {
    "BitFlipping-v0": "rl_core.envs.bit_flipping:BitFlippingEnv",
    "PointMassGoal-v0": "rl_core.envs.point_mass:PointMassGoalEnv",
    "CartPole-v1": "rl_core.envs.cartpole:make_cartpole",
    "DeepSea-v0": "rl_core.envs.deep_sea:DeepSeaEnv",
}
ENV_IDS = tuple(f"{NAMESPACE}/{name}" for name in _ENTRY_POINTS)
"""The ids :func:`register_envs` registers."""


class UnknownEnvironmentError(ConfigError, ValueError):
    """No environment of this id is registered with Gymnasium (the message names close ids)."""


def register_envs() -> None:
    """Register the ``rl/`` environments with Gymnasium; calling it again does nothing.

    Also meant as a ``gymnasium.envs`` entry point, which (in Gymnasium versions
    that load plugins) runs while ``gymnasium`` is still importing: so only the
    registration module, which Gymnasium loads first, is used here, and the
    namespace is set explicitly because a plugin loader may have set another.
    """
    import gymnasium.envs.registration as registration

    with registration.namespace(NAMESPACE):
        for name, entry_point in _ENTRY_POINTS.items():
            if f"{NAMESPACE}/{name}" not in registration.registry:
                registration.register(id=name, entry_point=entry_point)


def _unknown_message(env_id: str) -> str:
    by_lower = {known.lower(): known for known in gym.registry}
    close = difflib.get_close_matches(env_id.lower(), list(by_lower), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + ", ".join(repr(by_lower[c]) for c in close) + "?"
    else:
        hint = "the rl/ environments are " + ", ".join(ENV_IDS)
    return f"unknown environment {env_id!r}; {hint}"


# Gymnasium's own optional dependencies -> the rl-core extra that brings them.
_EXTRAS = {
    "gymnasium.envs.box2d": "box2d",
    "gymnasium.envs.mujoco": "mujoco",
    "gymnasium_robotics": "robotics",
}


def _import_env_module(env_id: str, module: str) -> Any:
    try:
        return _import_from_here_too(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or not (module == missing or module.startswith(missing + ".")):
            raise UnknownEnvironmentError(
                f"environment {env_id!r}: importing {module!r} needs {missing!r}, "
                f"which is not installed (pip install {missing.split('.')[0]})"
            ) from None
        raise UnknownEnvironmentError(
            f"unknown environment {env_id!r}: no module named {missing!r}"
        ) from None
    except Exception as exc:  # the user's module fails to import: say so in one line
        raise ConfigError(
            f"environment {env_id!r}: importing {module!r} failed: {type(exc).__name__}: {exc}"
        ) from None


def _import_from_here_too(module: str) -> Any:
    """Import ``module``; if it is not on the path, also look in the current directory.

    ``rl`` runs as a console script, whose path starts at its own folder rather than
    the working directory, so a user's ``my_envs.py`` beside them would not be found.
    The working directory goes last, so it never shadows an installed package.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.partition(".")[0]
        here = os.getcwd()
        if exc.name != top or here in sys.path or not _is_module_in(here, top):
            raise
        sys.path.append(here)
        return importlib.import_module(module)


def _is_module_in(folder: str, name: str) -> bool:
    base = os.path.join(folder, name)
    return os.path.isfile(base + ".py") or os.path.isdir(base)


def find_env_spec(env_id: str) -> EnvSpec:
    """The spec of ``env_id``: a registered id, ``"module:EnvId"`` (imports ``module``,
    then looks the id up, as Gymnasium does) or ``"package.module:factory"``, where
    ``factory`` is a :class:`gymnasium.Env` subclass or a callable returning an env
    (called with the config's ``env_kwargs``).

    Ids of the suites that are extras of rl-core (``ALE/...``, ``MinAtar/...``,
    ``MiniGrid-...``, ``Fetch...``: :data:`SUITES`) import their package first; a missing one is a
    :class:`ConfigError` naming the extra. Their specs build the envs rl trains on
    (:func:`~rl_core.envs.suites.adapt_spec`: Atari with the standard preprocessing,
    MiniGrid without the mission string).

    Raises :class:`UnknownEnvironmentError` naming the closest registered ids
    when Gymnasium does not know the id (or the module cannot be found).
    """
    name = env_id
    if ":" in env_id:
        module_name, _, name = env_id.partition(":")
        module = _import_env_module(env_id, module_name)
        factory = getattr(module, name, None) if name.isidentifier() else None
        if factory is not None:
            if not callable(factory):
                raise UnknownEnvironmentError(
                    f"environment {env_id!r}: {name!r} is not a gymnasium.Env class or a "
                    "function returning one"
                )
            # disable_env_checker: a user's env is checked once by us, not on every make.
            return EnvSpec(id=env_id, entry_point=factory, disable_env_checker=True)
    load_suite(name)
    try:
        spec = gym.spec(name)
    except gym.error.Error as exc:
        raise UnknownEnvironmentError(_unknown_message(name)) from exc
    return adapt_spec(spec)


@contextlib.contextmanager
def env_errors(env_id: str) -> Iterator[None]:
    """Any error while an env is created becomes one :class:`ConfigError` line naming
    the fix: a missing optional dependency (with the extra that brings it), env kwargs
    that do not fit, or whatever the env's constructor raised."""
    try:
        yield
    except RLError:
        raise
    except gym.error.DependencyNotInstalled as exc:
        extra = _extra_for(env_id)
        fix = install_hint(extra) if extra else str(exc)
        raise ConfigError(
            f"{env_id} needs a dependency that is not installed; fix: {fix}"
        ) from None
    except ModuleNotFoundError as exc:
        extra = _extra_for(env_id)
        fix = install_hint(extra) if extra else f"pip install {exc.name}"
        raise ConfigError(
            f"{env_id} needs {exc.name!r}, which is not installed; fix: {fix}"
        ) from None
    except TypeError as exc:
        raise ConfigError(f"env_kwargs do not fit {env_id}: {exc}") from None
    except Exception as exc:
        raise ConfigError(f"creating {env_id} failed: {type(exc).__name__}: {exc}") from None


def _extra_for(env_id: str) -> str | None:
    try:
        spec = find_env_spec(env_id)
    except RLError:
        return None
    suite = suite_for(env_id.rpartition(":")[2], spec)
    if suite is not None:
        return suite.extra
    entry_point = spec.entry_point
    module = entry_point if isinstance(entry_point, str) else getattr(entry_point, "__module__", "")
    module = (module or "").partition(":")[0]
    for prefix, extra in _EXTRAS.items():
        if module == prefix or module.startswith(prefix + "."):
            return extra
    return None


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make(env_id, **kwargs)`` for any id :func:`find_env_spec` takes; any
    failure is one :class:`ConfigError` line (see :func:`env_errors`)."""
    spec = find_env_spec(env_id)
    with env_errors(env_id):
        return gym.make(spec, **kwargs)


def make_vector_env(
    env_id: str,
    num_envs: int,
    seed: int | None,
    env_kwargs: Mapping[str, Any] | None = None,
    vectorization: str = "sync",
    **vector_kwargs: Any,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id`` stepped together, seeded ``seed, seed+1, ...``.

    ``vectorization`` is ``"sync"`` (the default: :class:`~gymnasium.vector.SyncVectorEnv`,
    faster than subprocesses for small envs), ``"async"`` (subprocesses), ``"numpy"``
    (rl_core's own vector implementation of the env, for CartPole-v1 and MinAtar's ids
    with SAME_STEP autoreset and no env kwargs; step-for-step the same as ``"sync"``) or
    ``"auto"`` (``"numpy"`` where it applies, else ``"sync"``).
    ``vector_kwargs`` go to the vector env (e.g. ``autoreset_mode``). With a
    ``seed``, the envs are reset once with it (gymnasium seeds copy ``i`` with
    ``seed + i``) and the action spaces are seeded, so a following
    ``reset()`` without a seed is repeatable; ``seed=None`` leaves all unseeded.
    """
    mode = getattr(vectorization, "value", vectorization)
    if mode not in ("sync", "async", "numpy", "auto"):
        raise ConfigError(
            f"vectorization must be 'sync', 'async', 'numpy' or 'auto', got {vectorization!r}"
        )
    if num_envs < 1:
        raise ConfigError(f"num_envs must be >= 1, got {num_envs}")
    # First, so that an id whose suite is not installed is the suite's one-line hint.
    spec = find_env_spec(env_id)
    if mode in ("numpy", "auto"):
        numpy_env = _numpy_vector_env(env_id, env_kwargs, vector_kwargs)
        if numpy_env is None and mode == "numpy":
            raise ConfigError(
                f"vectorization 'numpy' has no implementation of {env_id} with these settings "
                f"(it has {', '.join(NUMPY_VECTOR_ENVS)} and MinAtar's ids, with SAME_STEP "
                "autoreset and no env kwargs); use 'sync'"
            )
        if numpy_env is not None:
            envs = numpy_env(num_envs)
            _seed_vector_env(envs, seed)
            return envs
        mode = "sync"
    with env_errors(env_id):
        envs = gym.make_vec(
            spec,
            num_envs=num_envs,
            vectorization_mode=mode,
            vector_kwargs=dict(vector_kwargs),
            **dict(env_kwargs or {}),
        )
    _seed_vector_env(envs, seed)
    return envs


def make_training_envs(
    config: Any, algorithm: str, *, vectorization: str = "sync", box_observations: bool = True
) -> gym.vector.VectorEnv:
    """The envs a learner collects from: ``config.num_envs`` copies of ``config.env``
    (with its ``env_kwargs``, seeded ``config.seed``) in SAME_STEP autoreset mode.

    SAME_STEP makes every step a real transition, and an episode's last observation
    arrives in ``info["final_obs"]``, which a time-limit truncation bootstraps from.
    With ``box_observations``, any other observation space is a :class:`ConfigError`
    naming ``algorithm``.
    """
    envs = make_vector_env(
        config.env,
        config.num_envs,
        seed=config.seed,
        env_kwargs=config.env_kwargs,
        vectorization=vectorization,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    space = envs.single_observation_space
    if box_observations and not isinstance(space, gym.spaces.Box):
        envs.close()
        raise ConfigError(
            f"{algorithm} needs a Box observation space; {config.env} has {type(space).__name__}"
        )
    return envs


# rl_core's own vector implementations of registered envs, step for step the same as
# Gymnasium's SyncVectorEnv: CartPole as one NumPy update for every copy; MinAtar's games
# (every MinAtar/<Game>-v0 and -v1 id, see minatar_vector) as a loop over the games.
NUMPY_VECTOR_ENVS: dict[str, Callable[[int], gym.vector.VectorEnv]] = {
    "CartPole-v1": CartPoleSameStepVectorEnv,
}


def _numpy_vector_env(
    env_id: str, env_kwargs: Mapping[str, Any] | None, vector_kwargs: Mapping[str, Any]
) -> Callable[[int], gym.vector.VectorEnv] | None:
    same_step = vector_kwargs == {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
    if env_kwargs or not same_step:
        return None
    return NUMPY_VECTOR_ENVS.get(env_id) or minatar_vector_env(env_id)


def _seed_vector_env(envs: gym.vector.VectorEnv, seed: int | None) -> None:
    if seed is not None:
        envs.reset(seed=seed)
        envs.action_space.seed(seed)
        envs.single_action_space.seed(seed)


def check_env_id(env_id: str) -> None:
    """Raise :class:`UnknownEnvironmentError` for an id Gymnasium does not know."""
    find_env_spec(env_id)


register_envs()
