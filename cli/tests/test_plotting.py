"""`rl plot`: runs grouped into experiments, mean and 95% interval over seeds, smoothing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rl_cli.plotting import aggregate, curve, group_runs, plot_runs, smooth, t_quantile_975
from rl_core.config import BaseConfig
from rl_core.errors import ConfigError
from rl_core.run import RunDirectory


def _run(tmp_path, name, seed=0, lr=None, points=((0, 1.0), (100, 3.0)), algo="toy"):
    config = BaseConfig(seed=seed)
    run = RunDirectory.create(algo, config.env, path=tmp_path / name)
    run.write_config(algo, config)
    if lr is not None:  # a setting a real algorithm would have: append it to [config]
        text = (run.path / "config.toml").read_text() + f"learning_rate = {lr}\n"
        (run.path / "config.toml").write_text(text)
    with run.metrics_path.open("w") as fh:
        for i, (step, value) in enumerate(points):
            record = {"global_step": step, "time": 1000.0 + 10 * i, "charts/episodic_return": value}
            fh.write(json.dumps(record) + "\n")
    return run


def test_mean_and_95_interval_by_hand():
    x = np.array([0.0, 10.0])
    curves = [(x, np.array([1.0, 2.0])), (x, np.array([3.0, 4.0])), (x, np.array([5.0, 9.0]))]
    agg = aggregate(curves, points=2)
    np.testing.assert_allclose(agg.mean, [3.0, 5.0])
    # at x=0: std(ddof=1) of 1, 3, 5 is 2; t(0.975, 2) = 4.303; half width 4.303*2/sqrt(3)
    half0 = 4.303 * 2.0 / math.sqrt(3)
    half1 = 4.303 * math.sqrt(((2 - 5) ** 2 + (4 - 5) ** 2 + (9 - 5) ** 2) / 2) / math.sqrt(3)
    np.testing.assert_allclose(agg.low, [3.0 - half0, 5.0 - half1], rtol=1e-6)
    np.testing.assert_allclose(agg.high, [3.0 + half0, 5.0 + half1], rtol=1e-6)
    assert agg.runs == 3
    assert t_quantile_975(1) == 12.706 and t_quantile_975(100) == 1.96


def test_runs_are_interpolated_onto_the_range_all_of_them_cover():
    a = (np.array([0.0, 100.0]), np.array([0.0, 100.0]))
    b = (np.array([50.0, 150.0]), np.array([50.0, 150.0]))
    agg = aggregate([a, b], points=3)
    np.testing.assert_allclose(agg.x, [50.0, 75.0, 100.0])
    np.testing.assert_allclose(agg.mean, [50.0, 75.0, 100.0])


def test_smoothing_is_tensorboards_debiased_ema():
    values = np.array([1.0, 3.0])
    # first point debiased to itself; second: (0.5*0.5*1 + 0.5*3) / (1 - 0.25) = 7/3
    np.testing.assert_allclose(smooth(values, 0.5), [1.0, 7.0 / 3.0])
    np.testing.assert_array_equal(smooth(values, 0.0), values)
    with pytest.raises(ConfigError, match="--smooth"):
        smooth(values, 1.0)


def test_seeds_group_into_one_experiment_and_settings_split_them(tmp_path):
    runs = [
        _run(tmp_path, "a0", seed=0, lr=0.1),
        _run(tmp_path, "a1", seed=1, lr=0.1),
        _run(tmp_path, "b0", seed=0, lr=0.2),
    ]
    groups = group_runs(runs)
    assert [len(g.runs) for g in groups] == [2, 1]
    assert groups[0].label == "toy CartPole-v1 (learning_rate=0.1)"
    by_algo = group_runs(runs, group_by="algorithm")
    assert [len(g.runs) for g in by_algo] == [3]
    assert [g.label for g in group_runs(runs, labels=["x", "y", "x"])] == ["x", "y"]
    with pytest.raises(ConfigError, match="no setting 'gamma'"):
        group_runs(runs, group_by="gamma")


def test_a_run_from_before_eval_deterministic_is_a_seed_of_the_same_experiment(tmp_path):
    # Runs written before the setting existed have no eval_deterministic in their config.
    old, new = _run(tmp_path, "old", seed=0), _run(tmp_path, "new", seed=1)
    path = old.path / "config.toml"
    text = path.read_text()
    assert "eval_deterministic = true\n" in text
    path.write_text(text.replace("eval_deterministic = true\n", ""))
    assert [len(g.runs) for g in group_runs([old, new])] == [2]


def test_x_in_wall_time_and_the_png_is_written(tmp_path):
    run = _run(tmp_path, "r", points=((0, 1.0), (100, 2.0), (200, 3.0)))
    xs, _ = curve(run, "charts/episodic_return", x="time")
    np.testing.assert_array_equal(xs, [0.0, 10.0, 20.0])
    out = plot_runs([run, _run(tmp_path, "s", seed=1)], tmp_path / "c.png", x="time", smoothing=0.6)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="--x must be"):
        plot_runs([run], tmp_path / "c.png", x="episodes")
