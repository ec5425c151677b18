"""Input checks shared by the simulation modules: each raises ValueError naming the offending argument."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def finite(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless it is a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def positive(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless it is finite and > 0."""
    number = finite(name, value)
    if number <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def non_negative(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless it is finite and >= 0."""
    number = finite(name, value)
    if number < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def fraction(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless it lies in [0, 1]."""
    number = finite(name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def vector(name: str, value: Sequence[float], size: int) -> tuple[float, ...]:
    """``value`` as a tuple of ``size`` finite floats."""
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of {size} numbers, got {value!r}") from None
    if len(items) != size:
        raise ValueError(f"{name} must have {size} entries, got {len(items)}")
    return tuple(finite(f"{name}[{i}]", item) for i, item in enumerate(items))
