"""Camera frames without ROS: image/depth/label codecs (REP-118), the frame buffer and query snapshots.

The node hands every incoming camera message to a :class:`FrameBuffer` (raw, undecoded); a query
calls :func:`write_snapshot` to decode the frames it needs into a directory that the kernel reads
through :mod:`spatialclaw_ros.runtime.frames`.
"""

from ._buffer import CameraStats, FrameBuffer, SelectedFrame, parse_label_map
from ._cache import SnapshotCache, attach_snapshot_cache, snapshot_cache
from ._cdr import CompressedImageView, ImageView, detach, parse_compressed_image, parse_image
from ._codecs import (
    COLOR_ENCODINGS,
    DEPTH_ENCODINGS,
    LABEL_ENCODINGS,
    CompressedFields,
    ImageFields,
    check_compressed,
    check_image,
    compressed_kind,
    decode_color,
    decode_compressed_color,
    decode_compressed_depth,
    decode_depth,
    decode_labels,
    depth_to_compressed,
    depth_to_image,
    image_to_numpy,
    numpy_to_image,
    rgb_to_compressed,
)
from ._errors import FrameDecodeError, NoFramesError, PoseLookupError
from ._poses import (
    PoseSource,
    PoseTrack,
    TopicPoseSource,
    pose_matrix,
    transform_from_parameter,
)
from ._snapshot import (
    SnapshotFrame,
    SnapshotIndex,
    reproject_depth,
    resample_depth,
    warm_snapshot_cache,
    write_snapshot,
)
from ._source import BufferSource, FrameSource

__all__ = [
    "COLOR_ENCODINGS",
    "DEPTH_ENCODINGS",
    "LABEL_ENCODINGS",
    "BufferSource",
    "CameraStats",
    "CompressedFields",
    "CompressedImageView",
    "FrameBuffer",
    "FrameDecodeError",
    "FrameSource",
    "ImageFields",
    "ImageView",
    "NoFramesError",
    "PoseLookupError",
    "PoseSource",
    "PoseTrack",
    "SelectedFrame",
    "SnapshotCache",
    "SnapshotFrame",
    "SnapshotIndex",
    "TopicPoseSource",
    "attach_snapshot_cache",
    "check_compressed",
    "check_image",
    "compressed_kind",
    "decode_color",
    "decode_compressed_color",
    "decode_compressed_depth",
    "decode_depth",
    "decode_labels",
    "depth_to_compressed",
    "depth_to_image",
    "detach",
    "image_to_numpy",
    "numpy_to_image",
    "parse_compressed_image",
    "parse_image",
    "parse_label_map",
    "pose_matrix",
    "reproject_depth",
    "resample_depth",
    "rgb_to_compressed",
    "snapshot_cache",
    "transform_from_parameter",
    "warm_snapshot_cache",
    "write_snapshot",
]
