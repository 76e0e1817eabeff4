import numpy as np
import pytest
import tensorflow as tf

from rl_core.errors import RunDirectoryError
from rl_core.weights import load_variables, save_variables


def test_variables_round_trip_by_name(tmp_path):
    saved = {"pi/w": tf.Variable([[1.0, 2.0]]), "pi/b": tf.Variable([3.0])}
    save_variables(tmp_path, saved)
    target = {"pi/w": tf.Variable([[0.0, 0.0]]), "pi/b": tf.Variable([0.0])}
    load_variables(tmp_path, target)
    np.testing.assert_array_equal(target["pi/w"].numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(target["pi/b"].numpy(), [3.0])


def test_weights_that_do_not_fit_are_named_and_nothing_is_assigned(tmp_path):
    save_variables(tmp_path, {"pi/w": tf.Variable([[1.0, 2.0]]), "old": tf.Variable([1.0])})
    target = {"pi/w": tf.Variable([[0.0, 0.0, 0.0]]), "new": tf.Variable([0.0])}
    with pytest.raises(RunDirectoryError, match=r"\(new, old, pi/w\)"):
        load_variables(tmp_path, target)
    assert target["pi/w"].numpy().sum() == 0.0
