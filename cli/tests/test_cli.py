"""The `rl` command in-process, with the toy plugin: outputs, run directory, bad input."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
import toy_plugin

from rl_core.plugins import make_plugin_manager
from rl_core.run import RunDirectory


def test_list_shows_algorithms_with_default_env(rl):
    result = rl("list")
    assert result.code == 0
    assert "toy" in result.out and "CartPole-v1" in result.out


def test_config_prints_valid_toml_with_help(rl):
    result = rl("config", "toy")
    assert result.code == 0
    assert "# Parallel environments.\nnum_envs = 2" in result.out
    data = tomllib.loads(result.out)
    assert data["num_envs"] == 2 and data["env"] == "CartPole-v1"


def test_config_shows_what_train_would_read_from_a_file_and_set(rl, tmp_path):
    settings = tmp_path / "my.toml"
    settings.write_text("num_envs = 3\nnoise = 0.4\n")
    result = rl("config", "toy", "--config", str(settings), "--set", "noise=0.25")
    assert result.code == 0
    data = tomllib.loads(result.out)
    assert data["num_envs"] == 3 and data["noise"] == 0.25  # --set over the file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "nope"], "unknown algorithm 'nope'; installed: toy"),
        (["config", "nope"], "unknown algorithm 'nope'"),
        (["config", "toy", "--set", "num_env=3"], "did you mean 'num_envs'"),
        (["train", "toy", "--set", "num_env=3"], "did you mean 'num_envs'"),
        (["train", "toy", "--set", "num_envs=three"], "num_envs: expected int"),
        (["train", "toy", "--set", "num_envs=0"], "num_envs must be >= 1"),
        (["train", "toy", "--env", "CartPol-v1"], "unknown environment 'CartPol-v1'"),
        (["train", "toy", "--device", "tpu"], "unknown device 'tpu'"),
        (["train", "toy", "--config", "missing.toml"], "config file not found"),
        (["train", "toy", "--preset", "fast"], "toy has no preset 'fast'"),
        (["evaluate", "no/such/run"], "run directory not found"),
        (["train", "toy", "--distributed", "ray"], "toy has no 'ray' runner"),
        (["train", "toy", "--distributed", "dask"], "--distributed must be 'ray'"),
        (["train", "toy", "--ray-address", "auto"], "--ray-address needs --distributed ray"),
        (["resume", "."], "is not an rl run directory"),
    ],
)
def test_bad_input_is_one_clear_line_and_nonzero_exit(rl, args, message):
    result = rl(*args)
    assert result.code != 0
    assert message in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_distributed_without_ray_says_how_to_install_it(rl, monkeypatch):
    import toy_plugin

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    monkeypatch.setattr(toy_plugin, "DISTRIBUTED", {"ray": lambda config, run, options: None})
    result = rl("train", "toy", "--distributed", "ray", "--steps", "100")
    assert result.code == 2 and "uv sync --extra ray" in result.err
    assert not list(Path().glob("runs/*")), "no run directory for a run that cannot start"


def test_gpu_without_gpu_is_a_clear_error(rl):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    result = rl("train", "toy", "--device", "gpu", "--steps", "100")
    assert result.code == 2 and "no GPU is visible" in result.err


def test_train_writes_a_complete_run_directory(rl, tmp_path):
    result = rl("train", "toy", "--seed", "3", "--run-dir", "run", "--set", "noise=0.3")
    assert result.code == 0, result.err
    assert "run directory: run" in result.out and "final evaluation: return" in result.out
    run = Path(tmp_path / "run")
    meta = tomllib.loads((run / "config.toml").read_text())
    assert meta["run"]["algorithm"] == "toy" and meta["run"]["device"] == "cpu"
    assert "tensorflow" in meta["run"]["versions"] and "rl-core" in meta["run"]["versions"]
    assert meta["config"]["seed"] == 3 and meta["config"]["noise"] == 0.3
    records = RunDirectory(run).read_metrics()
    assert [r["global_step"] for r in records] == list(range(100, 2001, 100))
    assert all("charts/SPS" in r and "losses/toy" in r for r in records)
    # checkpoint_every 500 over 2000 steps: 4 written, newest 3 kept
    assert [p.name for p in RunDirectory(run).checkpoints()] == [
        f"step_{s:012d}" for s in (1000, 1500, 2000)
    ]
    assert (run / "policy" / "agent.json").is_file()
    assert list((run / "tb").iterdir()), "TensorBoard events expected"
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["episodes"] == 3 and len(evaluation["returns"]) == 3

    ev = rl("evaluate", "run", "--episodes", "4", "--json")
    assert ev.code == 0, ev.err
    summary = json.loads(ev.out)
    assert set(summary) == {"return_mean", "return_std", "success_rate", "episodes"}
    assert summary["episodes"] == 4 and summary["success_rate"] is None
    assert summary["return_mean"] >= 8  # CartPole gives at least 8 steps per episode

    plot = rl("plot", "run", "--out", "curve.png")
    assert plot.code == 0, plot.err
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = rl("resume", "run")
    assert again.code == 1 and "is complete" in again.err
    more = rl("resume", "run", "--steps", "2500")
    assert more.code == 0, more.err
    assert RunDirectory(run).read_metrics()[-1]["global_step"] == 2500


def test_nan_loss_stops_with_clear_error_and_keeps_last_good_checkpoint(rl, tmp_path):
    result = rl("train", "toy", "--run-dir", "nan", "--set", "nan_at_step=1200")
    assert result.code == 3
    assert "losses/toy became non-finite at step 1200" in result.err
    run = RunDirectory(tmp_path / "nan")
    assert run.latest_checkpoint().name == f"step_{1000:012d}"
    assert not run.policy_dir.exists()


def test_same_seed_repeats_exactly(rl, tmp_path):
    def curve(name: str) -> list:
        assert rl("train", "toy", "--seed", "5", "--run-dir", name).code == 0
        return [
            (r["global_step"], r["charts/episodic_return"], r["losses/toy"])
            for r in RunDirectory(tmp_path / name).read_metrics()
        ]

    assert curve("a") == curve("b")


def test_existing_run_directory_is_not_overwritten(rl):
    assert rl("train", "toy", "--run-dir", "r", "--steps", "200").code == 0
    again = rl("train", "toy", "--run-dir", "r", "--steps", "200")
    assert again.code == 2 and "already holds a run" in again.err


def test_evaluate_writes_a_playable_gif_of_one_episode(rl, tmp_path):
    args = ["--env", "rl/DeepSea-v0", "--set", "env_kwargs.size=4", "--steps", "400"]
    assert rl("train", "toy", "--run-dir", "sea", *args).code == 0
    result = rl("evaluate", "sea", "--episodes", "2", "--video", "sea.gif")
    assert result.code == 0, result.err
    from PIL import Image

    with Image.open(tmp_path / "sea.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 5  # the reset frame and one per step of the 4-step episode


def test_evaluate_reports_success_rate_where_the_env_has_one(rl):
    args = ["--env", "rl/DeepSea-v0", "--set", "env_kwargs.size=3", "--steps", "300"]
    assert rl("train", "toy", "--run-dir", "sea", *args).code == 0
    summary = json.loads(rl("evaluate", "sea", "--episodes", "3", "--json").out)
    assert summary["success_rate"] in (0.0, 1.0)  # a deterministic policy on a deterministic env


def test_unsupported_video_format_is_a_clear_error(rl):
    assert rl("train", "toy", "--run-dir", "r", "--steps", "200").code == 0
    result = rl("evaluate", "r", "--video", "clip.avi")
    assert result.code == 2 and "unsupported video format '.avi'" in result.err


def test_plugins_add_their_own_commands(capsys):
    import types

    import typer

    from rl_cli.app import main
    from rl_core import hookimpl
    from rl_core.plugins import make_plugin_manager

    @hookimpl
    def register_commands(app):
        extra = typer.Typer(help="Demo tools.")

        @extra.command()
        def greet(name: str) -> None:
            """Say hello."""
            typer.echo(f"hello {name}")

        app.add_typer(extra, name="demo")

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(types.SimpleNamespace(register_commands=register_commands), name="demo")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "greet", "sea"], pm)
    assert exit_info.value.code == 0
    assert "hello sea" in capsys.readouterr().out


def test_a_finished_run_checkpoints_its_last_step_so_resume_continues_from_there(rl, tmp_path):
    assert rl("train", "toy", "--run-dir", "r", "--steps", "1100").code == 0
    run = RunDirectory(tmp_path / "r")
    assert [run.checkpoint_step(p) for p in run.checkpoints()] == [500, 1000, 1100]
    assert rl("resume", "r", "--steps", "1300").code == 0
    steps = [r["global_step"] for r in run.read_metrics()]
    assert steps == list(range(100, 1301, 100))


def test_a_run_that_fails_before_logging_leaves_no_directory(rl, tmp_path):
    result = rl("train", "toy", "--run-dir", "bad", "--env", "rl/BitFlipping-v0")
    assert result.code != 0 and "Traceback" not in result.err
    assert not (tmp_path / "bad").exists()


def test_auto_device_on_a_gpu_machine_evaluates_on_the_training_device(rl, tmp_path, monkeypatch):
    """With --device auto and a GPU visible, training resolves to gpu:0; the final
    evaluation used to load the policy on the CPU, which TensorFlow refuses in the same
    process (exit 2, no evaluation.json). TensorFlow's device list is stubbed."""
    import tensorflow as tf

    from rl_core import device

    fake_gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(device, "_configured", None)
    monkeypatch.setattr(device, "_tensorflow_and_gpus", lambda: (tf, [fake_gpu]))
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda *a, **k: None)
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda *a, **k: None)
    result = rl("train", "toy", "--device", "auto", "--steps", "400", "--run-dir", "gpu")
    assert result.code == 0, result.err
    meta = tomllib.loads((tmp_path / "gpu" / "config.toml").read_text())
    assert meta["run"]["device"] == "gpu:0"
    assert json.loads((tmp_path / "gpu" / "evaluation.json").read_text())["episodes"] == 3
    monkeypatch.setattr(device, "_configured", None)


