"""The names of the observation kinds (:mod:`rl_core.spaces`), importing nothing: the
plugin specs and ``rl list`` use them, and neither should pay for NumPy or Gymnasium."""

from __future__ import annotations

from collections.abc import Iterable

# What ``rl list`` and the errors call each kind.
KIND_NAMES = {
    "flat": "flat Box",
    "image": "image Box (H x W x C, uint8 or bool)",
    "discrete": "Discrete",
    "dict": "Dict",
}


def kind_name(kind: str) -> str:
    """The short name of an observation kind: "flat Box", "image", "Discrete", "Dict"."""
    return KIND_NAMES[kind].split(" (")[0].replace("image Box", "image")


def describe_kinds(kinds: Iterable[str]) -> str:
    """Accepted kinds in words, for ``rl list``: "flat Box, image, Discrete"."""
    return ", ".join(kind_name(k) for k in kinds)
