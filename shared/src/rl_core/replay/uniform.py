"""Uniform experience replay: a preallocated ring buffer of named fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FieldSpecs = Mapping[str, tuple[tuple[int, ...], npt.DTypeLike]]
"""Field name -> (per-transition shape, dtype), e.g. ``{"obs": ((4,), "float32")}``."""

# Keys that ``sample`` adds to its result, so no field may take them.
RESERVED_NAMES = frozenset({"indices", "weights"})

# How "wide" a dtype kind is. Writing a value of a wider kind into a narrower field
# (a float action into an int64 field, say) would silently truncate, so it is refused.
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _check_count(value: Any, name: str, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int, refusing bools, floats and values below the minimum."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


class ReplayBuffer:
    """Fixed-capacity FIFO store of transitions, sampled uniformly with replacement.

    Every field lives in one preallocated array of shape ``(capacity, *shape)``; slots
    ``[0, len(self))`` are filled, and once full the oldest transition is overwritten.
    """

    def __init__(self, capacity: int, specs: FieldSpecs) -> None:
        self._capacity = _check_count(capacity, "capacity")
        if not specs:
            raise ValueError("specs must name at least one field")
        self._specs: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        for name, spec in specs.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"field names must be non-empty strings, got {name!r}")
            if name in RESERVED_NAMES:
                raise ValueError(f"field name {name!r} is reserved (used in sampled batches)")
            try:
                shape, dtype = spec
                shape = tuple(
                    _check_count(d, f"dimension of {name!r}", allow_zero=True) for d in shape
                )
                dtype = np.dtype(dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"spec of field {name!r} must be (shape tuple, dtype), got {spec!r}: {exc}"
                ) from exc
            self._specs[name] = (shape, dtype)
        self._data = {
            name: np.zeros((self._capacity, *shape), dtype)
            for name, (shape, dtype) in self._specs.items()
        }
        self._next = 0  # slot the next transition goes to
        self._size = 0

    # -- properties ----------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def specs(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Normalised field specs: name -> (shape, ``np.dtype``)."""
        return dict(self._specs)

    @property
    def is_full(self) -> bool:
        return self._size == self._capacity

    def __len__(self) -> int:
        return self._size

    # -- writing -------------------------------------------------------------------

    def add(self, **fields: Any) -> int:
        """Store one transition (one value per field) and return the slot it went to."""
        arrays = self._check_fields(fields, batched=False)
        batch = {name: value[np.newaxis] for name, value in arrays.items()}
        return int(self._write(batch, 1)[0])

    def add_batch(self, **fields: Any) -> np.ndarray:
        """Store ``B`` transitions (leading dim ``B`` on every field) in order.

        Returns the slots written, in order. If ``B > capacity`` only the newest
        ``capacity`` transitions are kept, and only their slots are returned.
        """
        arrays, n = self.check_batch(fields)
        return self._write(arrays, n)

    def check_batch(self, fields: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
        """Validate a batch of fields without storing it; return the arrays and ``B``.

        Exposed so that wrappers (the prioritized buffer) can check their own extra
        arguments against ``B`` before anything is written.
        """
        arrays = self._check_fields(fields, batched=True)
        sizes = {name: value.shape[0] for name, value in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"all fields need the same batch size, got {sizes}")
        return arrays, next(iter(sizes.values()))

    def _check_fields(self, fields: Mapping[str, Any], *, batched: bool) -> dict[str, np.ndarray]:
        missing = self._specs.keys() - fields.keys()
        unknown = fields.keys() - self._specs.keys()
        if missing or unknown:
            raise ValueError(
                f"fields must be exactly {sorted(self._specs)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        arrays = {}
        for name, (shape, dtype) in self._specs.items():
            value = np.asarray(fields[name])
            item_shape = value.shape[1:] if batched else value.shape
            if (batched and value.ndim == 0) or item_shape != shape:
                want = f"(B, {', '.join(map(str, shape))})" if batched else str(shape)
                raise ValueError(f"field {name!r} has shape {value.shape}, expected {want}")
            if _KIND_RANK.get(value.dtype.kind, 99) > _KIND_RANK.get(dtype.kind, 99):
                raise ValueError(
                    f"field {name!r} is {dtype}; refusing a lossy cast from {value.dtype}"
                )
            arrays[name] = value
        return arrays

    def _write(self, arrays: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Copy ``n`` validated rows into the ring; return the slots that now hold them."""
        cap = self._capacity
        start, kept = self._next, n
        if n > cap:
            # Writing all rows in order would leave just the newest `cap`; skip the rest.
            skip = n - cap
            arrays = {name: value[skip:] for name, value in arrays.items()}
            start, kept = (self._next + skip) % cap, cap
        # At most two contiguous slices: up to the end of the ring, then from its start.
        head = min(kept, cap - start)
        for name, value in arrays.items():
            dst = self._data[name]
            dst[start : start + head] = value[:head]
            dst[: kept - head] = value[head:]
        self._next = (self._next + n) % cap
        self._size = min(self._size + n, cap)
        return (start + np.arange(kept)) % cap

    # -- reading -------------------------------------------------------------------

    def check_indices(self, indices: npt.ArrayLike) -> np.ndarray:
        """Return ``indices`` as an int array, raising IndexError unless all are filled slots."""
        idx = np.asarray(indices)
        if idx.size == 0:
            return idx.astype(np.int64)
        if idx.dtype.kind not in "iu":
            raise IndexError(f"indices must be integers, got dtype {idx.dtype}")
        if idx.min() < 0 or idx.max() >= self._size:
            raise IndexError(
                f"indices must lie in the filled part [0, {self._size}), "
                f"got range [{idx.min()}, {idx.max()}]"
            )
        return idx

    def get(self, indices: npt.ArrayLike) -> dict[str, np.ndarray]:
        """Return copies of the fields at ``indices`` (any int array shape, or a scalar)."""
        idx = self.check_indices(indices)
        return {name: data[idx] for name, data in self._data.items()}

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw ``batch_size`` transitions uniformly with replacement from the filled part.

        Returns every field plus ``"indices"`` (the slots drawn).
        """
        batch_size = _check_count(batch_size, "batch_size")
        if self._size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self._size, size=batch_size)
        batch = {name: data[idx] for name, data in self._data.items()}
        batch["indices"] = idx
        return batch

    # -- checkpointing -------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Return a flat dict of ints and array copies (``np.savez(path, **d)`` works).

        Field arrays are stored under ``"data/<name>"``, cut to the filled part.
        """
        state: dict[str, Any] = {
            "capacity": self._capacity,
            "size": self._size,
            "next_index": self._next,
        }
        for name, data in self._data.items():
            state[f"data/{name}"] = data[: self._size].copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (also from an ``np.load``-ed npz)."""
        expected = {"capacity", "size", "next_index"} | {f"data/{n}" for n in self._specs}
        if set(state.keys()) != expected:
            raise ValueError(f"state keys must be {sorted(expected)}, got {sorted(state.keys())}")
        # int() accepts the 0-d arrays that np.load gives back for scalars.
        capacity, size, next_index = (int(state[k]) for k in ("capacity", "size", "next_index"))
        if capacity != self._capacity:
            raise ValueError(f"state has capacity {capacity}, buffer has {self._capacity}")
        if not 0 <= size <= capacity:
            raise ValueError(f"state size {size} is outside [0, {capacity}]")
        # Before the ring is full the next slot is always `size`.
        if not (0 <= next_index < capacity and (size == capacity or next_index == size)):
            raise ValueError(f"state next_index {next_index} does not fit size {size}")
        arrays = {}
        for name, (shape, dtype) in self._specs.items():
            value = np.asarray(state[f"data/{name}"])
            if value.shape != (size, *shape) or value.dtype != dtype:
                raise ValueError(
                    f"state field {name!r} is {value.dtype}{value.shape}, "
                    f"expected {dtype}{(size, *shape)}"
                )
            arrays[name] = value
        # Everything is checked: now mutate.
        for name, value in arrays.items():
            self._data[name][:size] = value
            self._data[name][size:] = 0
        self._size, self._next = size, next_index
