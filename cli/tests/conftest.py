from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin

from rl_cli.app import main
from rl_core.plugins import make_plugin_manager


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def rl(capsys, monkeypatch, tmp_path):
    """Run the `rl` CLI in-process with only the toy plugin; returns a CliResult."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> CliResult:
        pm = make_plugin_manager(load_entry_points=False)
        pm.register(toy_plugin, name="toy")
        code = 0
        try:
            main(list(args), pm)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
