import doctest
import importlib

import pytest

MODULES = [
    "_alignment",
    "_boxes",
    "_camera",
    "_circles",
    "_direction",
    "_motion",
    "_planes",
    "_points",
    "_support",
    "_surface",
    "_temporal",
    "_transforms",
    "_upright",
    "_velocity",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_written(name: str) -> None:
    module = importlib.import_module(f"spatialclaw_ros.geometry.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
