"""The ``rl`` command, built only from the algorithms that plugins register.

Nothing here imports TensorFlow at module level: ``rl --help`` and ``rl list``
stay fast, and TensorFlow is loaded by the commands that train or evaluate.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import pluggy
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rl_cli import configs
from rl_core.config import config_from_dict, load_toml
from rl_core.errors import ConfigError, RLError
from rl_core.observation_kinds import describe_kinds
from rl_core.plugins import AlgorithmRegistry, make_plugin_manager
from rl_core.run import RunDirectory, locate_saved

# Options several commands take, declared once.
DeviceOption = Annotated[str | None, typer.Option(help="auto, cpu, gpu or gpu:N.")]
PresetOption = Annotated[
    str | None,
    typer.Option(help="A preset the package ships (default: the env's; none: no preset)."),
]
RayAddressOption = Annotated[
    str | None, typer.Option(help="A running Ray cluster (default: start a local one).")
]

out = Console()
# soft_wrap: an error is one line, however narrow the terminal (or a pipe) is.
err = Console(stderr=True, soft_wrap=True)


def build_app(pm: pluggy.PluginManager | None = None) -> typer.Typer:
    """The Typer app for the plugins in ``pm`` (the installed ones by default)."""
    pm = pm if pm is not None else make_plugin_manager()
    registry = AlgorithmRegistry(pm)
    app = typer.Typer(
        name="rl",
        help="Train, evaluate and compare reinforcement-learning agents.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.command("list")
    def list_algorithms() -> None:
        """List the installed algorithms."""
        if not len(registry):
            err.print(
                "no algorithms installed; in a clone of rl: `uv sync`, "
                "or `pip install ./shared ./cli ./packages/ppo`"
            )
            raise typer.Exit(1)
        table = Table(
            "algorithm",
            "default env",
            "observations",
            "distributed",
            "summary",
            box=None,
            header_style="bold",
        )
        for spec in registry.specs():
            runners = ", ".join(spec.distributed) or "-"
            observations = describe_kinds(spec.observations) or "-"
            table.add_row(spec.name, spec.default_env, observations, runners, spec.summary)
        out.print(table)

    @app.command("config")
    def show_config(
        algo: Annotated[str, typer.Argument(help="Algorithm name (see `rl list`).")],
        env: Annotated[
            str | None, typer.Option(help="The settings `rl train --env ID` would use.")
        ] = None,
        preset: Annotated[
            str | None, typer.Option(help="A shipped preset (default: the env's; none: no preset).")
        ] = None,
        config: Annotated[
            Path | None, typer.Option(help="A TOML file of settings, as `rl train` reads it.")
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="A key=value override, as `rl train` reads it."),
        ] = None,
    ) -> None:
        """Print the config `rl train` would use as TOML, with each setting's help."""
        spec = registry.get(algo)
        composed = configs.compose_config(
            spec, preset=preset, config_file=config, flags={"env": env}, overrides=set_ or []
        )
        typer.echo(configs.describe(spec, composed), nl=False)

    @app.command()
    def train(
        algo: Annotated[str, typer.Argument(help="Algorithm name (see `rl list`).")],
        env: Annotated[str | None, typer.Option(help="Gymnasium environment id.")] = None,
        steps: Annotated[int | None, typer.Option(help="Environment steps to train for.")] = None,
        seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
        device: DeviceOption = None,
        run_dir: Annotated[Path | None, typer.Option(help="Where to write the run.")] = None,
        config: Annotated[Path | None, typer.Option(help="TOML file of settings.")] = None,
        preset: PresetOption = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="Override a setting: key=value (repeatable)."),
        ] = None,
        distributed: Annotated[
            str | None, typer.Option(help="Scale out across processes: ray.")
        ] = None,
        num_workers: Annotated[
            int,
            typer.Option(
                "--num-workers", "--num-actors", help="Rollout workers / actors (distributed)."
            ),
        ] = 2,
        ray_address: RayAddressOption = None,
    ) -> None:
        """Train an algorithm and write a run directory."""
        spec = registry.get(algo)
        options = _distributed_options(spec, distributed, num_workers, ray_address)
        composed = _compose_checked(
            spec, "train", preset, config, env, steps, seed, device, set_ or []
        )
        cfg = composed.config
        run = RunDirectory.create(spec.name, cfg.env, path=run_dir)
        resolved = _configure_training_process(cfg.device)
        meta = {"device": resolved, "command": " ".join(sys.argv), "preset": composed.preset}
        if options is not None:
            meta.update(distributed=options.backend, num_workers=options.num_workers)
        run.write_config(spec.name, cfg, **meta)
        try:
            _train_and_report(spec, cfg, run, options)
        except RLError:
            # A run that failed before logging anything (e.g. an env the algorithm cannot
            # handle) leaves nothing worth keeping; don't leave a directory behind.
            if not run.read_metrics() and run.latest_checkpoint() is None:
                shutil.rmtree(run.path, ignore_errors=True)
            raise

    @app.command()
    def resume(
        run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
        steps: Annotated[
            int | None, typer.Option(help="New total step count (to train longer).")
        ] = None,
        device: DeviceOption = None,
        ray_address: Annotated[
            str | None, typer.Option(help="For a distributed run: a running Ray cluster.")
        ] = None,
    ) -> None:
        """Continue a run from its newest checkpoint (distributed runs stay distributed)."""
        run = RunDirectory.open(run_dir)
        spec = _spec_for_run(registry, run)
        cfg = configs.config_of_run(spec, run)
        changes = {
            k: v for k, v in {"total_steps": steps, "device": device}.items() if v is not None
        }
        if changes:
            from rl_core.config import apply_overrides

            cfg = apply_overrides(cfg, changes)
        if run.policy_dir.is_dir() and steps is None:
            err.print(f"{run.path} is complete; pass --steps N to train it further")
            raise typer.Exit(1)
        resolved = _configure_training_process(cfg.device)
        meta = run.read_config()[0]
        meta.pop("algorithm", None)
        meta.pop("versions", None)
        meta.update(device=resolved, resumed_with=" ".join(sys.argv))
        run.write_config(spec.name, cfg, **meta)
        latest = run.latest_checkpoint()
        err.print(f"resuming from {latest}" if latest else "no checkpoint yet; starting over")
        options = None
        if meta.get("distributed"):
            options = _distributed_options(
                spec, meta["distributed"], int(meta.get("num_workers", 2)), ray_address
            )
        _train_and_report(spec, cfg, run, options)

    @app.command()
    def evaluate(
        run_dir: Annotated[
            Path, typer.Argument(help="A run directory, or a directory `agent.save` wrote.")
        ],
        episodes: Annotated[
            int | None,
            typer.Option(help="Episodes to run (default: the run's eval_episodes, or 10)."),
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the evaluation envs.")] = 1_000_000,
        video: Annotated[
            Path | None, typer.Option(help="Record the first episode (.gif or .mp4).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        stochastic: Annotated[
            bool | None,
            typer.Option(
                "--stochastic/--greedy",
                help="Sample actions, or act greedily (default: the run's eval_deterministic).",
                show_default=False,
            ),
        ] = None,
        best: Annotated[
            bool, typer.Option(help="The best policy of the evaluations during training.")
        ] = False,
    ) -> None:
        """Run a trained policy and report its return."""
        algo, data, policy_path = locate_saved(run_dir)
        if best:
            from rl_core.periodic_evaluation import best_policy_dir

            policy_path = best_policy_dir(run_dir)
        spec = _installed_spec(registry, algo, run_dir)
        cfg = config_from_dict(spec.config_cls, data)
        if episodes is None:
            episodes = cfg.eval_episodes or 10
        deterministic = cfg.eval_deterministic if stochastic is None else not stochastic
        result = _evaluate(spec, cfg, policy_path, episodes, seed, video, deterministic)
        if as_json:
            typer.echo(json.dumps(result.summary()))
        else:
            out.print(_format_result(result))
            if video:
                out.print(f"video: {video}")

    @app.command("export")
    def export_command(
        run_dir: Annotated[
            Path, typer.Argument(help="A run directory, or a directory `agent.save` wrote.")
        ],
        out_path: Annotated[
            Path,
            typer.Option("--out", help="SavedModel directory, .tflite or .onnx file to write."),
        ],
        fmt: Annotated[
            str, typer.Option("--format", help="savedmodel, tflite or onnx (onnx extra).")
        ] = "savedmodel",
        best: Annotated[
            bool, typer.Option(help="The best policy of the evaluations during training.")
        ] = False,
    ) -> None:
        """Export the greedy policy for plain TensorFlow, TFLite or ONNX (serving_default)."""
        from rl_core.export import FORMATS, export_policy

        if fmt not in FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        algo, _, policy_path = locate_saved(run_dir)
        spec = _installed_spec(registry, algo, run_dir)
        if spec.export is None:
            raise RLError(f"{spec.name} policies cannot be exported yet")
        if best:
            from rl_core.periodic_evaluation import best_policy_dir

            policy_path = best_policy_dir(run_dir)
        serving = spec.export(spec.load_policy(policy_path))
        written = export_policy(serving, out_path, fmt)
        out.print(f"wrote {written} ({fmt}, signature serving_default: "
                  f"{', '.join(serving.inputs)} -> actions)")  # fmt: skip

    @app.command()
    def tune(
        algo: Annotated[str, typer.Argument(help="Algorithm name (see `rl list`).")],
        env: Annotated[str | None, typer.Option(help="Gymnasium environment id.")] = None,
        trials: Annotated[int, typer.Option(help="Finished trials the study should hold.")] = 20,
        steps: Annotated[int | None, typer.Option(help="Environment steps per trial.")] = None,
        timeout: Annotated[
            float | None, typer.Option(help="Stop starting trials after this many seconds.")
        ] = None,
        eval_every: Annotated[
            int | None,
            typer.Option(help="Env steps between a trial's evaluations (default: steps / 10)."),
        ] = None,
        study_dir: Annotated[
            Path | None,
            typer.Option(help="The study's folder; an existing one is continued."),
        ] = None,
        out_file: Annotated[
            Path | None, typer.Option("--out", help="Write the best settings (TOML) here.")
        ] = None,
        space: Annotated[
            Path | None, typer.Option(help="A search space TOML instead of the package's.")
        ] = None,
        seed: Annotated[
            int | None, typer.Option(help="Seed of every trial and the sampler.")
        ] = None,
        device: DeviceOption = None,
        preset: PresetOption = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="A setting every trial shares: key=value (repeatable)."),
        ] = None,
        distributed: Annotated[
            str | None, typer.Option(help="Run trials in parallel: ray.")
        ] = None,
        num_workers: Annotated[
            int, typer.Option(help="Trials at a time with --distributed ray.")
        ] = 2,
        ray_address: RayAddressOption = None,
    ) -> None:
        """Search settings with Optuna (TPE, median pruning); the study resumes if killed."""
        from rl_cli import tuning

        spec = registry.get(algo)
        tuning.require_optuna()
        if trials < 1:
            raise ConfigError("--trials must be >= 1")
        composed = _compose_checked(
            spec, "tune", preset, None, env, steps, seed, device, set_ or []
        )
        base = composed.config
        dims = tuning.parse_space(
            load_toml(space) if space is not None else tuning.default_space(spec), spec.config_cls
        )
        every = eval_every or max(base.total_steps // 10, 1)
        folder = study_dir or tuning.default_study_dir(spec.name, base.env)
        options = None
        if distributed is not None:
            from rl_core.distributed import DistributedOptions, require_ray

            options = DistributedOptions(
                backend=distributed, num_workers=num_workers, address=ray_address
            )
            require_ray()
        study = tuning.open_study(folder, base.seed)
        err.print(
            f"study {folder}: {tuning.finished_trials(study)} of {trials} trials finished; "
            f"searching {', '.join(d.name for d in dims)}"
        )

        def show(study, trial) -> None:
            value = "" if trial.value is None else f", return {trial.value:.2f}"
            params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in trial.params.items())  # fmt: skip
            note = trial.user_attrs.get("invalid")
            why = f" (invalid: {note})" if note else ""
            out.print(f"trial {trial.number}: {trial.state.name.lower()}{value}{why}  ({params})")

        if options is None:
            tuner = tuning.Tuner(spec, base, dims, folder, every)
            tuning.optimize(tuner, study, trials, timeout, callbacks=[show])
        else:
            from rl_core.distributed import ray_cluster

            with ray_cluster(options) as ray:
                worker = ray.remote(num_cpus=1)(tuning.ray_worker)
                refs = [
                    worker.remote(spec.name, base, dims, folder.resolve(), every, trials,
                                  timeout, base.seed + i)
                    for i in range(options.num_workers)
                ]  # fmt: skip
                ray.get(refs)
            for trial in tuning.open_study(folder, base.seed, resume_stale=False).trials:
                if trial.state.is_finished():
                    show(study, trial)
        study = tuning.open_study(folder, base.seed, resume_stale=False)
        best = tuning.write_best(study, spec, base, out_file or folder / tuning.BEST_FILE)
        if best is None:
            err.print("no trial finished; nothing to write")
            raise typer.Exit(1)
        out.print(f"best: trial {study.best_trial.number}, return {study.best_value:.2f}")
        out.print(f"wrote {best}; train with `rl train {spec.name} --config {best}`")

    @app.command()
    def plot(
        run_dirs: Annotated[list[Path], typer.Argument(help="One or more run directories.")],
        out_file: Annotated[Path | None, typer.Option("--out", help="PNG to write.")] = None,
        metric: Annotated[
            str, typer.Option(help="Any logged metric (e.g. eval/episodic_return).")
        ] = "charts/episodic_return",
        x: Annotated[str, typer.Option(help="x axis: steps (env steps) or time (s).")] = "steps",
        smooth: Annotated[
            float, typer.Option(help="Exponential smoothing weight in [0, 1), as TensorBoard's.")
        ] = 0.0,
        group_by: Annotated[
            str | None,
            typer.Option(
                help="Group runs by one setting (or 'algorithm') instead of by "
                "experiment (every setting but the seed)."
            ),
        ] = None,
        label: Annotated[
            list[str] | None,
            typer.Option(help="Name each run's group yourself (once per run, in order)."),
        ] = None,
        title: Annotated[str | None, typer.Option(help="Figure title.")] = None,
    ) -> None:
        """Plot learning curves as a PNG: seeds of one experiment as a mean with a 95% interval."""
        from rl_cli.plotting import plot_runs

        runs = [RunDirectory.open(p) for p in run_dirs]
        target = out_file or (
            runs[0].path / "learning_curve.png" if len(runs) == 1 else Path("learning_curves.png")
        )
        written = plot_runs(
            runs,
            target,
            metric,
            x=x,
            smoothing=smooth,
            group_by=group_by,
            labels=label,
            title=title,
        )
        out.print(f"wrote {written}")

    def _train_and_report(spec, cfg, run: RunDirectory, options=None) -> None:
        run.show_progress = True
        if options is None:
            spec.train(cfg, run)
        else:
            spec.distributed[options.backend](cfg, run, options)
        if run.interrupted:
            err.print(f"interrupted: checkpoint written; continue with `rl resume {run.path}`")
            raise typer.Exit(130)
        out.print(f"run directory: {run.path}")
        if cfg.eval_episodes > 0:
            result = _evaluate(
                spec,
                cfg,
                run.policy_source(),
                cfg.eval_episodes,
                1_000_000,
                None,
                cfg.eval_deterministic,
            )
            run.write_evaluation({**result.to_dict(), "deterministic": cfg.eval_deterministic})
            mode = "" if cfg.eval_deterministic else " (sampled actions)"
            out.print(f"final evaluation{mode}: {_format_result(result)}")

    pm.hook.register_commands(app=app)
    return app


