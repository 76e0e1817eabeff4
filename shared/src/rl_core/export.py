"""Export a trained greedy policy for use without rl: a SavedModel, a TFLite file, or an
ONNX file (with the ``onnx`` extra: tf2onnx, checked with onnxruntime).

An algorithm package describes its greedy policy as a :class:`ServingFunction`: a
TensorFlow function from named observation tensors to ``{"actions": ...}``, with the
observation normalization and the action scaling (clipping, ``Discrete.start``)
inside. :func:`export_policy` writes it with one signature, ``serving_default``:

- inputs: ``observations`` (``[batch, *obs_shape]``, the env's dtype), or one input per
  key of a ``Dict`` observation space (``observation``, ``desired_goal``, ...);
- output: ``actions`` (``[batch, *action_shape]``; int64 for ``Discrete``).

Loading needs TensorFlow alone::

    policy = tf.saved_model.load("exported").signatures["serving_default"]
    actions = policy(observations=tf.constant(obs))["actions"]
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_core.errors import ConfigError, install_hint

FORMATS = ("savedmodel", "tflite", "onnx")
SIGNATURE = "serving_default"


@dataclass
class ServingFunction:
    """A greedy policy as a TensorFlow function.

    Attributes:
        fn: ``fn(**inputs) -> {"actions": tensor}``, built from TensorFlow ops only.
        inputs: the input name -> ``tf.TensorSpec`` (batch dimension ``None``).
        trackables: the ``tf.Module``/``tf.Variable`` objects ``fn`` reads, so that the
            SavedModel stores their values.
        note: what the exported policy includes, for the export's ``policy.json``.
    """

    fn: Callable[..., Mapping[str, Any]]
    inputs: Mapping[str, Any]
    trackables: Sequence[Any] = field(default_factory=list)
    note: str = ""


def observation_inputs(space: Any) -> dict[str, Any]:
    """The input specs for an observation space: ``observations`` for a ``Box`` (or
    ``Discrete``), one per key for a ``Dict``."""
    import tensorflow as tf
    from gymnasium import spaces

    def spec(sub: Any, name: str) -> Any:
        if isinstance(sub, spaces.Discrete):
            return tf.TensorSpec([None], tf.int64, name=name)
        if isinstance(sub, spaces.Box):
            return tf.TensorSpec([None, *sub.shape], tf.as_dtype(sub.dtype), name=name)
        raise ConfigError(f"cannot export a policy over {type(sub).__name__} observations")

    if isinstance(space, spaces.Dict):
        return {key: spec(sub, key) for key, sub in space.spaces.items()}
    return {"observations": spec(space, "observations")}


def _module(serving: ServingFunction) -> Any:
    import tensorflow as tf

    module = tf.Module(name="policy")
    module.tracked = list(serving.trackables)
    names = list(serving.inputs)

    def call(*args: Any) -> Mapping[str, Any]:
        return serving.fn(**dict(zip(names, args, strict=True)))

    module.serve = tf.function(call, input_signature=[serving.inputs[n] for n in names])
    return module


def export_policy(serving: ServingFunction, out: str | Path, fmt: str) -> Path:
    """Write ``serving`` to ``out``: a SavedModel directory, a ``.tflite`` or an ``.onnx``
    file."""
    import tensorflow as tf

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    module = _module(serving)
    concrete = module.serve.get_concrete_function()
    if fmt == "savedmodel":
        tmp = out.with_name(f".tmp-{out.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        tf.saved_model.save(module, str(tmp), signatures={SIGNATURE: concrete})
        (tmp / "policy.json").write_text(
            json.dumps(
                {
                    "signature": SIGNATURE,
                    "inputs": {
                        k: [str(v.dtype.name), v.shape.as_list()] for k, v in serving.inputs.items()
                    },
                    "outputs": ["actions"],
                    "note": serving.note,
                },
                indent=2,
            )
            + "\n"
        )
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        return out
    if fmt == "onnx":
        data = _onnx_bytes(module, serving)
    else:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
        data = converter.convert()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


def _onnx_bytes(module: Any, serving: ServingFunction) -> bytes:
    """The graph converted by tf2onnx, checked on a probe batch against TensorFlow."""
    try:
        import onnxruntime
        import tf2onnx
    except ImportError:
        raise ConfigError(
            f"--format onnx needs tf2onnx and onnxruntime; fix: {install_hint('onnx')}"
        ) from None
    import numpy as np

    specs = [serving.inputs[name] for name in serving.inputs]
    proto, _ = tf2onnx.convert.from_function(module.serve, input_signature=specs, opset=17)
    data = proto.SerializeToString()
    # A round trip on a probe batch: a conversion that changed the policy is an error.
    rng = np.random.default_rng(0)
    probe = {
        name: rng.uniform(-1, 1, [4, *spec.shape[1:]]).astype(spec.dtype.as_numpy_dtype)
        for name, spec in serving.inputs.items()
    }
    expected = module.serve(*probe.values())["actions"].numpy()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    feeds = dict(zip([i.name for i in session.get_inputs()], probe.values(), strict=True))
    got = session.run(None, feeds)[0]
    if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-5):
        raise ConfigError("the ONNX conversion does not reproduce the policy's actions")
    return data
