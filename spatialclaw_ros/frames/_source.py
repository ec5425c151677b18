"""Where a query's frames come from: the :class:`FrameSource` protocol, and the live buffer as one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._buffer import FrameBuffer
from ._snapshot import SnapshotIndex, write_snapshot


@runtime_checkable
class FrameSource(Protocol):
    """Frames a query can be answered from (the live buffer; later recorded bags and files)."""

    def cameras_with_frames(self) -> set[str]:
        """The cameras that hold at least one frame now."""
        ...

    def write_snapshot(
        self, directory: Path, *, cameras: Sequence[str], window_s: float, max_frames: int, target_frame: str
    ) -> SnapshotIndex:
        """Write the frames a query asks for into ``directory`` (see :func:`write_snapshot`).

        Raises:
            NoFramesError: no frame of ``cameras`` in the window.
            FrameDecodeError: a frame could not be decoded at all.
        """
        ...


class BufferSource:
    """A :class:`FrameBuffer` (the node's live frames) as a :class:`FrameSource`."""

    def __init__(self, buffer: FrameBuffer) -> None:
        """Serve the frames of ``buffer``."""
        self.buffer = buffer

    def cameras_with_frames(self) -> set[str]:
        """The buffer's cameras with a complete frame."""
        return self.buffer.cameras_with_frames()

    def write_snapshot(
        self, directory: Path, *, cameras: Sequence[str], window_s: float, max_frames: int, target_frame: str
    ) -> SnapshotIndex:
        """:func:`write_snapshot` of the buffer (through its snapshot cache)."""
        return write_snapshot(
            self.buffer,
            directory,
            cameras=cameras,
            window_s=window_s,
            max_frames=max_frames,
            target_frame=target_frame,
        )
