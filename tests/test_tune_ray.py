"""`rl tune --distributed ray`: trials in parallel Ray workers on one shared study."""

from __future__ import annotations

import pytest

pytest.importorskip("ray")
optuna = pytest.importorskip("optuna")

pytestmark = pytest.mark.e2e


def test_two_ray_workers_fill_one_study(tmp_path, monkeypatch, capsys):
    from rl_cli.app import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "space.toml").write_text(
        "learning_rate = { low = 1e-4, high = 3e-3, log = true }\n"
    )
    args = ["tune", "ppo", "--trials", "2", "--steps", "1024", "--eval-every", "512",
            "--space", "space.toml", "--study-dir", "study", "--device", "cpu",
            "--set", "eval_episodes=2", "--distributed", "ray", "--num-workers", "2"]  # fmt: skip
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    study = optuna.load_study(study_name="rl", storage=f"sqlite:///{tmp_path}/study/study.db")
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) >= 2
    # Both workers took part, each in its own process.
    assert len({t.user_attrs["pid"] for t in finished}) == 2
    assert (tmp_path / "study" / "best.toml").is_file()
