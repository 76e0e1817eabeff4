from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass

import pytest

from rl_core.callbacks import RunCallback, non_finite_losses
from rl_core.config import BaseConfig
from rl_core.errors import NonFiniteLossError, RunDirectoryError
from rl_core.run import RunDirectory


@dataclass
class Cfg(BaseConfig):
    lr: float = 0.1
    """Step size."""


def write_marker(value: str):
    def write(path):
        (path / "state.txt").write_text(value)

    return write


def test_create_names_runs_by_algo_env_and_time(tmp_path):
    run = RunDirectory.create("ppo", "rl/DeepSea-v0", root=tmp_path)
    assert run.path.parent == tmp_path and run.path.name.startswith("ppo-rl-DeepSea-v0-")
    other = RunDirectory.create("ppo", "rl/DeepSea-v0", root=tmp_path)
    assert other.path != run.path  # same second: suffixed, never shared


def test_config_toml_holds_run_metadata_and_config(tmp_path):
    run = RunDirectory.create("ppo", "CartPole-v1", path=tmp_path / "r")
    run.write_config("ppo", Cfg(seed=4), device="cpu")
    data = tomllib.loads((tmp_path / "r" / "config.toml").read_text())
    assert data["run"]["algorithm"] == "ppo" and data["run"]["device"] == "cpu"
    assert data["run"]["versions"]["rl-core"]
    assert data["config"]["seed"] == 4 and data["config"]["lr"] == 0.1
    meta, config = RunDirectory.open(tmp_path / "r", algorithm="ppo").read_config()
    assert config["seed"] == 4 and meta["algorithm"] == "ppo"


def test_open_rejects_missing_foreign_and_other_algorithm_dirs(tmp_path):
    with pytest.raises(RunDirectoryError, match="not found"):
        RunDirectory.open(tmp_path / "nope")
    (tmp_path / "foreign").mkdir()
    with pytest.raises(RunDirectoryError, match="not an rl run directory"):
        RunDirectory.open(tmp_path / "foreign")
    run = RunDirectory.create("her", "rl/BitFlipping-v0", path=tmp_path / "her")
    run.write_config("her", Cfg())
    with pytest.raises(RunDirectoryError, match="is a 'her' run, not 'ppo'"):
        RunDirectory.open(tmp_path / "her", algorithm="ppo")


def test_checkpoints_are_atomic_and_only_newest_kept(tmp_path):
    run = RunDirectory.create("x", "e", path=tmp_path / "r")
    for step in (100, 200, 300, 400):
        run.save_checkpoint(step, write_marker(str(step)), keep=2)
    assert [p.name for p in run.checkpoints()] == ["step_000000000300", "step_000000000400"]
    assert (run.latest_checkpoint() / "state.txt").read_text() == "400"

    def crash(path):
        (path / "half.txt").write_text("partial")
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError):
        run.save_checkpoint(500, crash, keep=2)
    assert run.latest_checkpoint().name == "step_000000000400"
    assert not list(run.checkpoint_dir.glob(".tmp-*"))


def test_metrics_survive_a_torn_last_line_and_truncate_on_resume(tmp_path):
    run = RunDirectory.create("x", "e", path=tmp_path / "r")
    for step in (10, 20, 30):
        run.log_metrics({"global_step": step, "charts/episodic_return": float(step)})
    with run.metrics_path.open("a") as fh:
        fh.write('{"global_step": 40, "charts/epi')  # killed mid-write
    assert [r["global_step"] for r in run.read_metrics()] == [10, 20, 30]
    run.truncate_metrics(20)
    assert [r["global_step"] for r in run.read_metrics()] == [10, 20]
    run.close()


def test_non_finite_metrics_are_written_as_strings(tmp_path):
    run = RunDirectory.create("x", "e", path=tmp_path / "r")
    run.log_metrics({"global_step": 1, "losses/a": float("inf")})
    assert json.loads(run.metrics_path.read_text())["losses/a"] == "inf"
    run.close()


class FakeAgent:
    def __init__(self):
        self.num_timesteps = 0

    def save(self, path, include_replay=False):
        meta = {"step": self.num_timesteps, "replay": include_replay}
        (path / "agent.json").write_text(json.dumps(meta))


def test_run_callback_checkpoints_on_interval_and_stops_on_nan(tmp_path):
    run = RunDirectory.create("x", "e", path=tmp_path / "r")
    agent = FakeAgent()
    cb = RunCallback(run, checkpoint_every=250, keep_checkpoints=5)
    cb.on_training_start(agent, 1000)
    try:
        for step in range(100, 701, 100):
            agent.num_timesteps = step
            assert cb.on_log(agent, {"global_step": step, "losses/v": 1.0}) is True
        # the first log at or past each multiple of 250
        assert [int(p.name[5:]) for p in run.checkpoints()] == [300, 500]
        # Checkpoints carry an off-policy agent's replay (the final policy does not).
        assert json.loads((run.latest_checkpoint() / "agent.json").read_text())["replay"]
        agent.num_timesteps = 800
        with pytest.raises(NonFiniteLossError, match=r"losses/v became non-finite at step 800"):
            cb.on_log(agent, {"global_step": 800, "losses/v": float("nan")})
        assert run.latest_checkpoint().name.endswith("500")
        cb.interrupted = True  # as after Ctrl-C: checkpoint now, then stop
        agent.num_timesteps = 850
        assert cb.on_log(agent, {"global_step": 850, "losses/v": 1.0}) is False
        assert run.latest_checkpoint().name.endswith("850")
    finally:
        cb.on_training_end(agent)


def test_non_finite_losses_only_looks_at_losses():
    metrics = {"losses/a": float("nan"), "losses/b": 1.0, "charts/x": float("inf")}
    assert non_finite_losses(metrics) == ["losses/a"]
