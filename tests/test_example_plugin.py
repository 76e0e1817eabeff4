"""The plugin contract works for packages we do not ship.

Installs `examples/rl-random-search` with rl-core and rl-cli into a fresh
virtualenv outside the workspace, then trains it through the `rl` command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, env=env, **kwargs
    )


def test_example_package_installs_outside_the_workspace_and_trains(tmp_path):
    uv = [shutil.which("uv")] if shutil.which("uv") else [sys.executable, "-m", "uv"]
    venv = tmp_path / "venv"
    made = run(*uv, "venv", "--quiet", "--python", sys.executable, venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    packages = [ROOT / "shared", ROOT / "cli", ROOT / "examples" / "rl-random-search"]
    installed = run(*uv, "pip", "install", "--quiet", "--python", python, *packages)
    assert installed.returncode == 0, installed.stderr

    rl = venv / "bin" / "rl"
    listing = run(rl, "list")
    assert listing.returncode == 0 and "random-search" in listing.stdout
    assert "ppo" not in listing.stdout  # only what this environment installed

    trained = run(
        rl,
        "train",
        "random-search",
        "--steps",
        "10000",
        "--run-dir",
        tmp_path / "run",
        "--set",
        "eval_episodes=5",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    evaluation = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    # A uniformly random CartPole policy averages ~22; random search is far past it by 10k steps.
    assert evaluation["return_mean"] >= 100, evaluation
