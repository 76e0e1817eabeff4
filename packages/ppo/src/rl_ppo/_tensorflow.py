"""TensorFlow, imported without the Keras it loads eagerly.

``import tensorflow`` (2.16+) ends with ``importlib.import_module("keras.src.optimizers")``
inside ``try/except ImportError``, only to register Keras optimizers for Keras
SavedModels. That import pulls in all of Keras 3 and, through its visualization
utilities, matplotlib: about a third of TensorFlow's import time, measured on these
machines, for nothing PPO uses. Marking the module absent for the duration of the
import makes TensorFlow skip it; the mark is removed afterwards, so ``tf.keras`` and
``import keras`` still work later (loading Keras then, on first use).
"""

from __future__ import annotations

import sys

_SKIPPED = "keras.src.optimizers"

if "tensorflow" not in sys.modules and _SKIPPED not in sys.modules:
    sys.modules[_SKIPPED] = None  # type: ignore[assignment]
    try:
        import tensorflow as tf
    finally:
        if sys.modules.get(_SKIPPED, 0) is None:
            del sys.modules[_SKIPPED]
else:
    import tensorflow as tf

__all__ = ["tf"]
