"""Live training progress: a rich bar on a terminal, a periodic log line elsewhere."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


class TrainingProgress:
    """Steps, episodes, recent mean return, steps/s and ETA for one run."""

    def __init__(
        self,
        total_steps: int,
        header: str,
        console: Console | None = None,
        interval_s: float = 10.0,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.total = max(int(total_steps), 1)
        self.header = header
        self.interval_s = interval_s
        self._progress: Progress | None = None
        self._task = None
        self._last_print = 0.0

    def start(self, completed: int = 0) -> None:
        self.console.print(self.header)
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]steps"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=self.total, completed=completed, stats=""
            )
        self._last_print = time.monotonic()

    def update(self, metrics: Mapping[str, Any]) -> None:
        step = int(metrics.get("global_step", 0))
        stats = (
            f"ep {metrics.get('episodes', 0)}  "
            f"return {_fmt(metrics.get('charts/episodic_return'))}  "
            f"{_fmt(metrics.get('charts/SPS'), '.0f')} steps/s"
        )
        if self._progress is not None:
            self._progress.update(self._task, completed=min(step, self.total), stats=stats)
            return
        now = time.monotonic()
        if now - self._last_print >= self.interval_s or step >= self.total:
            self._last_print = now
            sps = metrics.get("charts/SPS") or 0.0
            eta = max(self.total - step, 0) / sps if sps > 0 else float("nan")
            self.console.print(f"{step}/{self.total} steps  {stats}  eta {eta:.0f}s")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
