"""Replay buffers on disk: one ``.npz`` of flat arrays, observations kept compact.

An off-policy agent's checkpoint carries its buffer (``replay.npz`` beside the weights),
so that a resume samples from the same data instead of training on a near-empty buffer.
Each buffer's ``state_dict()`` gives the flat arrays; :func:`save_replay` writes them and
:func:`load_replay` reads them back. Arrays named in ``compact`` (the observations of a
``uint8`` or ``bool`` observation space, see :func:`is_compact_space`) are written as
``uint8`` and restored to the dtype the buffer holds them in (``bool`` or ``float32``),
so an image buffer on disk is as small as in memory and a float buffer of pixels shrinks
fourfold.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPLAY_FILE = "replay.npz"
"""File name of the replay buffer inside a checkpoint directory."""

_DTYPE_PREFIX = "__dtype__/"  # the in-memory dtype of an array written as uint8


def is_compact_space(space: Any) -> bool:
    """True for a space whose values are ``uint8`` or ``bool`` (images, bit vectors)."""
    dtype = getattr(space, "dtype", None)
    return dtype is not None and np.dtype(dtype) in (np.dtype(np.uint8), np.dtype(bool))


def save_replay(path: str | Path, state: Mapping[str, Any], compact: Iterable[str] = ()) -> Path:
    """Write a buffer's ``state_dict()`` to ``path`` (an ``.npz``), replacing it atomically.

    Arrays named in ``compact`` go to disk as ``uint8`` when that loses nothing (every
    value a whole number in [0, 255]); otherwise they are written as they are.
    """
    path = Path(path)
    compact = set(compact)
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        array = np.asarray(value)
        if key in compact and array.dtype != np.uint8:
            small = array.astype(np.uint8)
            if np.array_equal(small, array):
                arrays[_DTYPE_PREFIX + key] = np.array(array.dtype.str)
                array = small
        arrays[key] = array
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as file:  # a file object: np.savez would append ".npz" to a name
        np.savez(file, **arrays)
    os.replace(tmp, path)
    return path


def load_replay(path: str | Path) -> dict[str, np.ndarray]:
    """What :func:`save_replay` wrote, compacted arrays back in their in-memory dtype."""
    with np.load(Path(path), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for key in [k for k in arrays if k.startswith(_DTYPE_PREFIX)]:
        dtype = np.dtype(str(arrays.pop(key)))
        name = key[len(_DTYPE_PREFIX) :]
        arrays[name] = arrays[name].astype(dtype)
    return arrays
