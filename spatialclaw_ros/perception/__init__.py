"""Perception for the kernels: segmentation, depth and reconstruction served by one process per node.

Backends (one Protocol per capability, see :mod:`._types`): SAM3 through transformers (``sam3``),
simulator label images (``labels``), Depth-Anything-3 (``da3``) and the cameras' own registered depth
(``sensor``). Models load once, in :class:`PerceptionServiceProcess` (FastAPI on a Unix socket,
restarted if it dies) or in the Ray Serve application of :func:`build_ray_app`; the kernel's
``tools.*`` (:mod:`spatialclaw_ros.runtime.tools`) and the node's :class:`PerceptionClient` are thin
HTTP clients of one wire (:mod:`spatialclaw_ros.protocol.perception`). Missing weights never crash
anything: health reports each backend's state and calls answer PERCEPTION_UNAVAILABLE naming the
missing file and how to get it.

Heavy imports (torch, transformers, fastapi, ray) happen only where a backend or server is built.
"""

from typing import Any

from spatialclaw_ros.perception._engine import PerceptionEngine
from spatialclaw_ros.perception._process import PerceptionServiceProcess, service_environ
from spatialclaw_ros.perception._settings import PerceptionSettings
from spatialclaw_ros.perception._types import (
    DepthEstimator,
    DepthPrediction,
    Instances,
    InvalidRequestError,
    PerceptionUnavailableError,
    ReconstructionPrediction,
    Reconstructor,
    Segmenter,
    View,
)
from spatialclaw_ros.protocol.perception import PerceptionClient, PerceptionError


def build_app(engine: PerceptionEngine, token: str | None = None, load_in_background: bool = True) -> Any:
    """The FastAPI app of ``engine`` (imports fastapi on first use)."""
    from spatialclaw_ros.perception._app import build_app as _build_app

    return _build_app(engine, token, load_in_background)


def build_ray_app(settings: PerceptionSettings, **options: Any) -> Any:
    """The Ray Serve application (imports ray on first use); options as in :mod:`._ray`."""
    from spatialclaw_ros.perception._ray import build_ray_app as _build_ray_app

    return _build_ray_app(settings, **options)


__all__ = [
    "DepthEstimator",
    "DepthPrediction",
    "Instances",
    "InvalidRequestError",
    "PerceptionClient",
    "PerceptionEngine",
    "PerceptionError",
    "PerceptionServiceProcess",
    "PerceptionSettings",
    "PerceptionUnavailableError",
    "ReconstructionPrediction",
    "Reconstructor",
    "Segmenter",
    "View",
    "build_app",
    "build_ray_app",
    "service_environ",
]
