"""Learning curves from run directories' metrics.jsonl."""

from __future__ import annotations

from pathlib import Path

from rl_core.errors import RunDirectoryError
from rl_core.run import RunDirectory


def curve(run: RunDirectory, metric: str) -> tuple[list[int], list[float]]:
    steps, values = [], []
    for record in run.read_metrics():
        value = record.get(metric)
        if isinstance(value, (int, float)) and "global_step" in record:
            steps.append(int(record["global_step"]))
            values.append(float(value))
    return steps, values


def plot_runs(runs: list[RunDirectory], out: Path, metric: str = "charts/episodic_return") -> Path:
    """One line per run of ``metric`` against env steps, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    plotted = 0
    for run in runs:
        steps, values = curve(run, metric)
        if steps:
            ax.plot(steps, values, label=run.path.name)
            plotted += 1
    if not plotted:
        plt.close(fig)
        names = ", ".join(str(r.path) for r in runs)
        raise RunDirectoryError(f"no {metric!r} values logged yet in {names}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(metric.split("/")[-1].replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
