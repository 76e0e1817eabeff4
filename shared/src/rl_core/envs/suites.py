"""Env suites that are optional extras of rl-core: found lazily, adapted to rl's conventions.

A suite's package registers its ids with Gymnasium when it is imported. Importing it
with ``rl_core.envs`` would slow every command down (MinAtar alone imports matplotlib,
seaborn and SciPy), so :func:`load_suite` imports it only when an id of the suite is
asked for, and a missing package is one line naming the extra that installs it.
:func:`adapt_spec` then makes a suite's envs what an rl algorithm expects (Atari with
the standard preprocessing, MiniGrid without the mission string).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec, load_env_creator

from rl_core.errors import ConfigError, install_hint

__all__ = ["SUITES", "Suite", "adapt_spec", "load_suite", "suite_for", "uses_reward_clipping"]


@dataclasses.dataclass(frozen=True)
class Suite:
    """A family of Gymnasium ids that an optional extra of rl-core brings."""

    extra: str
    """The rl-core extra that installs the suite (``uv sync --extra <extra>``)."""
    package: str
    """The PyPI package behind it, for messages."""
    module: str
    """Importing this registers the suite's ids with Gymnasium."""
    id_pattern: str
    """A regular expression matched against the whole id."""
    entry_points: tuple[str, ...]
    """Modules (prefixes) of the suite's entry points, before and after :func:`adapt_spec`:
    they find ids that the pattern does not know (registered by the user's own import)."""
    reward_clipping: bool = False
    """Its standard learning setup trains on clipped rewards (:func:`uses_reward_clipping`)."""
    register: str | None = None
    """A function of ``module`` to call to register the ids, if importing does not."""

    def matches(self, env_id: str) -> bool:
        return re.fullmatch(self.id_pattern, env_id) is not None


SUITES: tuple[Suite, ...] = (
    Suite(
        extra="atari",
        package="ale-py",
        module="ale_py",
        # ALE's v5 namespace, and the v0/v4 NoFrameskip ids of the DQN-era baselines.
        id_pattern=r"ALE/.+|[A-Za-z]+NoFrameskip-v[04]",
        entry_points=("ale_py.", "rl_core.envs.atari"),
        reward_clipping=True,
    ),
    Suite(
        extra="minatar",
        package="MinAtar",
        module="minatar.gym",
        id_pattern=r"MinAtar/.+",
        entry_points=("minatar.",),
        register="register_envs",
    ),
    Suite(
        extra="robotics",
        package="gymnasium-robotics",
        module="gymnasium_robotics",
        # The goal envs HER is made for (Fetch arm, Shadow hand), the mazes and the kitchen.
        id_pattern=r"(Fetch|HandReach|HandManipulate|AdroitHand|AntMaze_|PointMaze_|FrankaKitchen).+",
        entry_points=("gymnasium_robotics.",),
    ),
    Suite(
        extra="minigrid",
        package="minigrid",
        module="minigrid",
        id_pattern=r"(MiniGrid|BabyAI)-.+",
        entry_points=("minigrid.",),
    ),
)


def suite_for(env_id: str, spec: EnvSpec | None = None) -> Suite | None:
    """The suite ``env_id`` belongs to (by its name, or by ``spec``'s entry point), if any."""
    module = _entry_module(spec) if spec is not None else None
    for suite in SUITES:
        if suite.matches(env_id) or (module and module.startswith(suite.entry_points)):
            return suite
    return None


def load_suite(env_id: str) -> Suite | None:
    """Import the package of ``env_id``'s suite so that its ids are registered.

    Raises a one-line :class:`ConfigError` naming the extra when it is not installed.
    Returns the suite, or None for an id of no suite.
    """
    suite = suite_for(env_id)
    if suite is None:
        return None
    try:
        module = importlib.import_module(suite.module)
    except ModuleNotFoundError as exc:
        missing = exc.name or suite.module
        raise ConfigError(
            f"{env_id} needs the {suite.extra!r} extra of rl-core ({suite.package}; "
            f"{missing!r} is not installed); fix: {install_hint(suite.extra)}"
        ) from None
    if suite.register is not None and not _any_registered(suite):
        getattr(module, suite.register)()
    return suite


