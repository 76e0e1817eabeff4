"""Variables saved and restored by name: what every agent's ``weights.npz`` holds.

Names (not TensorFlow's checkpoint object graph) keep a save readable with NumPy
alone and let a load say exactly which weights do not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rl_core.errors import RunDirectoryError

WEIGHTS_FILE = "weights.npz"


def save_variables(path: Path, variables: Mapping[str, Any]) -> None:
    """Write ``{name: tf.Variable}`` to ``path/weights.npz``."""
    np.savez(Path(path) / WEIGHTS_FILE, **{name: v.numpy() for name, v in variables.items()})


def load_variables(path: Path, variables: Mapping[str, Any]) -> None:
    """Assign ``path/weights.npz`` to ``{name: tf.Variable}``.

    Raises :class:`RunDirectoryError` naming the weights that are missing, extra or of
    another shape (a save from other settings) before assigning any.
    """
    with np.load(Path(path) / WEIGHTS_FILE) as data:
        saved = {name: data[name] for name in data.files}
    mismatched = sorted(
        set(variables) ^ set(saved)
        | {n for n in set(variables) & set(saved) if tuple(variables[n].shape) != saved[n].shape}
    )
    if mismatched:
        raise RunDirectoryError(
            f"{path}: the saved weights do not fit this network ({', '.join(mismatched[:4])}"
            f"{', ...' if len(mismatched) > 4 else ''}); was it saved with other settings?"
        )
    for name, var in variables.items():
        var.assign(saved[name])
