"""The snapshot directory's layout: what the host writes for a query and the kernel reads.

``index.json`` (``INDEX_NAME``; format ``FORMAT_NAME``, version ``FORMAT_VERSION``) names one record
per frame and its ``.npy`` arrays under ``images/``, ``depth/`` and ``labels/``
(:mod:`spatialclaw_ros.frames` writes it, :mod:`spatialclaw_ros.runtime.frames` reads it; the
fields are documented there). Depth files hold ``depth_unit_m`` metres per value: float32 metres
(1) or the sensor's uint16 millimetres (``MILLIMETRE_M``), 0 meaning no measurement.
"""

from __future__ import annotations

import numpy as np

INDEX_NAME = "index.json"
FORMAT_NAME = "spatialclaw-snapshot"
FORMAT_VERSION = 1
#: ``depth_unit_m`` of raw uint16 depth: millimetres (REP-118's ``16UC1``).
MILLIMETRE_M = 0.001


def depth_metres(stored: np.ndarray, unit_m: float) -> np.ndarray:
    """Depth of a snapshot file in float32 metres, NaN invalid, read-only.

    Float32 files are metres already (``unit_m`` 1) and come back as they are (memory-mapped);
    integer files hold ``unit_m`` metres per value, 0 where the sensor measured nothing (uint16
    millimetres: ``unit_m`` 0.001, REP-118).
    """
    if stored.dtype.kind == "f":
        return stored if unit_m == 1.0 else _read_only(stored * np.float32(unit_m))
    metres = np.divide(stored, np.float32(1.0 / unit_m), dtype=np.float32)  # mm / 1000 exactly as decoded
    metres[stored == 0] = np.nan
    return _read_only(metres)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
