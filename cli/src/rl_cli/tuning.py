"""``rl tune``: hyperparameter search on Optuna (TPE sampling, median pruning).

A study lives in one directory: ``study.db`` (Optuna's SQLite storage, so a killed
search continues where it stopped), one run directory per trial (``trial_0007/``),
and ``best.toml`` once a trial has finished. Each trial trains with ``eval_every``
on; its evaluations are the intermediate values the median pruner compares, and its
final greedy evaluation is the objective.

A search space maps setting names to distributions, in TOML or as a mapping::

    learning_rate = { low = 1e-5, high = 1e-2, log = true }   # float
    n_epochs = { low = 3, high = 30 }                           # int (both bounds ints)
    gamma = { choices = [0.95, 0.98, 0.99, 0.995] }             # categorical

Packages declare a default space (``AlgorithmSpec.search_space``); ``--space FILE``
replaces it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rl_core.algorithm import AlgorithmSpec
from rl_core.config import BaseConfig, apply_overrides, config_to_toml, load_toml
from rl_core.errors import ConfigError, install_hint
from rl_core.run import RunDirectory, atomic_write_text

STUDY_FILE = "study.db"
BEST_FILE = "best.toml"


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One searched setting: a float or int range (``log`` for a log scale) or choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def suggest(self, trial: Any) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.is_int:
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


def parse_space(data: Mapping[str, Any], config_cls: type[BaseConfig]) -> list[Dimension]:
    """A search space checked against the settings of ``config_cls``."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    space = []
    for name, spec in data.items():
        if name not in names:
            raise ConfigError(f"search space: unknown setting {name!r}")
        if not isinstance(spec, Mapping):
            raise ConfigError(f"search space: {name} must be a table (low/high or choices)")
        unknown = set(spec) - {"low", "high", "log", "choices"}
        if unknown:
            raise ConfigError(f"search space: {name} has unknown keys {sorted(unknown)}")
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise ConfigError(f"search space: {name}.choices must be a non-empty list")
            space.append(Dimension(name, choices=tuple(choices)))
            continue
        low, high = spec.get("low"), spec.get("high")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
            raise ConfigError(f"search space: {name} needs numeric low and high, or choices")
        if not low < high:
            raise ConfigError(f"search space: {name} needs low < high, got {low} and {high}")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise ConfigError(f"search space: {name} on a log scale needs low > 0")
        space.append(Dimension(name, low, high, log))
    if not space:
        raise ConfigError("search space is empty")
    return space


def default_space(spec: AlgorithmSpec) -> Mapping[str, Any]:
    space = spec.search_space
    if isinstance(space, (str, Path)):
        space = load_toml(space)
    if not space:
        raise ConfigError(f"{spec.name} declares no search space; give one with --space FILE.toml")
    return space


def require_optuna() -> Any:
    try:
        import optuna

        # One line per trial is printed by `rl tune` itself.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        raise ConfigError(
            f"rl tune needs Optuna, which is not installed; fix: {install_hint('tune', 'cli')}"
        ) from None
    return optuna


def default_study_dir(algo: str, env_id: str, root: str | Path = "tune") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in env_id).strip("-")
    return Path(root) / f"{algo}-{slug}-{stamp}"


