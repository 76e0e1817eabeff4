"""Benchmark harness: train an algorithm on several seeds and record what it reached.

Each seed is a real ``rl train`` run (a subprocess, so every seed starts from a
fresh process). From the run directories it records env steps/s, env steps to
the target return (first log record whose recent mean training return reaches
it), the final greedy evaluation (mean ± std over seeds) and wall time, then
updates that benchmark's row in ``benchmarks/RESULTS.md`` and writes a
learning-curve PNG to ``benchmarks/plots/``.

    python benchmarks/run.py ppo --env CartPole-v1 --steps 100000 --seeds 0 1 2 3 4 \\
        --target 475 --eval-episodes 20
    python benchmarks/run.py --all          # every entry of suite.toml and suite.d/*.toml
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "RESULTS.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
HEADER = (
    "| benchmark | algo | env | steps | seeds | final eval return | seeds >= target "
    "| steps to target (median) | env steps/s | wall time / seed | date | machine |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


@dataclass
class Benchmark:
    name: str
    algo: str
    env: str | None = None
    steps: int | None = None
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    target: float | None = None
    eval_episodes: int = 20
    preset: str | None = None
    settings: list[str] = field(default_factory=list)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"


def pinned(cpu: int | None) -> tuple[list[str], dict[str, str]]:
    """The command prefix and environment that hold a process to one thread on ``cpu``
    (nothing for ``None``): how the speed comparisons keep both sides on equal terms on a
    machine whose other core is busy."""
    if cpu is None:
        return [], {}
    one = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return ["taskset", "-c", str(cpu)], one


def time_rl_train(
    args: list[str], cpu: int | None = None, environ: dict[str, str] | None = None
) -> dict:
    """One ``python -m rl_cli train ARGS`` process in a fresh run directory, as a user runs
    it (pinned with :func:`pinned` when ``cpu`` is given; ``environ`` adds to the
    environment): its wall time from start to exit, learn() time from the last metrics
    record (steps / charts/SPS) and the final evaluation's mean return."""
    prefix, threads = pinned(cpu)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [*prefix, sys.executable, "-m", "rl_cli", "train", *args]
        cmd += ["--run-dir", str(run_dir)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **threads, **(environ or {})}
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        wall = time.perf_counter() - start
        last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
        evaluation = json.loads((run_dir / "evaluation.json").read_text())
    return {
        "wall": wall,
        "learn": last["global_step"] / last["charts/SPS"],
        "return": evaluation["return_mean"],
    }


def time_python_script(
    python: str,
    script: str,
    args: list[str],
    cpu: int | None = None,
    environ: dict[str, str] | None = None,
) -> dict:
    """One ``PYTHON -c SCRIPT ARGS`` process (a peer library in its own virtualenv), pinned
    with :func:`pinned` when ``cpu`` is given (``environ`` adds to the environment): its
    wall time from start to exit, plus the JSON object the script prints last."""
    prefix, threads = pinned(cpu)
    start = time.perf_counter()
    out = subprocess.run(
        [*prefix, python, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **threads, **(environ or {})},
    ).stdout
    wall = time.perf_counter() - start
    return {"wall": wall, **json.loads(out.strip().splitlines()[-1])}


def run_seed(bench: Benchmark, seed: int, root: Path) -> dict:
    run_dir = root / f"seed{seed}"
    cmd = [sys.executable, "-m", "rl_cli", "train", bench.algo, "--seed", str(seed)]
    cmd += ["--run-dir", str(run_dir), "--set", f"eval_episodes={bench.eval_episodes}"]
    if bench.env:
        cmd += ["--env", bench.env]
    if bench.steps:
        cmd += ["--steps", str(bench.steps)]
    if bench.preset:
        cmd += ["--preset", bench.preset]
    for setting in bench.settings:
        cmd += ["--set", setting]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"seed {seed} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    reached = None
    if bench.target is not None:
        for r in records:
            value = r.get("charts/episodic_return")
            if isinstance(value, (int, float)) and value >= bench.target:
                reached = r["global_step"]
                break
    steps = records[-1]["global_step"]
    sps = [r["charts/SPS"] for r in records if isinstance(r.get("charts/SPS"), (int, float))]
    return {
        "seed": seed,
        "run_dir": str(run_dir),
        "wall_s": wall,
        "steps": steps,
        "sps": sps[-1] if sps else steps / wall,
        "eval_mean": evaluation["return_mean"],
        "success_rate": evaluation.get("success_rate"),
        "target_step": reached,
        "eval_reached": bench.target is not None and evaluation["return_mean"] >= bench.target,
    }