# Whether this process is the `rl` command itself (set by main): see
# _configure_training_process.
_owns_process = False


def _configure_training_process(device: str) -> str:
    """Place TensorFlow on ``device`` (importing it), then move every object alive now to
    the garbage collector's permanent generation; the device TensorFlow uses.

    TensorFlow's import leaves ~350,000 objects that live as long as the process, and
    every full collection during training walks them all, as do the collections at
    interpreter exit. ``gc.freeze()`` exempts them: on CartPole (rl-zoo3's PPO settings,
    100k steps, one core) the whole process took 2-4 s less, about a quarter
    (benchmarks/RESULTS.md, "Speed: PPO against Stable-Baselines3"); collecting nothing
    during the import itself saves a few tenths of a second more. The command owns
    its process, so it may: only when it runs as the process's own command line
    (:func:`main` without ``args``), never when a program or a test calls :func:`main`
    with arguments, and the library never changes a caller's collector.
    """
    import gc

    from rl_core.device import configure_device

    if _owns_process:
        # No collections during the import either: they would walk the growing heap again
        # and again to find a few thousand garbage objects (which are frozen with the rest).
        gc.disable()
    try:
        resolved = configure_device(device)
    finally:
        if _owns_process:
            gc.freeze()
            gc.enable()
    return resolved


