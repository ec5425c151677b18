"""Typed errors of the frames room: a bad camera message, an empty selection, a missing pose."""

from __future__ import annotations

from collections.abc import Sequence


class FrameDecodeError(ValueError):
    """A camera message that cannot be turned into a correct image.

    Raised for unknown encodings, sizes that disagree with ``step`` or ``data``, empty images,
    undecodable compressed payloads and depth that cannot be registered to its colour image.
    The message names the camera and the offending message field.
    """

    def __init__(self, camera: str, field: str, reason: str) -> None:
        self.camera = camera
        self.field = field
        self.reason = reason
        super().__init__(f"camera {camera!r}: {field}: {reason}")

    def __reduce__(self) -> tuple[type[FrameDecodeError], tuple[str, str, str]]:
        return (type(self), (self.camera, self.field, self.reason))


class NoFramesError(LookupError):
    """A snapshot selection that holds no frame (no camera has published, or none inside the window)."""

    def __init__(self, cameras: Sequence[str], window_s: float, reason: str) -> None:
        self.cameras = tuple(cameras)
        self.window_s = window_s
        self.reason = reason
        names = ", ".join(repr(c) for c in self.cameras) or "(none)"
        super().__init__(f"no frames from cameras {names} in a window of {window_s:g} s: {reason}")

    def __reduce__(self) -> tuple[type[NoFramesError], tuple[tuple[str, ...], float, str]]:
        return (type(self), (self.cameras, self.window_s, self.reason))


class PoseLookupError(LookupError):
    """No camera pose for a frame: the pose source has no data near the stamp, or no such frame."""