@dataclasses.dataclass
class Tuner:
    """Everything one trial needs: the algorithm, the settings every trial shares
    (``base``, already composed with its env preset and the user's ``--set``), the space,
    and the study's folder."""

    spec: AlgorithmSpec
    base: BaseConfig
    space: list[Dimension]
    study_dir: Path
    eval_every: int
    report: Callable[[str], None] = print

    def objective(self, trial: Any) -> float:
        optuna = require_optuna()
        params = {d.name: d.suggest(trial) for d in self.space}
        try:
            config = apply_overrides(
                self.base, {**params, "eval_every": self.eval_every, "seed": self.base.seed}
            )
        except ConfigError as exc:
            # A combination the algorithm rejects (e.g. a batch that does not divide the
            # rollout) is a failed point of the space, not a failed study.
            trial.set_user_attr("invalid", str(exc))
            raise optuna.TrialPruned(f"invalid settings: {exc}") from None
        run = RunDirectory.create(
            self.spec.name, config.env, path=self.study_dir / f"trial_{trial.number:04d}"
        )
        run.write_config(self.spec.name, config, device=config.device, tune_trial=trial.number)
        trial.set_user_attr("run_dir", str(run.path))
        trial.set_user_attr("pid", os.getpid())  # which worker ran it (parallel studies)

        def on_evaluation(record: Mapping[str, Any]) -> bool:
            trial.report(float(record["eval/episodic_return"]), int(record["global_step"]))
            return not trial.should_prune()

        run.evaluation_listeners.append(on_evaluation)
        self.spec.train(config, run)
        if not run.policy_dir.is_dir():
            raise optuna.TrialPruned(f"pruned at step {run.read_metrics()[-1]['global_step']}")
        from rl_core.evaluation import evaluate_policy

        result = evaluate_policy(
            self.spec.load_policy(run.policy_dir),
            config.env,
            config.env_kwargs,
            episodes=max(config.eval_episodes, 1),
            seed=1_000_000,
            deterministic=config.eval_deterministic,
        )
        run.write_evaluation(result.to_dict())
        return result.return_mean


def open_study(study_dir: Path, seed: int, *, resume_stale: bool = True) -> Any:
    """The study in ``study_dir`` (created or continued), maximizing return."""
    optuna = require_optuna()
    study_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(study_dir / STUDY_FILE).resolve()}"
    study = optuna.create_study(
        study_name="rl",
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
        load_if_exists=True,
    )
    if resume_stale:
        # Trials a killed search left RUNNING will never finish: fail them, so that the
        # trial count and the sampler see the truth, and run that many again.
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return study


def finished_trials(study: Any) -> int:
    optuna = require_optuna()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=done))


def write_best(study: Any, spec: AlgorithmSpec, base: BaseConfig, out: Path) -> Path | None:
    """The best trial's settings as a config file for ``rl train --config``."""
    optuna = require_optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return None
    best = max(complete, key=lambda t: t.value)
    config = apply_overrides(base, best.params)
    header = (
        f"# rl tune {spec.name}: best of {len(complete)} finished trials, trial {best.number} "
        f"(greedy return {best.value:.2f}; run {best.user_attrs.get('run_dir', '?')}).\n"
        "# Tuned: " + ", ".join(f"{k} = {v!r}" for k, v in best.params.items()) + "\n"
        f"# Use it with: rl train {spec.name} --config {out}\n\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, header + config_to_toml(config))
    return out


def optimize(
    tuner: Tuner, study: Any, trials: int, timeout: float | None, callbacks: list | None = None
) -> None:
    """Run trials in this process until the study holds ``trials`` finished ones (or
    ``timeout`` seconds pass); a trial that raises an RLError fails alone."""
    optuna = require_optuna()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    left = trials - finished_trials(study)
    if left <= 0:
        return
    study.optimize(
        tuner.objective,
        n_trials=left,
        timeout=timeout,
        callbacks=[optuna.study.MaxTrialsCallback(trials, states=done), *(callbacks or [])],
        catch=(ConfigError,),
        gc_after_trial=True,
    )


def ray_worker(
    algo: str,
    base: BaseConfig,
    space: list[Dimension],
    study_dir: Path,
    eval_every: int,
    trials: int,
    timeout: float | None,
    seed: int,
) -> int:
    """One Ray task's share of a study: the same trial loop, in its own process, on the
    study's shared SQLite storage. Returns the trials it ran."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rl_core.plugins import load_algorithms

    spec = load_algorithms()[1].get(algo)
    tuner = Tuner(spec, base, space, study_dir, eval_every, report=lambda _: None)
    study = open_study(study_dir, seed, resume_stale=False)
    before = len(study.trials)
    optimize(tuner, study, trials, timeout)
    return len(study.trials) - before