def _compose_checked(spec, verb, preset, config_file, env, steps, seed, device, overrides):
    """The config `rl train` / `rl tune` use, the preset picked for its env announced, and
    the env checked before anything is written."""
    composed = configs.compose_config(
        spec,
        preset=preset,
        config_file=config_file,
        flags={"env": env, "total_steps": steps, "seed": seed, "device": device},
        overrides=overrides,
    )
    if composed.picked:
        env_id = composed.config.env
        err.print(f"preset {composed.preset} for {env_id} (--preset none to {verb} without)")
    configs.check_env(composed.config)
    return composed


def _distributed_options(spec, backend: str | None, num_workers: int, address: str | None):
    """Checked before a run directory exists: which runner, and is Ray installed."""
    if backend is None:
        if address is not None:
            raise ConfigError("--ray-address needs --distributed ray")
        return None
    from rl_core.distributed import DistributedOptions, require_ray

    options = DistributedOptions(backend=backend, num_workers=num_workers, address=address)
    if options.backend not in spec.distributed:
        raise ConfigError(
            f"{spec.name} has no {options.backend!r} runner "
            f"(it runs: {', '.join(spec.distributed) or 'in one process only'})"
        )
    require_ray()
    return options


def _spec_for_run(registry: AlgorithmRegistry, run: RunDirectory):
    return _installed_spec(registry, run.algorithm, run.path)


