import doctest
import importlib

import pytest

MODULES = ["_alignment", "_boxes", "_camera", "_direction", "_motion", "_planes", "_points", "_transforms"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_written(name: str) -> None:
    module = importlib.import_module(f"spatialclaw_ros.geometry.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
