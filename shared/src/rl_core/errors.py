"""Errors that carry a one-line message meant for the user.

The CLI prints any :class:`RLError` as a single line and exits non-zero, so raising
one of these (instead of a bare ``ValueError``) is how library code reports bad
input without a traceback.
"""

from __future__ import annotations


class RLError(Exception):
    """Base class: the message is complete and fit to show to a user as is."""

    exit_code = 2


class UnknownAlgorithmError(RLError):
    """No installed plugin registers an algorithm of this name."""


class DuplicateAlgorithmError(RLError):
    """Two plugins register an algorithm under the same name."""


class ConfigError(RLError):
    """A setting is unknown, has the wrong type or an invalid value."""


class RunDirectoryError(RLError):
    """A run directory is missing, incomplete or belongs to another algorithm."""


class DeviceError(RLError):
    """The requested device does not exist on this machine."""


class NonFiniteLossError(RLError):
    """A loss became NaN or infinite; training stopped at the last good checkpoint."""

    exit_code = 3


def install_hint(extra: str) -> str:
    """How to install an optional extra of rl-core, as a command that works from a clone
    of the rl repository (its packages are installed from their folders, not an index)."""
    return f"uv sync --extra {extra} (in a clone of rl), or pip install './shared[{extra}]'"