def _any_registered(suite: Suite) -> bool:
    return any(suite_for("", spec) is suite for spec in gym.registry.values())


def _entry_module(spec: EnvSpec) -> str:
    entry_point = spec.entry_point
    if isinstance(entry_point, functools.partial) and entry_point.args:
        entry_point = entry_point.args[0]  # adapt_spec's wrapper: the original entry point
    if isinstance(entry_point, str):
        return entry_point.partition(":")[0]
    return getattr(entry_point, "__module__", None) or ""


def uses_reward_clipping(env_id: str) -> bool:
    """Whether the standard way to learn on ``env_id`` clips rewards to their sign.

    True for Atari (Mnih et al. 2015; every Atari agent since). The env always returns
    the game's reward, so returns are game scores; an algorithm that follows the
    standard applies :func:`rl_core.envs.atari.clip_reward` to the rewards it learns from.
    """
    name = env_id.rpartition(":")[2]
    suite = suite_for(name)
    if suite is None:
        try:
            suite = suite_for(name, gym.spec(name))
        except gym.error.Error:
            return False
    return suite is not None and suite.reward_clipping


def adapt_spec(spec: EnvSpec) -> EnvSpec:
    """``spec`` made to build the env rl trains on: Atari games with the standard
    preprocessing (:mod:`rl_core.envs.atari`), MiniGrid without the mission string.
    Specs of other envs come back unchanged."""
    module = _entry_module(spec)
    if module == "ale_py.env":
        from rl_core.envs.atari import make_atari_env

        # ALE's own frame skip stays 1 (the preprocessing skips): the id's is dropped.
        kwargs = {k: v for k, v in spec.kwargs.items() if k != "frameskip"}
        return dataclasses.replace(
            spec, entry_point=make_atari_env, kwargs=kwargs, vector_entry_point=None
        )
    adapted = getattr(spec.entry_point, "func", None) is make_without_mission
    if module.startswith("minigrid.") and not adapted:
        return dataclasses.replace(
            spec,
            entry_point=functools.partial(make_without_mission, spec.entry_point),
            vector_entry_point=None,
        )
    return spec


def make_without_mission(entry_point: Any, **kwargs: Any) -> gym.Env:
    """A MiniGrid env whose Dict observation keeps ``image`` (7x7x3 uint8) and
    ``direction`` (Discrete(4)) and drops ``mission``, a string that no network takes
    (and that is the same in every episode of most MiniGrid tasks, e.g. DoorKey)."""
    from gymnasium.wrappers import FilterObservation

    creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    env = creator(**kwargs)
    keys = [key for key in env.observation_space.spaces if key != "mission"]
    return MiniGridImageBounds(FilterObservation(env, keys))


class MiniGridImageBounds(gym.ObservationWrapper):
    """Declares the true per-channel maxima of MiniGrid's ``image`` (object, colour and
    state ids: 10, 5, 2 in minigrid 3.x) instead of its Box's 255, so that an encoder that
    scales images by their bounds (:func:`rl_core.spaces.image_scale`) maps the codes to
    [0, 1] rather than to [0, 0.04]. The observations themselves are unchanged."""

    def __init__(self, env: gym.Env) -> None:
        from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX

        super().__init__(env)
        image = env.observation_space["image"]
        maxima = [max(table.values()) for table in (OBJECT_TO_IDX, COLOR_TO_IDX, STATE_TO_IDX)]
        high = np.broadcast_to(np.array(maxima, image.dtype), image.shape)
        self.observation_space = gym.spaces.Dict(
            {**env.observation_space.spaces, "image": gym.spaces.Box(0, high, dtype=image.dtype)}
        )

    def observation(self, observation):
        return observation
