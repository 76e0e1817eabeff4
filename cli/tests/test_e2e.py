"""The `rl` command in a subprocess: start-up cost, SIGKILL + resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rl_core.run import RunDirectory

pytestmark = pytest.mark.e2e
TOY_CLI = Path(__file__).parent / "toy_cli.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def toy(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOY_CLI), *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def start_toy(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TOY_CLI), *args],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_checkpoint(run: RunDirectory, proc: subprocess.Popen, minimum: int = 1) -> None:
    deadline = time.monotonic() + 120
    while len(run.checkpoints()) < minimum:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.1)


def test_help_and_list_do_not_import_tensorflow():
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from rl_cli.app import main\n"
        "for args in (['--help'], ['list']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('TF' if 'tensorflow' in sys.modules else 'noTF', time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert out[-2] == "noTF"
    assert float(out[-1]) < 2.0


def test_sigkill_then_resume_loses_at_most_one_checkpoint_interval(tmp_path):
    args = ["--run-dir", "r", "--steps", "3000", "--set", "step_delay=0.004"]
    proc = start_toy("train", "toy", *args, cwd=tmp_path)
    run = RunDirectory(tmp_path / "r")
    wait_for_checkpoint(run, proc, minimum=2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = max(r["global_step"] for r in run.read_metrics())
    checkpoint = int(run.latest_checkpoint().name.split("_")[1])
    assert killed_at - checkpoint < 500 + 100  # one interval (+ one log record in flight)
    from_checkpoint = run.latest_checkpoint().name
    resumed = toy("resume", "r", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert from_checkpoint in resumed.stderr.replace("\n", "")
    steps = [r["global_step"] for r in run.read_metrics()]
    assert steps == sorted(set(steps)), "records after the checkpoint must not be duplicated"
    assert steps[-1] == 3000 and steps[0] == 100
    assert json.loads((tmp_path / "r" / "evaluation.json").read_text())["episodes"] == 3


def test_ctrl_c_writes_a_checkpoint_and_exits_cleanly(tmp_path):
    args = ["--run-dir", "r", "--steps", "20000", "--set", "step_delay=0.004"]
    proc = start_toy("train", "toy", *args, cwd=tmp_path)
    run = RunDirectory(tmp_path / "r")
    wait_for_checkpoint(run, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: checkpoint written" in err and "Traceback" not in err
    last_logged = max(r["global_step"] for r in run.read_metrics())
    assert run.latest_checkpoint().name == f"step_{last_logged:012d}"
    assert not run.policy_dir.exists()
