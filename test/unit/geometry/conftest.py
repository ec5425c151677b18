"""Shared fixtures for the geometry tests."""

import numpy as np
import pytest


@pytest.fixture
def K() -> np.ndarray:
    return np.array([[500.0, 0.0, 320.0], [0.0, 400.0, 240.0], [0.0, 0.0, 1.0]])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)
