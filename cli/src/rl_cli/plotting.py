"""Learning curves from run directories' metrics.jsonl, aggregated over seeds.

Runs are grouped by what they trained (algorithm and every setting but the seed and
bookkeeping such as the device), or by ``--group-by KEY`` / explicit labels. A group of
several runs is drawn as its mean with a 95% confidence interval of the mean (Student's
t over the runs), each run first interpolated onto the group's common x range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rl_core.errors import ConfigError, RunDirectoryError
from rl_core.run import RunDirectory

X_AXES = ("steps", "time")
# Settings that do not change what a run learns: runs differing only here are seeds
# of one experiment.
_BOOKKEEPING = {
    "seed",
    "device",
    "checkpoint_every",
    "keep_checkpoints",
    "eval_episodes",
    "eval_deterministic",  # also absent from the configs of runs made before it existed
}
# Two-sided 97.5% Student t quantiles for 1..30 degrees of freedom (then ~1.96).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(dof: int) -> float:
    """Student's t at 0.975 for ``dof`` degrees of freedom (the 95% two-sided interval)."""
    if dof < 1:
        raise ValueError("a confidence interval needs at least two runs")
    return _T975[dof - 1] if dof <= len(_T975) else 1.96


def curve(run: RunDirectory, metric: str, x: str = "steps") -> tuple[np.ndarray, np.ndarray]:
    """``(x, values)`` of ``metric`` in ``run``; x is env steps or seconds since the start."""
    xs, values = [], []
    start = None
    for record in run.read_metrics():
        value = record.get(metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if x == "steps":
            if "global_step" not in record:
                continue
            xs.append(float(record["global_step"]))
        else:
            if not isinstance(record.get("time"), (int, float)):
                continue
            start = record["time"] if start is None else start
            xs.append(float(record["time"] - start))
        values.append(float(value))
    return np.asarray(xs), np.asarray(values)


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    if not 0.0 <= weight < 1.0:
        raise ConfigError(f"--smooth must be in [0, 1), got {weight}")
    if weight == 0.0 or len(values) == 0:
        return values
    out = np.empty_like(values)
    last, debias = 0.0, 0.0
    for i, value in enumerate(values):
        last = weight * last + (1 - weight) * value
        debias = weight * debias + (1 - weight)
        out[i] = last / debias
    return out


@dataclass
class Group:
    """Runs drawn as one line."""

    label: str
    runs: list[RunDirectory] = field(default_factory=list)


@dataclass
class Aggregate:
    """A group's mean curve and its 95% interval (``low``/``high`` equal ``mean`` for one run)."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: int


def aggregate(curves: Sequence[tuple[np.ndarray, np.ndarray]], points: int = 200) -> Aggregate:
    """Mean and 95% interval over ``curves``, on the x range they all cover."""
    curves = [(x, y) for x, y in curves if len(x)]
    if not curves:
        raise ValueError("no curve has any point")
    if len(curves) == 1:
        x, y = curves[0]
        return Aggregate(x, y, y, y, 1)
    lo = max(float(x[0]) for x, _ in curves)
    hi = min(float(x[-1]) for x, _ in curves)
    if hi < lo:
        hi = lo
    grid = np.linspace(lo, hi, points) if hi > lo else np.asarray([lo])
    stacked = np.stack([np.interp(grid, x, y) for x, y in curves])
    mean = stacked.mean(axis=0)
    half = t_quantile_975(len(curves) - 1) * stacked.std(axis=0, ddof=1) / math.sqrt(len(curves))
    return Aggregate(grid, mean, mean - half, mean + half, len(curves))


def _experiment(run: RunDirectory) -> tuple[str, dict[str, Any]]:
    meta, config = run.read_config()
    return str(meta.get("algorithm", "?")), {
        k: v for k, v in config.items() if k not in _BOOKKEEPING
    }


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def group_runs(
    runs: Sequence[RunDirectory],
    group_by: str | None = None,
    labels: Sequence[str] | None = None,
) -> list[Group]:
    """Runs grouped into experiments, in order of first appearance.

    ``labels`` (one per run) name the groups directly; ``group_by`` groups by one
    setting (``"learning_rate"``, ``"algorithm"``); otherwise runs that differ only in
    the seed and bookkeeping settings form a group, labelled by algorithm, env and the
    settings that tell the groups apart.
    """
    if labels is not None:
        if len(labels) != len(runs):
            raise ConfigError(f"--label given {len(labels)} times for {len(runs)} runs")
        keys: list[Any] = list(labels)
    else:
        experiments = [_experiment(r) for r in runs]
        if group_by is not None:
            keys = []
            for run, (algo, config) in zip(runs, experiments, strict=True):
                if group_by != "algorithm" and group_by not in config:
                    raise ConfigError(f"{run.path} has no setting {group_by!r} to group by")
                value = algo if group_by == "algorithm" else config[group_by]
                keys.append(f"{group_by}={value}" if group_by != "algorithm" else value)
        else:
            keys = [(algo, _freeze(config)) for algo, config in experiments]
    groups: dict[Any, Group] = {}
    for key, run in zip(keys, runs, strict=True):
        groups.setdefault(key, Group(label=str(key))).runs.append(run)
    if labels is None and group_by is None:
        _name_experiments(groups)
    return list(groups.values())


def _name_experiments(groups: Mapping[Any, Group]) -> None:
    """Label each experiment by algorithm and env plus the settings that differ."""
    configs = {key: dict(key[1]) for key in groups}
    differing = sorted(
        {
            name
            for config in configs.values()
            for name in config
            if name != "env" and len({_freeze(c.get(name)) for c in configs.values()}) > 1
        }
    )
    for key, group in groups.items():
        algo, config = key[0], configs[key]
        extra = ", ".join(f"{n}={config.get(n)}" for n in differing if n in config)
        group.label = f"{algo} {config.get('env', '')}".strip() + (f" ({extra})" if extra else "")


def plot_runs(
    runs: list[RunDirectory],
    out: Path,
    metric: str = "charts/episodic_return",
    *,
    x: str = "steps",
    smoothing: float = 0.0,
    group_by: str | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Learning curves of ``metric`` as a PNG: one line per group of runs (mean with a
    shaded 95% interval where a group holds several runs)."""
    if x not in X_AXES:
        raise ConfigError(f"--x must be one of {', '.join(X_AXES)}, got {x!r}")
    groups = group_runs(runs, group_by=group_by, labels=labels)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    plotted = 0
    for group in groups:
        curves = []
        for run in group.runs:
            xs, ys = curve(run, metric, x)
            curves.append((xs, smooth(ys, smoothing)))
        if not any(len(c[0]) for c in curves):
            continue
        agg = aggregate(curves)
        name = group.label if agg.runs == 1 else f"{group.label} ({agg.runs} runs)"
        (line,) = ax.plot(agg.x, agg.mean, label=name)
        if agg.runs > 1:
            ax.fill_between(agg.x, agg.low, agg.high, color=line.get_color(), alpha=0.2)
        plotted += 1
    if not plotted:
        plt.close(fig)
        names = ", ".join(str(r.path) for r in runs)
        raise RunDirectoryError(f"no {metric!r} values logged yet in {names}")
    ax.set_xlabel("environment steps" if x == "steps" else "wall time (s)")
    ax.set_ylabel(metric.split("/")[-1].replace("_", " "))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
