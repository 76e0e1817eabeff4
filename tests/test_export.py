"""`rl export`: the greedy policy as a SavedModel and a TFLite file that plain TensorFlow
(in a virtualenv holding only TensorFlow, NumPy and Gymnasium) runs to the same actions
as `rl evaluate`'s policy."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from rl_cli.app import main
from rl_core.plugins import load_algorithms

_, REGISTRY = load_algorithms()

LOADER = """
import json, sys
import numpy as np
import tensorflow as tf
obs = np.load(sys.argv[1])
saved = tf.saved_model.load(sys.argv[2]).signatures["serving_default"]
a_saved = saved(observations=tf.constant(obs))["actions"].numpy()
interpreter = tf.lite.Interpreter(model_path=sys.argv[3])
a_lite = interpreter.get_signature_runner("serving_default")(observations=obs)["actions"]
print(json.dumps({"saved": a_saved.tolist(), "lite": np.asarray(a_lite).tolist(),
                  "modules": sorted(m for m in ("rl_core", "rl_ppo") if m in sys.modules)}))
"""


def _cli(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


def _train_and_export(tmp_path: Path, algo: str, env: str, *settings: str) -> tuple:
    run = tmp_path / f"{algo}-{env}"
    _cli("train", algo, "--env", env, "--steps", "2048", "--device", "cpu", "--run-dir",
         str(run), "--set", "eval_episodes=1", *settings)  # fmt: skip
    _cli("export", str(run), "--out", str(tmp_path / "saved"))
    _cli("export", str(run), "--format", "tflite", "--out", str(tmp_path / "policy.tflite"))
    spec = REGISTRY.get(algo)
    policy = spec.load_policy(run / "policy")
    from rl_core.envs import make_env
    from rl_core.run import RunDirectory

    probe = make_env(env, **RunDirectory(run).read_config()[1]["env_kwargs"])
    probe.observation_space.seed(0)
    samples = [probe.observation_space.sample() for _ in range(64)]
    if isinstance(samples[0], dict):
        return policy, {k: np.stack([s[k] for s in samples]) for k in samples[0]}
    return policy, np.stack(samples).astype(probe.observation_space.dtype)


@pytest.mark.parametrize(
    ("algo", "env", "settings"),
    [
        ("ppo", "CartPole-v1", ["--set", "normalize_observations=true"]),
        ("ppo", "Pendulum-v1", ["--set", "normalize_observations=true"]),
        ("mpo", "Pendulum-v1", ["--set", "learning_starts=256"]),
        ("mpo", "CartPole-v1", ["--set", "learning_starts=256"]),
        ("her", "rl/BitFlipping-v0", ["--set", "learning_starts=256"]),
        ("her", "rl/PointMassGoal-v0", ["--set", "learning_starts=256"]),
    ],
)
def test_export_runs_like_the_policy_in_this_process(tmp_path, algo, env, settings):
    import tensorflow as tf

    policy, obs = _train_and_export(tmp_path, algo, env, *settings)
    expected = policy.predict(obs, deterministic=True)
    if isinstance(obs, dict):  # a goal env: the policy reads observation and desired_goal
        feeds = {k: obs[k] for k in ("observation", "desired_goal")}
    else:
        feeds = {"observations": obs}
    saved = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
    got = saved(**{k: tf.constant(v) for k, v in feeds.items()})["actions"].numpy()
    runner = tf.lite.Interpreter(model_path=str(tmp_path / "policy.tflite"))
    lite = runner.get_signature_runner("serving_default")(**feeds)["actions"]
    if expected.dtype.kind == "i":
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(lite, expected)
    else:
        # Out-of-range probes hit the clipping; the rest is the mean, float32 apart.
        assert expected.dtype == got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-5)
        np.testing.assert_allclose(lite, expected, atol=1e-5)
    about = json.loads((tmp_path / "saved" / "policy.json").read_text())
    assert about["signature"] == "serving_default" and about["outputs"] == ["actions"]
    if algo == "ppo":
        assert "normalization" in about["note"]


@pytest.mark.skipif(importlib.util.find_spec("uv") is None, reason="needs uv")
def test_exported_policy_loads_where_only_tensorflow_is_installed(tmp_path):
    policy, obs = _train_and_export(tmp_path, "ppo", "CartPole-v1")
    np.save(tmp_path / "obs.npy", obs)
    venv = tmp_path / "plain"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    pins = [f"{name}=={version(name)}" for name in ("tensorflow", "numpy", "gymnasium")]
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *pins],
        check=True,
        timeout=600,
    )
    (tmp_path / "load.py").write_text(LOADER)
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(tmp_path / "load.py"), str(tmp_path / "obs.npy"),
         str(tmp_path / "saved"), str(tmp_path / "policy.tflite")],
        capture_output=True, text=True, timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    expected = policy.predict(obs, deterministic=True).tolist()
    assert loaded["saved"] == expected and loaded["lite"] == expected
    assert loaded["modules"] == []  # no rl package was there to import


def test_recurrent_policies_say_plainly_that_they_cannot_be_exported_yet(tmp_path, capsys):
    run = tmp_path / "ngu"
    _cli("train", "ngu", "--steps", "300", "--device", "cpu", "--run-dir", str(run),
         "--set", "eval_episodes=1")  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(["export", str(run), "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    assert "ngu policies cannot be exported yet" in capsys.readouterr().err


def test_onnx_export_round_trips_through_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    policy, obs = _train_and_export(tmp_path, "ppo", "CartPole-v1")
    run = tmp_path / "ppo-CartPole-v1"
    _cli("export", str(run), "--format", "onnx", "--out", str(tmp_path / "policy.onnx"))
    session = ort.InferenceSession(str(tmp_path / "policy.onnx"))
    assert [i.name for i in session.get_inputs()] == ["observations"]
    got = session.run(None, {"observations": obs})[0]
    np.testing.assert_array_equal(got, policy.predict(obs, deterministic=True))
