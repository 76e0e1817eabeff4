"""Registers ``gail`` and the ``rl gail record`` command. Import-light: no TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rl_core import AlgorithmSpec, hookimpl
from rl_gail.config import GAILConfig

SEARCH_SPACE = Path(__file__).parent / "search_space.toml"
PRESETS = {p.stem: p for p in sorted((Path(__file__).parent / "presets").glob("*.toml"))}


@hookimpl
def register_algorithms(register):
    register(
        AlgorithmSpec.for_agent(
            "rl_gail.agent:GAIL",
            name="gail",
            summary="Generative Adversarial Imitation Learning: PPO rewarded by a discriminator.",
            observations=("flat",),
            config_cls=GAILConfig,
            presets=PRESETS,
            search_space=SEARCH_SPACE,
            export="rl_ppo.export:serving_function",
        )
    )


@hookimpl
def register_commands(app: typer.Typer) -> None:
    gail = typer.Typer(help="GAIL's tools: record expert demonstrations.", no_args_is_help=True)

    @gail.command()
    def record(
        run_dir: Annotated[Path, typer.Argument(help="A trained run directory (any algorithm).")],
        out: Annotated[Path, typer.Option(help="Folder to write the Minari dataset under.")] = Path(
            "demos"
        ),
        episodes: Annotated[int, typer.Option(help="Episodes to record.")] = 10,
        dataset_id: Annotated[
            str | None, typer.Option(help="Minari dataset id (default: <env>/expert-v0).")
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the first episode.")] = 0,
    ) -> None:
        """Record a trained run's greedy policy as a Minari dataset of expert demonstrations."""
        from rl_gail.recording import record_run

        path, returns, env = record_run(run_dir, out, episodes, dataset_id, seed)
        typer.echo(
            f"recorded {len(returns)} episodes, return {returns.mean():.2f} ± {returns.std():.2f}"
        )
        typer.echo(f"dataset: {path}")
        typer.echo(f"train on it: rl train gail --env {env} --set demos={path}")

    app.add_typer(gail, name="gail")
