"""Checks, one isolated environment per package.

``nox`` runs lint, then ``tests-<pkg>`` for every workspace package (each in a
fresh virtualenv holding only that package and its declared dependencies, which
proves a user can install just that one), then the cross-package tests, then
the documentation build (MkDocs, warnings as errors).
``nox -s bench`` runs the benchmarks and rewrites ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False


def _workspace_members() -> dict[str, Path]:
    """Distribution name -> folder, from the root pyproject's workspace globs."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for folder in sorted(glob.glob(str(ROOT / pattern))):
            pyproject = Path(folder) / "pyproject.toml"
            if pyproject.is_file():
                members[tomllib.loads(pyproject.read_text())["project"]["name"]] = Path(folder)
    return members


MEMBERS = _workspace_members()


def _local_closure(name: str) -> list[Path]:
    """The folders of ``name`` and of every workspace package it depends on."""
    seen: dict[str, Path] = {}

    def visit(dist: str) -> None:
        if dist in seen:
            return
        seen[dist] = MEMBERS[dist]
        project = tomllib.loads((MEMBERS[dist] / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            dep = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()
            if dep in MEMBERS:
                visit(dep)

    visit(name)
    return list(seen.values())


def _install_local(session: nox.Session, folders: list[Path], *extra: str) -> None:
    # Workspace packages are not on PyPI: install them from their folders together,
    # so the resolver takes rl-core from here and everything else from the registry.
    # rl-core comes with its `video` extra (the tests record GIFs and MP4s), `ray`
    # (the distributed runners are tested on a local Ray instance), the image suites
    # `atari`, `minatar`, `minigrid` (wheels of about 61, 64 and 12 MB; 2-4 s each to
    # install from PyPI) and `mujoco`, `robotics` (about 50 MB: MuJoCo 3.11 and
    # gymnasium-robotics), whose smoke tests skip where they are missing.
    # rl-cli comes with `tune` (Optuna, for `rl tune`).
    extras = {
        MEMBERS["rl-core"]: "[video,ray,atari,minatar,minigrid,mujoco,robotics]",
        MEMBERS["rl-cli"]: "[tune]",
    }
    specs = [f"{f}{extras.get(f, '')}" for f in folders]
    session.install(*specs, "pytest>=8", *extra)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def _make_test_session(dist: str, folder: Path) -> None:
    short = dist.removeprefix("rl-")

    @nox.session(name=f"tests-{short}")
    def tests(session: nox.Session) -> None:
        _install_local(session, _local_closure(dist))
        session.run("pytest", str(folder / "tests"), "-p", "no:cacheprovider", *session.posargs)

    tests.__doc__ = f"{dist} alone: its own tests in an env with only its declared deps."


for _dist, _folder in MEMBERS.items():
    if (_folder / "tests").is_dir():
        _make_test_session(_dist, _folder)


@nox.session(name="tests-integration")
def tests_integration(session: nox.Session) -> None:
    """Cross-package tests: every installed plugin, the example plugin in a fresh env."""
    # uv builds the fresh virtualenv that the example-plugin test installs into.
    # The onnx extra: `rl export --format onnx` is tested there.
    _install_local(session, list(MEMBERS.values()), "uv>=0.8", "tf2onnx>=1.16", "onnxruntime>=1.17")
    session.run("pytest", "tests", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors (generated pages first)."""
    _install_local(session, list(MEMBERS.values()), "mkdocs>=1.6", "mkdocs-material>=9.5")
    session.run("python", "docs/generate.py")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / ".nox" / "site"))


@nox.session
def bench(session: nox.Session) -> None:
    """Learning and speed benchmarks; rewrites benchmarks/RESULTS.md (slow: hours)."""
    _install_local(session, list(MEMBERS.values()))
    session.run("python", "benchmarks/run.py", *(session.posargs or ["--all"]))


nox.options.sessions = [
    "lint",
    *[f"tests-{d.removeprefix('rl-')}" for d, f in MEMBERS.items() if (f / "tests").is_dir()],
    "tests-integration",
    "docs",
]