def test_env_creation_failures_are_one_line_and_leave_no_run(rl, tmp_path, monkeypatch):
    import gymnasium.envs.registration as registration

    def needs_box2d(**kwargs):
        import gymnasium

        raise gymnasium.error.DependencyNotInstalled("Box2D is not installed")

    needs_box2d.__module__ = "gymnasium.envs.box2d.bipedal_walker"
    registration.register(id="rl-test/Walker-v0", entry_point=needs_box2d)
    (tmp_path / "half.py").write_text("import not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        for args, message in [
            (["--env", "rl-test/Walker-v0"], "uv sync --extra box2d"),
            (["--env", "half:Env-v0"], "needs 'not_installed_anywhere'"),
            (["--set", "env_kwargs.colour=3"], "env_kwargs do not fit CartPole-v1"),
        ]:
            result = rl("train", "toy", "--steps", "100", *args)
            assert result.code == 2, (args, result.err)
            assert message in result.err and "Traceback" not in result.err
            assert len(result.err.strip().splitlines()) == 1, result.err
        assert not list(Path().glob("runs/*"))
    finally:
        del registration.registry["rl-test/Walker-v0"]


def test_train_on_a_module_factory_env(rl, tmp_path, monkeypatch):
    (tmp_path / "my_envs.py").write_text(
        "import gymnasium as gym\n"
        "def make(length=3):\n"
        "    return gym.wrappers.TimeLimit(gym.make('CartPole-v1').unwrapped, length * 10)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = rl(
        "train",
        "toy",
        "--env",
        "my_envs:make",
        "--set",
        "env_kwargs.length=2",
        "--steps",
        "300",
        "--run-dir",
        "mine",
    )
    assert result.code == 0, result.err
    evaluation = json.loads((tmp_path / "mine" / "evaluation.json").read_text())
    assert max(evaluation["lengths"]) <= 20  # the factory's time limit, from env_kwargs
    again = rl("evaluate", "mine", "--episodes", "2", "--json")
    assert again.code == 0, again.err