def summarize(bench: Benchmark, results: list[dict]) -> str:
    evals = [r["eval_mean"] for r in results]
    # Returns in [0, 1] (MiniGrid, success-shaped rewards) need two decimals to be read.
    digits = 1 if max(abs(v) for v in evals) >= 10 else 2
    final = f"{statistics.mean(evals):.{digits}f}"
    if len(evals) > 1:  # one seed has no spread to report
        final += f" ± {statistics.pstdev(evals):.{digits}f}"
    successes = [r["success_rate"] for r in results if r["success_rate"] is not None]
    if successes:
        final += f" (success {statistics.mean(successes):.2f})"
    if bench.target is None:
        hit, to_target = "-", "-"
    else:
        hit = f"{sum(r['eval_reached'] for r in results)}/{len(results)} (>= {bench.target:g})"
        steps = [r["target_step"] for r in results if r["target_step"] is not None]
        to_target = f"{int(statistics.median(steps)):,}" if steps else "not reached"
    sps = statistics.mean(r["sps"] for r in results)
    wall = statistics.mean(r["wall_s"] for r in results)
    config = tomllib.loads((Path(results[0]["run_dir"]) / "config.toml").read_text())["config"]
    env = config["env"] + (f" (preset {bench.preset})" if bench.preset else "")
    return (
        f"| {bench.name} | {bench.algo} | {env} | {results[0]['steps']:,} "
        f"| {len(results)} | {final} | {hit} | {to_target} | {sps:,.0f} | {wall:.0f} s "
        f"| {dt.date.today().isoformat()} | {machine()} |"
    )


def update_results(name: str, row: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    before, rest = text.split(BEGIN, 1)
    table, after = rest.split(END, 1)
    rows = [line for line in table.strip().splitlines()[2:] if not line.startswith(f"| {name} |")]
    rows.append(row)
    RESULTS.write_text(f"{before}{BEGIN}\n{HEADER}" + "\n".join(sorted(rows)) + f"\n{END}{after}")


def run_benchmark(bench: Benchmark, jobs: int = 1) -> None:
    root = HERE / "runs" / bench.name
    shutil.rmtree(root, ignore_errors=True)  # scratch space of the previous run of this entry
    # Seeds are separate processes; with jobs > 1 they share the machine, which lowers
    # each one's env steps/s (the row's figure), not what it learns.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda seed: run_seed(bench, seed, root), bench.seeds))
    for r in results:
        print(json.dumps(r))
    from rl_cli.plotting import plot_runs
    from rl_core.run import RunDirectory

    # The seeds are one experiment: drawn as their mean with a 95% interval.
    plot = plot_runs(
        [RunDirectory(r["run_dir"]) for r in results],
        HERE / "plots" / f"{bench.name}.png",
        labels=[bench.name] * len(results),
        title=bench.name,
    )
    row = summarize(bench, results)
    update_results(bench.name, row)
    print(row)
    print(f"curve: {plot}")


def load_suite() -> list[Benchmark]:
    """``suite.toml`` plus one ``suite.d/<package>.toml`` per algorithm package."""
    benches: dict[str, Benchmark] = {}
    for path in [HERE / "suite.toml", *sorted((HERE / "suite.d").glob("*.toml"))]:
        for name, entry in tomllib.loads(path.read_text()).items():
            if name in benches:
                raise SystemExit(f"{path}: benchmark {name!r} is defined twice")
            benches[name] = Benchmark(name=name, **entry)
    return list(benches.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("algo", nargs="?")
    parser.add_argument("--all", action="store_true", help="run every suite entry")
    parser.add_argument("--only", nargs="*", help="suite entries to run (with --all)")
    parser.add_argument("--name")
    parser.add_argument("--env")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--preset")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    parser.add_argument(
        "--jobs", type=int, default=1, help="seeds run at once (default 1: steps/s undisturbed)"
    )
    args = parser.parse_args()
    if args.all:
        for bench in load_suite():
            if not args.only or bench.name in args.only:
                run_benchmark(bench, args.jobs)
        return
    if not args.algo:
        parser.error("give an algorithm or --all")
    name = args.name or re.sub(r"[^a-z0-9]+", "-", f"{args.algo}-{args.env or 'default'}".lower())
    run_benchmark(
        Benchmark(
            name=name,
            algo=args.algo,
            env=args.env,
            steps=args.steps,
            seeds=args.seeds,
            target=args.target,
            eval_episodes=args.eval_episodes,
            preset=args.preset,
            settings=args.settings,
        ),
        args.jobs,
    )


if __name__ == "__main__":
    main()
