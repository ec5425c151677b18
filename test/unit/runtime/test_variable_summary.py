import numpy as np

from spatialclaw_ros.runtime._summary import changed_names, public_names, summarize


def test_array_summary_has_shape_dtype_and_range():
    text = summarize(np.array([[1.0, np.nan], [3.0, 5.0], [2.0, 2.0], [4.0, 4.0]], np.float32))
    assert text == "ndarray float32 shape (4, 2) min 1 max 5 mean 3 non-finite 1"


def test_mask_summary_counts_true_pixels():
    assert summarize(np.eye(4, dtype=bool)) == "ndarray bool shape (4, 4) true 4 (25.0%)"


def test_containers_and_scalars():
    assert summarize(2.5) == "float 2.5"
    assert summarize({"a": 1, "b": 2}) == "dict len 2 keys ['a', 'b']"
    assert (
        summarize([np.zeros(3)] * 5) == "list len 5 [ndarray(3,), ndarray(3,), ndarray(3,), ndarray(3,), ...]"
    )


def test_a_broken_repr_does_not_break_the_summary():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert summarize(Broken()) == "Broken (no summary: RuntimeError)"


def test_new_rebound_and_edited_names_are_found():
    namespace = {"a": 1, "arr": np.zeros(3), "_hidden": 1, "np": np}
    before = public_names(namespace)
    namespace["b"] = 2
    namespace["arr"][0] = 5
    assert changed_names(before, public_names(namespace)) == (["b"], ["arr"])
