"""Entry checks shared by the public geometry functions: shapes, dtypes, finiteness."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    return f"{type(value).__name__}"


def as_float_array(name: str, value: ArrayLike) -> FloatArray:
    """Convert `value` to a float64 array, raising ValueError that names `name` when it is not numeric."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {_describe(value)}") from exc
    return array


def finite(name: str, array: FloatArray) -> FloatArray:
    """Raise ValueError naming `name` when `array` holds NaN or inf."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return array


def vector3(name: str, value: ArrayLike) -> FloatArray:
    """A finite (3,) float64 vector."""
    array = as_float_array(name, value)
    if array.shape != (3,):
        raise ValueError(f"{name} must have shape (3,), got {_describe(array)}")
    return finite(name, array)


def unit_vector3(name: str, value: ArrayLike) -> FloatArray:
    """A finite (3,) vector scaled to unit length; zero vectors are rejected."""
    array = vector3(name, value)
    norm = float(np.linalg.norm(array))
    if norm < 1e-12:
        raise ValueError(f"{name} must be a non-zero vector")
    return array / norm


def points3(name: str, value: ArrayLike, *, min_count: int = 1) -> FloatArray:
    """A finite (N, 3) float64 point array with N >= `min_count`; a single (3,) point becomes (1, 3)."""
    array = as_float_array(name, value)
    if array.shape == (3,):
        array = array.reshape(1, 3)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3) or (3,), got {_describe(array)}")
    if array.shape[0] < min_count:
        raise ValueError(f"{name} must hold at least {min_count} point(s), got {array.shape[0]}")
    return finite(name, array)


def matrix(name: str, value: ArrayLike, shape: tuple[int, int]) -> FloatArray:
    """A finite float64 matrix of exactly `shape`."""
    array = as_float_array(name, value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {_describe(array)}")
    return finite(name, array)


def rotation(name: str, value: ArrayLike, *, atol: float = 1e-5) -> FloatArray:
    """A (3, 3) proper rotation matrix (orthonormal, determinant +1 within `atol`)."""
    R = matrix(name, value, (3, 3))
    if not np.allclose(R.T @ R, np.eye(3), atol=atol) or np.linalg.det(R) <= 0.0:
        raise ValueError(f"{name} must be a proper rotation matrix (orthonormal, det +1)")
    return R


def rigid_transform(name: str, value: ArrayLike) -> FloatArray:
    """A (4, 4) rigid transform: rotation block, translation column, bottom row [0, 0, 0, 1]."""
    T = matrix(name, value, (4, 4))
    if not np.allclose(T[3], (0.0, 0.0, 0.0, 1.0)):
        raise ValueError(f"{name} must have bottom row [0, 0, 0, 1]")
    rotation(f"{name}[:3, :3]", T[:3, :3])
    return T


def mask2d(name: str, value: ArrayLike, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """A boolean (H, W) mask; numeric masks are read as `value != 0`."""
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the depth image's), got {_describe(array)}")
    if array.dtype == np.bool_:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be boolean or numeric, got dtype {array.dtype}")
    return array != 0


def image2d(name: str, value: ArrayLike) -> FloatArray:
    """A float64 (H, W) image; NaN and inf are kept (callers treat them as invalid pixels)."""
    array = as_float_array(name, value)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W), got {_describe(array)}")
    return array


def positive_int(name: str, value: int) -> int:
    """An int >= 1 (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def fraction(name: str, value: float, *, upper: float) -> float:
    """A float in [0, upper)."""
    number = float(value)
    if not 0.0 <= number < upper:
        raise ValueError(f"{name} must lie in [0, {upper}), got {value!r}")
    return number


def read_only(array: FloatArray) -> FloatArray:
    """Return `array` with writes disabled (for constants and frozen results)."""
    array.setflags(write=False)
    return array
