"""`rl tune` on Optuna with the toy plugin: trials, resume, pruning, the best settings."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

SPACE = "noise = { low = 0.05, high = 1.0, log = true }\nnum_envs = { choices = [1, 2] }\n"


def _tune(rl, *args):
    return rl("tune", "toy", "--space", "space.toml", "--study-dir", "study", "--steps", "400",
              "--eval-every", "200", "--device", "cpu", *args)  # fmt: skip


def test_tune_runs_trials_writes_best_settings_and_resumes(rl, tmp_path):
    Path("space.toml").write_text(SPACE)
    result = _tune(rl, "--trials", "3", "--out", "best.toml")
    assert result.code == 0, result.err
    assert result.out.count("trial ") >= 3
    best = tomllib.loads(Path("best.toml").read_text())
    assert 0.05 <= best["noise"] <= 1.0 and best["num_envs"] in (1, 2)
    assert best["total_steps"] == 400 and best["env"] == "CartPole-v1"
    study = optuna.load_study(study_name="rl", storage=f"sqlite:///{tmp_path}/study/study.db")
    assert len(study.trials) == 3
    assert (tmp_path / "study" / "trial_0000" / "evaluation.json").is_file()
    # The best file is what `rl train --config` reads.
    trained = rl("train", "toy", "--config", "best.toml", "--run-dir", "again")
    assert trained.code == 0, trained.err

    more = _tune(rl, "--trials", "4")
    assert more.code == 0, more.err
    study = optuna.load_study(study_name="rl", storage=f"sqlite:///{tmp_path}/study/study.db")
    assert len(study.trials) == 4, "a continued study runs only the trials still missing"


def test_a_trial_left_running_by_a_killed_search_is_failed_and_rerun(rl, tmp_path):
    from rl_cli.tuning import open_study

    Path("space.toml").write_text(SPACE)
    study = open_study(tmp_path / "study", seed=0)
    study.ask()  # a trial the killed process never finished
    result = _tune(rl, "--trials", "1")
    assert result.code == 0, result.err
    states = [t.state for t in open_study(tmp_path / "study", 0, resume_stale=False).trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]


def test_a_pruned_trial_stops_training_at_its_evaluation(tmp_path):
    import toy_plugin

    from rl_cli.tuning import Tuner, parse_space
    from rl_core.algorithm import AlgorithmSpec

    class PruneAtOnce:
        number = 0

        def __init__(self):
            self.reports = []

        def suggest_float(self, name, low, high, log=False):
            return 0.5

        def set_user_attr(self, key, value):
            pass  # what a real trial records is not under test here

        def report(self, value, step):
            self.reports.append(step)

        def should_prune(self):
            return True

    spec = AlgorithmSpec.for_agent(
        "toy_plugin:ToyAgent", name="toy", summary="t", config_cls=toy_plugin.ToyConfig
    )
    base = toy_plugin.ToyConfig(device="cpu", total_steps=2000)
    space = parse_space({"noise": {"low": 0.1, "high": 1.0}}, toy_plugin.ToyConfig)
    trial = PruneAtOnce()
    with pytest.raises(optuna.TrialPruned, match="pruned at step 200"):
        Tuner(spec, base, space, tmp_path, eval_every=200).objective(trial)
    assert trial.reports == [200]
    assert not (tmp_path / "trial_0000" / "policy").exists()


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ("nois = { low = 0.1, high = 1.0 }\n", "unknown setting 'nois'"),
        ("noise = { low = 1.0, high = 0.1 }\n", "needs low < high"),
        ("noise = { low = 0.0, high = 1.0, log = true }\n", "log scale needs low > 0"),
        ("noise = 3\n", "must be a table"),
        ("noise = { choices = [] }\n", "non-empty list"),
    ],
)
def test_bad_search_spaces_are_one_clear_line(rl, space, message):
    Path("space.toml").write_text(space)
    result = _tune(rl, "--trials", "1")
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_without_optuna_the_hint_names_the_extra(rl, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    result = rl("tune", "toy", "--trials", "1")
    assert result.code == 2 and "uv sync --extra tune" in result.err
    assert "./cli[tune]" in result.err


def test_an_algorithm_without_a_search_space_says_how_to_give_one(rl):
    result = rl("tune", "toy", "--trials", "1")
    assert result.code == 2 and "declares no search space; give one with --space" in result.err
