"""R2D2's sequence adder: fixed-length, overlapping sequences that never cross episodes.

Each actor slot keeps a window of the last ``S = burn_in + unroll_length`` steps. A full
window is emitted as a sequence and then shifted by ``period`` steps, so consecutive
sequences overlap by ``S - period``. An episode's end emits what the window holds (with
the final observation as the last step) zero-padded and masked to length S; the next
episode starts a fresh window whose first ``burn_in`` rows are masked padding, so its first
real steps are trained too. The recurrent state the actor had before each step is stored
with it, so every sequence starts from the state it was acted with (R2D2's stored state).
"""

from __future__ import annotations

import numpy as np

# Per-step fields: name -> (shape after the step axis, dtype). "obs" is added with its shape.
STEP_FIELDS: dict[str, tuple[tuple[int, ...], str]] = {
    "action": ((), "int32"),
    "prev_action": ((), "int32"),
    "prev_re": ((), "float32"),
    "prev_ri": ((), "float32"),
    "re": ((), "float32"),
    "ri": ((), "float32"),
    "term": ((), "float32"),
    "valid": ((), "float32"),  # a real transition: a_t was taken in x_t
    "first": ((), "float32"),  # x_t starts an episode (the recurrent state resets here)
    "mu": ((), "float32"),  # behaviour probability mu(a_t | x_t)
}


def sequence_specs(
    obs_shape: int | tuple[int, ...],
    length: int,
    state_shape: tuple[int, ...],
    obs_dtype: str = "float32",
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Replay field specs of one stored sequence (``obs_shape``: D of flat observations,
    or an image's ``(H, W, C)``, stored as ``obs_dtype``: uint8 for images)."""
    obs_shape = (obs_shape,) if isinstance(obs_shape, int | np.integer) else tuple(obs_shape)
    specs = {"obs": ((length, *obs_shape), obs_dtype)}
    specs.update({k: ((length, *shape), dt) for k, (shape, dt) in STEP_FIELDS.items()})
    specs["policy"] = ((), "int32")
    specs["state"] = (state_shape, "float32")
    return specs


class SequenceAdder:
    """Builds sequences for ``num_slots`` actor slots stepping in lockstep."""

    def __init__(
        self,
        num_slots: int,
        obs_shape: int | tuple[int, ...],
        burn_in: int,
        unroll_length: int,
        period: int,
        state_shape: tuple[int, ...],
        obs_dtype: str = "float32",
    ) -> None:
        self.length = burn_in + unroll_length
        self.burn_in = burn_in
        self.period = period
        self.num_slots = num_slots
        self.specs = sequence_specs(obs_shape, self.length, state_shape, obs_dtype)
        self.window = {
            name: np.zeros((num_slots, *shape), dtype)
            for name, (shape, dtype) in self.specs.items()
            if name not in ("policy", "state")
        }
        self.states = np.zeros((num_slots, self.length, *state_shape), np.float32)
        self.policy = np.zeros(num_slots, np.int32)
        self.pos = np.full(num_slots, burn_in, np.int64)
        self._slots = np.arange(num_slots)
        self._emitted: list[dict[str, np.ndarray]] = []

    def start_episodes(self, slots: np.ndarray, policies: np.ndarray) -> None:
        """Fresh windows for ``slots``: ``burn_in`` rows of masked padding, then the episode."""
        for array in self.window.values():
            array[slots] = 0
        self.states[slots] = 0.0
        self.policy[slots] = policies
        self.pos[slots] = self.burn_in

    def add(self, states: np.ndarray, **step: np.ndarray) -> None:
        """One step for every slot: ``step`` has one row per slot for each field of
        :data:`STEP_FIELDS` (``valid`` is set here) and ``obs``; ``states`` is the
        recurrent state each slot acted from."""
        rows = self._slots, self.pos
        for name, value in step.items():
            self.window[name][rows] = value
        self.window["valid"][rows] = 1.0
        self.states[rows] = states
        self.pos += 1
        for slot in np.flatnonzero(self.pos == self.length):
            self._emit(slot)
            shift = self.length - self.period
            for array in (*self.window.values(), self.states):
                array[slot, :shift] = array[slot, self.period :]
                array[slot, shift:] = 0
            self.pos[slot] = shift

    def end_episodes(
        self,
        slots: np.ndarray,
        final_obs: np.ndarray,
        prev_action: np.ndarray,
        prev_re: np.ndarray,
        prev_ri: np.ndarray,
    ) -> None:
        """Slots whose episodes just ended: store the final observation (no action, so
        masked) with the inputs the Q-network is conditioned on there (the last action
        and its rewards: a time-limit bootstrap reads Q at this row), and emit their
        partial windows zero-padded to the full length."""
        for i, slot in enumerate(slots):
            pos = self.pos[slot]
            for array in self.window.values():
                array[slot, pos:] = 0
            self.window["obs"][slot, pos] = final_obs[i]
            self.window["prev_action"][slot, pos] = prev_action[i]
            self.window["prev_re"][slot, pos] = prev_re[i]
            self.window["prev_ri"][slot, pos] = prev_ri[i]
            self._emit(slot)

    def _emit(self, slot: int) -> None:
        sequence = {name: array[slot].copy() for name, array in self.window.items()}
        sequence["policy"] = np.int32(self.policy[slot])
        sequence["state"] = self.states[slot, 0].copy()
        self._emitted.append(sequence)

    def pop(self) -> dict[str, np.ndarray] | None:
        """The sequences emitted since the last call, stacked, or None."""
        if not self._emitted:
            return None
        out = {k: np.stack([s[k] for s in self._emitted]) for k in self._emitted[0]}
        self._emitted = []
        return out