def test_evaluate_and_load_take_a_saved_agent_as_well_as_a_run(rl, tmp_path):
    import toy_plugin

    agent = toy_plugin.ToyAgent(toy_plugin.ToyConfig(device="cpu", total_steps=300))
    agent.learn(300)
    agent.save(tmp_path / "saved")
    result = rl("evaluate", "saved", "--episodes", "2", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["episodes"] == 2

    assert rl("train", "toy", "--steps", "300", "--run-dir", "run").code == 0
    from_run = toy_plugin.ToyAgent.load(tmp_path / "run")
    from_policy = toy_plugin.ToyAgent.load(tmp_path / "run" / "policy")
    assert from_run.num_timesteps == from_policy.num_timesteps == 300
    assert (from_run.weights == from_policy.weights).all()

    (tmp_path / "empty").mkdir()
    bad = rl("evaluate", "empty")
    assert bad.code == 2 and "nor a saved agent" in bad.err


def test_eval_every_logs_evaluations_and_keeps_the_best_policy(rl, tmp_path):
    result = rl("train", "toy", "--run-dir", "run", "--set", "eval_every=500",
                "--set", "eval_every_episodes=2")  # fmt: skip
    assert result.code == 0, result.err
    run = RunDirectory(tmp_path / "run")
    evals = [r for r in run.read_metrics() if "eval/episodic_return" in r]
    assert [r["global_step"] for r in evals] == [500, 1000, 1500, 2000]
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert best["eval/episodic_return"] == max(r["eval/episodic_return"] for r in evals)
    assert (tmp_path / "run" / "best" / "agent.json").is_file()
    import toy_plugin

    kept = toy_plugin.ToyAgent.load(tmp_path / "run" / "best")
    assert kept.num_timesteps == best["global_step"]
    scored = rl("evaluate", "run", "--best", "--episodes", "2", "--json")
    assert scored.code == 0, scored.err

    assert rl("train", "toy", "--run-dir", "plain", "--steps", "200").code == 0
    missing = rl("evaluate", "plain", "--best")
    assert missing.code == 2 and "no best/" in missing.err


def test_eval_deterministic_decides_every_evaluation_of_a_run(rl, monkeypatch):
    """A run with eval_deterministic=false samples its actions in the evaluations during
    training, in the final one and in `rl evaluate`; --greedy and --stochastic override the
    run's setting, and a default run stays greedy."""
    import rl_core.evaluation as evaluation

    seen: list[bool] = []
    real = evaluation.evaluate_policy

    def spy(*args, **kwargs):
        seen.append(kwargs["deterministic"])
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_policy", spy)
    sampled = rl("train", "toy", "--run-dir", "sampled", "--steps", "400",
                 "--set", "eval_deterministic=false", "--set", "eval_every=200")  # fmt: skip
    assert sampled.code == 0, sampled.err
    assert seen == [False, False, False]
    assert "sampled actions" in sampled.out
    for args, expected in [((), False), (("--greedy",), True), (("--stochastic",), False)]:
        seen.clear()
        assert rl("evaluate", "sampled", "--episodes", "1", *args).code == 0
        assert seen == [expected], args
    seen.clear()
    assert rl("train", "toy", "--run-dir", "greedy", "--steps", "200").code == 0
    assert rl("evaluate", "greedy", "--episodes", "1").code == 0
    assert seen == [True, True]


def test_eval_callback_without_a_run_directory_keeps_its_history():
    import toy_plugin

    from rl_core.periodic_evaluation import EvalCallback

    evaluation = EvalCallback("CartPole-v1", every=200, episodes=2)
    agent = toy_plugin.ToyAgent(toy_plugin.ToyConfig(device="cpu"))
    agent.learn(600, callbacks=[evaluation])
    assert [r["global_step"] for r in evaluation.history] == [200, 400, 600]
    assert evaluation.best_return == max(r["eval/episodic_return"] for r in evaluation.history)


def test_only_the_rl_command_itself_freezes_the_objects_it_started_with(rl, monkeypatch, tmp_path):
    """`rl train` as the process's command line moves what importing TensorFlow left to
    the collector's permanent generation (faster collections and exit); `main(args)`, as
    a program or a test calls it, leaves the caller's collector alone."""
    import gc

    from rl_cli.app import main

    gc.unfreeze()
    assert rl("train", "toy", "--run-dir", "called", "--steps", "100").code == 0
    assert gc.get_freeze_count() == 0

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(toy_plugin, name="toy")
    monkeypatch.setattr(sys, "argv", ["rl", "train", "toy", "--run-dir", "own", "--steps", "100"])
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(None, pm)
        assert exit_info.value.code in (0, None)
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # off only while TensorFlow was imported
    finally:
        gc.unfreeze()
        gc.enable()