def _installed_spec(registry: AlgorithmRegistry, algo: str, path: Path):
    if algo not in registry:
        installed = ", ".join(registry) or "none"
        raise RLError(
            f"{path} was trained with {algo!r}, which is not installed (installed: {installed})"
        )
    return registry.get(algo)


def _evaluate(spec, cfg, policy_path: Path, episodes, seed, video, deterministic):
    from rl_core.evaluation import evaluate_policy

    if episodes < 1:
        raise ConfigError("--episodes must be >= 1")
    policy = spec.load_policy(policy_path)
    return evaluate_policy(
        policy,
        cfg.env,
        cfg.env_kwargs,
        episodes=episodes,
        seed=seed,
        video=video,
        deterministic=deterministic,
    )


def _format_result(result) -> str:
    text = (
        f"return {result.return_mean:.2f} ± {result.return_std:.2f} over {result.episodes} episodes"
    )
    if result.success_rate is not None:
        text += f", success rate {result.success_rate:.2f}"
    return text


def main(args: list[str] | None = None, pm: pluggy.PluginManager | None = None) -> None:
    """Console-script entry point: one clear line and a non-zero exit on bad input.

    Without ``args`` it runs the process's own command line (``sys.argv``), as the
    ``rl`` script and ``python -m rl_cli`` do, and may tune the process for training
    (:func:`_configure_training_process`); with ``args`` it leaves the process as it is.
    """
    global _owns_process
    _owns_process = args is None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        app = build_app(pm)
        app(args=args)
    except RLError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
