"""The formats the rooms share, and nothing else: it imports nothing of the package.

- :mod:`~spatialclaw_ros.protocol.errors`: :class:`ErrorCode`, mirrored by ``SpatialAnswer``.
- :mod:`~spatialclaw_ros.protocol.snapshot`: the snapshot directory a query's kernel reads.
- :mod:`~spatialclaw_ros.protocol.perception`: the perception service's wire and client.
- :mod:`~spatialclaw_ros.protocol.vlm_ask`: the ``vlm.ask`` wire between a kernel and its host.

Standard library and numpy only: kernels import it.
"""

from spatialclaw_ros.protocol.errors import ErrorCode

__all__ = ["ErrorCode"]
